"""Display names of the code values (kinds, channels, statuses, outcomes, roles, clocks, actions).
The codes are the API's; people see these translatable names."""
from flask_babel import lazy_gettext as _l

LABELS = {
    # kinds
    "complaint": _l("complaint"), "report": _l("report"), "consultation": _l("consultation"),
    "suggestion": _l("suggestion"),
    # channels
    "phone": _l("phone"), "web": _l("web"), "station": _l("station"), "walk_in": _l("walk-in"),
    "letter": _l("letter"), "national_platform": _l("national platform"),
    # statuses
    "registered": _l("registered"), "triage": _l("triage"), "pending": _l("pending"),
    "accepted": _l("accepted"), "suspended": _l("suspended"), "verifying": _l("verifying"),
    "closed": _l("closed"),
    # outcomes
    "declined": _l("declined"), "mediated": _l("mediated"), "terminated": _l("terminated"),
    "case_filed": _l("case filed"), "no_case": _l("no case"), "answered": _l("answered"),
    "withdrawn": _l("withdrawn"), "transferred": _l("transferred out"),
    # repeat reports (Order 121 art. 35): merged into an earlier report
    "merged": _l("merged into an earlier report"), "merge_report": _l("merge into the earlier report"),
    "merged_in": _l("a later report merged in"),
    "system": _l("system"), "escalate": _l("escalated: overdue"), "reminder": _l("reminder"),
    "escalation": _l("overdue"), "holiday": _l("holiday"), "workday": _l("make-up working day"),
    # roles
    "operator": _l("operator"), "bureau": _l("bureau staff"), "supervisor": _l("supervisor"),
    "admin": _l("administrator"),
    # rulebook versions (statutory grounds, deadline rules)
    "order-20": _l("Order 20"), "order-121": _l("Order 121"),
    # actions
    "register": _l("register"), "answer": _l("answer"), "route": _l("route"), "assign": _l("assign to a bureau"),
    "return_to_centre": _l("return to the centre"), "reassign": _l("change handler"), "accept": _l("accept"),
    "decline": _l("decline"), "suspend": _l("suspend mediation"), "resume": _l("resume mediation"),
    "settle": _l("settle (mediated)"), "terminate": _l("terminate mediation"),
    "start_verification": _l("start verification"), "extend": _l("extend verification"),
    "file_case": _l("file a case"), "withdraw": _l("withdraw"),
    "transfer_out": _l("transfer out"), "request_extension": _l("request an extension"),
    "approve_extension": _l("approve the extension"), "refuse_extension": _l("refuse the extension"),
    "ext_approved": _l("extension approved"), "ext_refused": _l("extension refused"),
    "receiver": _l("receiver"), "confirm": _l("confirmation"),
    # the consumer portal: rating a closed case, adding information (actor label "consumer")
    "rate": _l("consumer rating"), "consumer_info": _l("consumer added information"), "consumer": _l("consumer"),
    "reason": _l("reason"), "note": _l("note"), "recovered_amount": _l("money recovered"),
    "assignee": _l("handler"), "version": _l("version"),
    # delegation (art. 19), violations found in mediation (art. 27), the identity check (art. 10, 16(6))
    "delegate": _l("entrust mediation"), "refer_violation": _l("refer a violation found"),
    "check_identity": _l("record the identity check"), "identity:done": _l("identity verified"),
    "identity:refused": _l("refused the identity check"), "identity:not_needed": _l("identity check not needed"),
    "violation": _l("violation found in mediation"), "same_call": _l("same call"),
    # clocks
    "complaint_decision": _l("decision on the complaint"), "mediation": _l("mediation"),
    "mediation_notice": _l("telling parties mediation ended"), "report_verification": _l("report verification"),
    "reporter_notice": _l("telling the reporter"), "consultation_reply": _l("reply"),
    "violation_verification": _l("verifying a violation found in mediation"),
    "jurisdiction_dispute": _l("jurisdiction dispute"),
    # why mediation is suspended (art. 22, art. 21)
    "testing": _l("testing or appraisal"), "recusal": _l("recusal request"),
    # SMS kinds and states
    "receipt": _l("receipt"), "decision": _l("decision"), "closure": _l("closure"), "queued": _l("queued"),
    "sent": _l("sent"), "delivered": _l("delivered"),
    "failed": _l("failed"), "sending": _l("sending"), "cancelled": _l("cancelled"), "alert": _l("consumer alert"),
    "rating": _l("rating invitation"), "opted_out": _l("the number opted out"),
    "daily_cap": _l("daily limit for this number reached"),
    "staff": _l("staff"),  # who uploaded an evidence file (consumer or staff)
}


def label(code: str | None) -> str:
    if code is None:
        return ""
    return str(LABELS.get(code, code))
