"""调解中发现违法线索 (Order 121 art. 27; Order 20 art. 23): a violation found while mediating a complaint
is verified within 15 working days of the finding (+15 once, approved by the head of the bureau), under
the administrative penalty procedure. The finding opens a report of the same bureau, already being
verified, linked both ways to the complaint."""
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app

from hotline.auth.models import User
from hotline.cases import numbers, personal_data
from hotline.cases.models import Case, CaseLink
from hotline.cases.operations import allocate_case_number, record_event
from hotline.deadlines import operations as clocks
from hotline.extensions import db

CLOCK = "violation_verification"
RELATION = "violation"
SUBJECT_PREFIX = "调解中发现违法线索："


def open_violation_report(complaint: Case, user: User, finding: str, now: datetime) -> Case:
    """The report, registered at the finding: same business and bureau and handler, status `verifying`,
    the finding as its description, its own verification clock, no reporter (the bureau found it, so
    nobody is sent a receipt or told the filing decision). Its rulebook is the one in force on the day
    of the finding, as for any case received that day."""
    tz = current_app.config["TIMEZONE"]
    number = allocate_case_number(now.astimezone(ZoneInfo(tz)).date())
    report = Case(
        number=number, kind="report", channel=complaint.channel, status="verifying", received_at=now,
        registered_at=now, bureau_id=complaint.bureau_id, assignee_id=complaint.assignee_id or None,
        created_by_id=user.id, consumer_anonymous=False,
        business_name=complaint.business_name, business_address=complaint.business_address,
        business_uscc=complaint.business_uscc, business_phone=complaint.business_phone,
        business_platform=complaint.business_platform, business_shop=complaint.business_shop,
        category_goods=complaint.category_goods, category_service=complaint.category_service,
        category_issue=complaint.category_issue, subject=(SUBJECT_PREFIX + complaint.subject)[:255],
        description=finding, division_code=complaint.division_code,
        routing_rule=complaint.routing_rule, routing_reason=complaint.routing_reason,
        # nobody holds a query code for it: a random one, never shown
        query_code_hash=personal_data.hash_query_code(number, numbers.new_query_code()),
        rulebook_version=clocks.rulebook_version_for(now))
    db.session.add(report)
    db.session.flush()
    record_event(report, "refer_violation", user, from_status=None, to_status="verifying", note=finding,
                 data={"complaint": complaint.number}, at=now)
    clocks.start_clock(report, CLOCK, now)
    db.session.add_all([CaseLink(case_id=complaint.id, linked_case_id=report.id, relation=RELATION),
                        CaseLink(case_id=report.id, linked_case_id=complaint.id, relation=RELATION)])
    return report
