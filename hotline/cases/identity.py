"""身份核验 (Order 121 art. 10): the handler records whether the complainant's identity was checked. A
complainant who uses another's name or refuses the check is declined under art. 16(6); the page points
the handler to that ground, and the handler decides."""
from flask_babel import lazy_gettext as _l

from hotline.cases.schemas import FieldErrors

RESULTS = ("done", "refused", "not_needed")
REFUSED = "refused"
# Order 121's code for art. 16(6); other packs may number it differently, so the legal basis decides too.
IDENTITY_GROUND_CODE = "D08"


def check_result(reason: str | None) -> str:
    """The recorded result, or a clear message naming the allowed values."""
    if reason not in RESULTS:
        raise FieldErrors({"reason": str(_l("must be one of: done, refused, not_needed"))})
    return reason


# After acceptance an art. 16 situation ends mediation instead (art. 23(6)).
TERMINATION_GROUND_CODE = "T06"


def _basis(legal_basis: str | None) -> str:
    return (legal_basis or "").replace("(", "（").replace(")", "）")


def is_identity_ground(code: str | None, legal_basis: str | None) -> bool:
    """The decline ground of art. 16(6) (冒用他人名义或者拒不配合核验真实身份信息)."""
    basis = _basis(legal_basis)
    return code == IDENTITY_GROUND_CODE or ("第16条" in basis and "（六）" in basis) or "第十六条第（六）" in basis


def is_termination_ground(code: str | None, legal_basis: str | None) -> bool:
    """The termination ground of art. 23(6): an art. 16 or art. 42 situation found after acceptance."""
    basis = _basis(legal_basis)
    return code == TERMINATION_GROUND_CODE or ("第23条" in basis and "（六）" in basis)


def suggested_decline_ground(identity_check: str | None, grounds) -> str | None:
    """The code of the art. 16(6) ground among the case's decline grounds when the complainant refused the
    identity check; None otherwise (or when the case's rulebook has no such ground, as under Order 20)."""
    return _suggested(identity_check, grounds, is_identity_ground)


def suggested_grounds(identity_check: str | None, grounds: dict) -> dict[str, str]:
    """For the case page: purpose → the ground a refused identity check points to, among the grounds offered
    (decline while pending: art. 16(6); terminate once accepted: art. 23(6))."""
    found = {"decline": _suggested(identity_check, grounds.get("decline", []), is_identity_ground),
             "terminate": _suggested(identity_check, grounds.get("terminate", []), is_termination_ground)}
    return {purpose: code for purpose, code in found.items() if code}


def _suggested(identity_check, grounds, matches) -> str | None:
    if identity_check != REFUSED:
        return None
    for ground in grounds:
        if matches(ground.code, ground.legal_basis):
            return ground.code
    return None
