"""重复举报 (Order 121 art. 35; Order 20 had no such rule): a report from the same reporter about the
same business as an earlier report.

- Same reporter: the same phone number (the only identity a hotline has for every reporter).
- Same business: the same unified social credit code when both reports have one; otherwise the
  same name (or the same platform and shop), compared without spaces, punctuation or case.
- Same facts: the same issue category (when both have one) and subject plus description at least
  80% alike once normalised (difflib's ratio). This only *suggests*: the handler reads both and
  decides to decline citing art. 35 (ground R01) or, where the new report adds facts, to merge it.

A merged report closes (outcome `merged`); the earlier report, still open, keeps its bureau and
handler and its verification clock restarts from the receipt of the last report (art. 35)."""
import difflib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from hotline.auth.models import User
from hotline.cases.models import Case, CaseLink
from hotline.cases.workflow import OPEN_STATUSES
from hotline.extensions import db

SAME_FACTS_RATIO = 0.8
_TEXT_LIMIT = 1000  # enough to compare the facts; keeps difflib fast on long descriptions
_PUNCTUATION = re.compile(r"[\W_]+", re.UNICODE)


def normalise(text: str | None) -> str:
    return _PUNCTUATION.sub("", unicodedata.normalize("NFKC", text or "")).lower()


def similarity(a: str | None, b: str | None) -> float:
    a, b = normalise(a)[:_TEXT_LIMIT], normalise(b)[:_TEXT_LIMIT]
    if not a or not b:
        return 0.0
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def same_business(a: Case, b: Case) -> bool:
    if a.business_uscc and b.business_uscc:
        return a.business_uscc == b.business_uscc
    if a.business_name and b.business_name:
        return normalise(a.business_name) == normalise(b.business_name)
    if a.business_platform and b.business_platform and a.business_shop and b.business_shop:
        return (normalise(a.business_platform), normalise(a.business_shop)) == \
            (normalise(b.business_platform), normalise(b.business_shop))
    return False


def _facts(case: Case) -> str:
    return f"{case.subject or ''} {case.description or ''}"


def same_facts(a: Case, b: Case) -> bool:
    if a.category_issue and b.category_issue and a.category_issue != b.category_issue:
        return False
    return similarity(_facts(a), _facts(b)) >= SAME_FACTS_RATIO


@dataclass
class Repeat:
    earlier: Case
    same_facts: bool

    @property
    def open(self) -> bool:
        return self.earlier.status in OPEN_STATUSES


def earlier_reports(case: Case) -> list[Case]:
    """Earlier reports of the same reporter about the same business, newest first; reports merged into
    another are left out (the report they went into stands for them)."""
    if case.kind != "report" or not case.consumer_phone:
        return []
    candidates = db.session.scalars(
        select(Case).where(Case.kind == "report", Case.consumer_phone == case.consumer_phone, Case.id < case.id,
                           Case.merged_into_id.is_(None)).order_by(Case.id.desc()).limit(200))
    return [c for c in candidates if same_business(case, c)]


def find_repeat(case: Case) -> Repeat | None:
    """The earlier report this one repeats: one with the same facts first, else the newest open one,
    else the newest one."""
    earlier = earlier_reports(case)
    if not earlier:
        return None
    for other in earlier:
        if same_facts(case, other):
            return Repeat(other, True)
    newest_open = next((c for c in earlier if c.status in OPEN_STATUSES), None)
    return Repeat(newest_open or earlier[0], False)


def repeat_json(repeat: Repeat | None) -> dict | None:
    if repeat is None:
        return None
    return {"number": repeat.earlier.number, "status": repeat.earlier.status, "same_facts": repeat.same_facts}


def merge_target(case: Case, user: User, number: str | None) -> Case:
    """The open earlier report to merge into: the one named (by number), else the newest open one.
    Bureau staff merge only into a report of their own bureau (the centre merges across bureaus)."""
    from flask_babel import lazy_gettext as _l

    from hotline.cases.schemas import FieldErrors
    open_reports = [c for c in earlier_reports(case) if c.status in OPEN_STATUSES]
    if user.role == "bureau":
        open_reports = [c for c in open_reports if c.bureau_id == user.bureau_id]
    if number:
        digits = "".join(ch for ch in number if ch.isdigit())
        open_reports = [c for c in open_reports if c.number == digits]
    if not open_reports:
        raise FieldErrors({"reason": str(_l(
            "no open earlier report of this reporter about this business to merge into (Order 121 art. 35)"))})
    return open_reports[0]


def merge_into(report: Case, target: Case, actor: User, now: datetime) -> datetime:
    """合并处理: the report joins the earlier one; the earlier one's verification clock restarts from
    the receipt of the last of the two (art. 35). Returns that receipt."""
    from hotline.cases.operations import record_event
    from hotline.deadlines import operations as clocks
    if db.engine.dialect.name == "postgresql":
        db.session.refresh(target, with_for_update=True)
    last_receipt = max(report.received_at, target.received_at)
    report.merged_into_id = target.id
    clocks.meet_all(report.id, now)
    clocks.restart(target, "report_verification", last_receipt)
    for a, b in ((report, target), (target, report)):
        if db.session.scalar(select(CaseLink).where(CaseLink.case_id == a.id, CaseLink.linked_case_id == b.id)) is None:
            db.session.add(CaseLink(case_id=a.id, linked_case_id=b.id, relation="merged"))
    record_event(target, "merged_in", actor, from_status=target.status, to_status=target.status,
                 data={"merged_from": report.number, "restarted_from": last_receipt.isoformat(),
                       "restarted_on": f"{last_receipt.astimezone(ZoneInfo(current_app.config['TIMEZONE'])):%Y-%m-%d}"},
                 at=now)
    clocks.refresh_overdue(target, now)
    return last_receipt
