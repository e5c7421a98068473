"""What the person who registered a case is told next: where it went (a bureau, or the centre's
triage and why) and its first deadline, as its last day. Routing runs after the commit (in-process
on the embedded default, on a worker otherwise), so the page asks again until it has run."""
from flask_babel import gettext as _

from hotline.cases.models import Case
from hotline.deadlines.display import format_due
from hotline.deadlines.operations import clocks_of
from hotline.labels import label


def routing_outcome(case: Case) -> dict:
    """{"done": routing has run, "text": one sentence, "reason": why (triage, or the rule that matched)}."""
    if case.status == "registered":
        return {"done": False, "text": _("Finding the responsible bureau…"), "reason": None}
    if case.status == "closed" and case.outcome == "answered":
        return {"done": True, "text": _("Answered on the spot and closed; it is not routed."), "reason": None}
    if case.status == "triage":
        return {"done": True, "text": _("Sent to the centre for triage. Why:"),
                "reason": case.routing_reason}
    if case.bureau is not None:
        text = _("Sent to %(bureau)s.", bureau=case.bureau.name)
        if case.assignee is not None:
            text = _("Sent to %(bureau)s, handler %(handler)s.", bureau=case.bureau.name,
                     handler=case.assignee.display_name)
        return {"done": True, "text": text, "reason": case.routing_reason}
    return {"done": True, "text": _("Status: %(status)s.", status=label(case.status)), "reason": None}


def first_deadline(case: Case, tz: str) -> str | None:
    """The clock that started at registration, while it runs: "投诉受理决定期限：2026-12-07"."""
    clocks = clocks_of(case.id)
    if not clocks or clocks[0].met_at is not None:
        return None
    text = _("%(clock)s due by %(day)s", clock=label(clocks[0].clock), day=format_due(clocks[0].due_at, tz))
    return text[:1].upper() + text[1:]  # the clock's name opens the sentence in English


def next_steps(case: Case, tz: str) -> dict:
    return {"number": case.number, "status": case.status, **routing_outcome(case),
            "deadline": first_deadline(case, tz)}
