"""The statutory workflow (DESIGN.md §2) as data: which action each kind allows from which status,
who may take it, where it leads and what it needs. Pure; the operation in `actions.py` applies it."""
from dataclasses import dataclass

ALL_KINDS = frozenset({"complaint", "report", "consultation", "suggestion"})
STATUSES = ("registered", "triage", "pending", "accepted", "suspended", "verifying", "closed")
OPEN_STATUSES = frozenset({"registered", "triage", "pending", "accepted", "suspended", "verifying"})
SYSTEM = "system"  # the routing worker


@dataclass(frozen=True)
class Transition:
    action: str
    kinds: frozenset[str]
    from_statuses: frozenset[str]
    to_status: str | None  # None: the status does not change (an extension)
    roles: frozenset[str]
    outcome: str | None = None
    ground: str | None = None  # purpose of the statutory ground the action must cite
    needs_reason: bool = False
    needs_bureau: bool = False
    needs_amount: bool = False
    needs_receiver: bool = False  # transfer_out: who takes the case over
    needs_note: bool = False  # refer_violation: the finding itself


def _t(action, kinds, sources, target, roles, **extra) -> Transition:
    return Transition(action, frozenset(kinds), frozenset(sources), target, frozenset(roles), **extra)


HANDLERS = {"bureau", "supervisor", "admin"}
CENTRE = {"supervisor", "admin"}

TRANSITIONS: tuple[Transition, ...] = (
    _t("route", ALL_KINDS, {"registered"}, "pending", {SYSTEM}),  # or triage: the router decides
    _t("assign", ALL_KINDS, {"triage", "registered"}, "pending", CENTRE, needs_bureau=True),
    _t("return_to_centre", ALL_KINDS, {"pending"}, "triage", {"bureau"}, needs_reason=True),
    # 移送: a case for another city's 12315 (or the national platform) leaves this system, closed
    _t("transfer_out", ALL_KINDS, {"triage", "registered"}, "closed", CENTRE, outcome="transferred",
       needs_receiver=True),
    _t("reassign", ALL_KINDS, {"pending", "accepted", "suspended", "verifying"}, None, HANDLERS),
    # complaint (投诉)
    _t("accept", {"complaint"}, {"pending"}, "accepted", HANDLERS),
    _t("decline", {"complaint"}, {"pending"}, "closed", HANDLERS, outcome="declined", ground="decline"),
    _t("suspend", {"complaint"}, {"accepted"}, "suspended", HANDLERS, needs_reason=True),
    _t("resume", {"complaint"}, {"suspended"}, "accepted", HANDLERS),
    _t("settle", {"complaint"}, {"accepted"}, "closed", HANDLERS, outcome="mediated", needs_amount=True),
    _t("terminate", {"complaint"}, {"accepted", "suspended"}, "closed", HANDLERS, outcome="terminated",
       ground="terminate"),
    # 委托调解 (Order 121 art. 19): a consumer association or another mediation body mediates in the bureau's
    # name; the case stays with the bureau and the mediation clock runs on. Naming another body replaces it.
    _t("delegate", {"complaint"}, {"accepted", "suspended"}, None, HANDLERS, needs_reason=True),
    # art. 27: a violation found during mediation opens a linked report, already verifying
    _t("refer_violation", {"complaint"}, {"accepted", "suspended"}, None, HANDLERS, needs_note=True),
    # 身份核验 (art. 10, 16(6)): done, refused or not needed; a refusal points to the art. 16(6) ground
    _t("check_identity", {"complaint"}, {"pending", "accepted"}, None, HANDLERS, needs_reason=True),
    # report (举报)
    _t("start_verification", {"report"}, {"pending"}, "verifying", HANDLERS),
    _t("file_case", {"report"}, {"verifying"}, "closed", HANDLERS, outcome="case_filed"),
    _t("no_case", {"report"}, {"verifying"}, "closed", HANDLERS, outcome="no_case", ground="no_case"),
    _t("decline", {"report"}, {"pending"}, "closed", HANDLERS, outcome="declined", ground="report_decline"),
    # 合并处理 (Order 121 art. 35): new facts from the same reporter about the same business join the
    # earlier open report (`reason`: its number, else the newest one), whose clock restarts
    _t("merge_report", {"report"}, {"triage", "pending", "verifying"}, "closed", HANDLERS, outcome="merged"),
    # 延期, offered after the decisions: +15 working days once (penalty procedure art. 18), asked for by
    # the handler and approved by the centre; the centre may also extend directly (the API's `extend`)
    _t("request_extension", {"report"}, {"pending", "verifying"}, None, {"bureau"}, needs_reason=True),
    _t("approve_extension", {"report"}, {"pending", "verifying"}, None, CENTRE),
    _t("refuse_extension", {"report"}, {"pending", "verifying"}, None, CENTRE, needs_reason=True),
    _t("extend", {"report"}, {"pending", "verifying"}, None, CENTRE, needs_reason=True),
    # consultation (咨询) and suggestion (建议)
    _t("answer", {"consultation", "suggestion"}, {"registered", "pending", "triage"}, "closed",
       {"operator", "station", "bureau", "supervisor", "admin"}, outcome="answered", needs_reason=True),
    # any open case: the consumer withdraws (told to the hotline or to the handler)
    _t("withdraw", ALL_KINDS, OPEN_STATUSES, "closed", {"operator", "bureau", "supervisor", "admin"},
       outcome="withdrawn"),
)

ACTIONS = tuple(sorted({t.action for t in TRANSITIONS}))


def transition_for(kind: str, status: str, action: str) -> Transition | None:
    """The transition this action takes from this status for this kind, or None if not allowed now."""
    for t in TRANSITIONS:
        if t.action == action and kind in t.kinds and status in t.from_statuses:
            return t
    return None


_SIDE_ACTIONS = ("reassign", "return_to_centre", "transfer_out", "withdraw")  # shown after the steps forward
# Within the steps forward, the ones that pause or hand over the work come after those that finish it
# (an accepted complaint opens on "settle", not on "suspend").
_PAUSES = {"suspend": 1, "delegate": 1, "refer_violation": 1, "check_identity": 1}
EXTENSION_ACTIONS = frozenset({"request_extension", "approve_extension", "refuse_extension", "extend"})


def actions_for(kind: str, status: str, role: str) -> list[Transition]:
    """What a user of this role may do next, for the action forms on the case page: the steps forward
    first, then the side steps, withdrawal always last (it ends the case on the consumer's word)."""
    allowed = [t for t in TRANSITIONS if kind in t.kinds and status in t.from_statuses and role in t.roles]
    return sorted(allowed, key=lambda t: (t.action in _SIDE_ACTIONS, t.action == "withdraw",
                                          _PAUSES.get(t.action, 0)))


def extension_actions(extension: str) -> frozenset[str]:
    """Which extension actions fit the state of a report's extension: `available` (none asked for
    yet), `pending` (a request waits for the centre), `used` (granted once: never again) or `none`
    (no running verification period)."""
    return {"available": frozenset({"request_extension", "extend"}),
            "pending": frozenset({"approve_extension", "refuse_extension"})}.get(extension, frozenset())

