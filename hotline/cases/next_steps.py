"""What a handler is told after an action: what happened and what happens next, in words
("已受理。调解期限 2027-01-28；已短信告知消费者。"). Pure: the caller passes the clocks as they are
after the action."""
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from hotline.deadlines.display import format_due
from hotline.labels import label


@dataclass(frozen=True)
class Running:
    """A clock still running after the action: its due date, or paused (suspended mediation)."""
    clock: str
    due_at: datetime
    paused: bool = False


HEADLINES = {
    "assign": _l("Assigned to %(bureau)s."),
    "return_to_centre": _l("Returned to the centre: %(number)s. The case is no longer at your bureau."),
    "reassign": _l("Handler changed to %(handler)s."),
    "accept": _l("Accepted."),
    "decline": _l("Declined: %(ground)s."),
    "suspend": _l("Mediation suspended."),
    "resume": _l("Mediation resumed."),
    "settle": _l("Closed as mediated: %(amount)s yuan recovered."),
    "terminate": _l("Mediation terminated: %(ground)s."),
    "start_verification": _l("Verification started."),
    "request_extension": _l("Extension requested; a supervisor at the centre decides."),
    "approve_extension": _l("Extension of %(number)s approved: %(days)s more working days."),
    "refuse_extension": _l("Extension of %(number)s refused."),
    "extend": _l("Verification extended by %(days)s working days."),
    "file_case": _l("Closed: case filed."),
    "no_case": _l("Closed: no case filed (%(ground)s)."),
    "answer": _l("Answered and closed."),
    "withdraw": _l("Withdrawn and closed."),
    "transfer_out": _l("Transferred to %(receiver)s; closed here."),
    "delegate": _l("Mediation entrusted to %(body)s, which mediates in the bureau's name; the case stays with the "
                   "bureau and the mediation clock runs on."),
    "refer_violation": _l("Violation referred: report %(report)s opened at this bureau, already verifying."),
    "check_identity:done": _l("Identity check recorded: identity verified."),
    "check_identity:not_needed": _l("Identity check recorded: not needed."),
    "check_identity:refused:accepted": _l(
        "Identity check recorded: the complainant refused. Art. 23(6) may apply (an art. 16 situation found after "
        "acceptance): the termination form offers that ground first; the decision is yours."),
    "check_identity:refused": _l("Identity check recorded: the complainant refused. Art. 16(6) may apply: the "
                                 "decline form offers that ground first; the decision is yours."),
}


def compose(action: str, *, kind: str, number: str, running: list[Running], tz: str, sms: bool = False,
            notified_handler: bool = False, ground: str | None = None, bureau: str | None = None,
            receiver: str | None = None, amount: str | None = None, handler: str | None = None,
            days: int | None = None, body: str | None = None, report: str | None = None,
            variant: str | None = None) -> str:
    """The flash after an action: its headline, then each running clock's last day (or "计时暂停"
    while paused), then who was told."""
    if action == "return_to_centre":
        running = []  # the bureau's part is over; the centre's triage day is not theirs to keep
    headline = HEADLINES.get(f"{action}:{variant}") or HEADLINES.get(action)
    text = str(headline) % {"bureau": bureau or "", "number": number, "handler": handler or "",
                            "ground": ground or "", "amount": amount or "", "days": days or "",
                            "receiver": receiver or "", "body": body or "",
                            "report": report or ""} if headline else _("Done: %(action)s.", action=label(action))
    clauses = []
    for entry in running:
        if entry.paused:
            clauses.append(_("%(clock)s: clock paused", clock=label(entry.clock)))
        else:
            clauses.append(_("%(clock)s due %(date)s", clock=label(entry.clock), date=format_due(entry.due_at, tz)))
    if sms:
        clauses.append(_("the reporter was told by SMS") if kind == "report" else _("the consumer was told by SMS"))
    if notified_handler:
        clauses.append(_("the handler was notified"))
    if not clauses:
        return text
    joined = clauses[0]
    for clause in clauses[1:]:
        joined = _("%(first)s; %(second)s", first=joined, second=clause)
    joined = joined[:1].upper() + joined[1:]  # English starts a sentence; Chinese has no case
    return _("%(headline)s %(next)s", headline=text, next=_("%(clauses)s.", clauses=joined))
