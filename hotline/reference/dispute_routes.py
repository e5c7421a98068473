"""What a declined complainant is told: the reason, and the other routes for a consumer dispute.

Order 121 art. 15: a decision not to accept a complaint tells the complainant the reason and the other
routes of Consumer Rights Protection Law art. 39 (a complaint to an administrative department is
the route just declined). Order 20 cases are told the same: the routes are the law for both."""
from hotline.reference.models import StatutoryGround

ROUTES_BASIS = "《中华人民共和国消费者权益保护法》第39条"
# art. 39 (一), (二), (四), (五), in the law's words; the lookup page and the SMS show these.
OTHER_ROUTES = (
    ("negotiation", "与经营者协商和解"),
    ("mediation", "请求消费者协会或者依法成立的其他调解组织调解"),
    ("arbitration", "根据与经营者达成的仲裁协议提请仲裁机构仲裁"),
    ("lawsuit", "向人民法院提起诉讼"),
)


def ground_data(ground: StatutoryGround, kind: str, action: str) -> dict:
    """Stored on the decline (or termination, or no-case) event: the ground as cited, of the case's
    version, and for a declined complaint the routes it was told, so a later look-up shows exactly
    what the consumer was told."""
    data = {"ground": ground.code, "version": ground.version, "text": ground.text, "basis": ground.legal_basis}
    if kind == "complaint" and action == "decline":
        data.update(routes=[text for _, text in OTHER_ROUTES], routes_basis=ROUTES_BASIS)
    return data


def sms_params(ground: StatutoryGround) -> dict:
    """The decline SMS's parameters (templates COMPLAINT_DECLINED, REPORT_DECLINED in hotline/sms)."""
    return {"reason": ground.text, "basis": ground.legal_basis}
