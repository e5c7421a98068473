"""举报人信息保密 (Order 121 art. 37): a reporter's name and address are confidential. They are shown
only to the handling bureau and the centre (supervisor, admin), and each such unmasked view is
written to the access log; everyone else (operators, stations) sees them masked, in the API, on the
pages and in exports.

The same person is also protected on a case that names them and is linked to their report from the
same call (a complaint that also reported a violation): otherwise the complaint would show the
reporter's name and address in full next to a link to the report."""
import re

from flask import current_app, g, has_request_context, request_tearing_down
from sqlalchemy import select

from hotline.auth.models import AccessLog, User
from hotline.cases.access import may_see_personal_data
from hotline.cases.models import Case, CaseLink
from hotline.cases.validation import mask_name
from hotline.extensions import db

# The linked cases of one call share the caller's details (hotline/cases/operations.py, register_case).
SAME_PERSON = "same_call"
MASK = "****"
# What stays of an address: its administrative part down to the district or county (辽宁省鞍山市铁西区),
# enough to see where a case comes from, not enough to find a house. A 小区 or 社区 is not a district.
_ADMINISTRATIVE = re.compile(r"^(?:[\u4e00-\u9fff]{2,3}省|[\u4e00-\u9fff]{2,4}自治区)?"
                             r"(?:[\u4e00-\u9fff]{2,6}?(?:市|自治州|地区|盟)(?!场))?"
                             r"(?:[\u4e00-\u9fff]{1,5}?(?:(?<![小社园校景营厂])区|县|旗|市)(?!场))?")
_VIEWS_KEY = "hotline_unmasked_views"


def mask_address(address: str | None) -> str | None:
    """辽宁省鞍山市铁西区兴盛街道人民路88号 → 辽宁省鞍山市铁西区****; no administrative part: ****."""
    if not address:
        return address
    return _ADMINISTRATIVE.match(address.strip()).group(0) + MASK


def _linked_to_own_report(case: Case) -> bool:
    if case.kind == "report":
        return False
    memo = g.setdefault("hotline_reporter_links", {}) if has_request_context() else {}
    if case.id not in memo:
        memo[case.id] = db.session.scalar(
            select(CaseLink.id).join(Case, Case.id == CaseLink.linked_case_id)
            .where(CaseLink.case_id == case.id, CaseLink.relation == SAME_PERSON, Case.kind == "report")
            .limit(1)) is not None
    return memo[case.id]


def is_confidential(case: Case) -> bool:
    """Whether the case's caller is a reporter whose details art. 37 keeps confidential."""
    if not (case.consumer_name or case.consumer_address):
        return False
    return case.kind == "report" or _linked_to_own_report(case)


def caller_identity(case: Case, viewer: User | None) -> dict:
    """The caller's name and address as this viewer may see them: {"name", "address", "confidential"}.
    An unmasked view of a confidential caller is written to the access log."""
    if not is_confidential(case):
        return {"name": case.consumer_name, "address": case.consumer_address, "confidential": False}
    if viewer is not None and may_see_personal_data(viewer, case):
        record_unmasked_view(viewer, case)
        return {"name": case.consumer_name, "address": case.consumer_address, "confidential": True}
    return {"name": mask_name(case.consumer_name), "address": mask_address(case.consumer_address),
            "confidential": True}


def record_unmasked_view(viewer: User, case: Case, what: str = "reporter:name,address") -> None:
    """Write the view to the access log: in a request, once per case, before the response is sent
    (a GET commits nothing else), or, for a download streamed after that, when it ends; outside a
    request (the CLI), into the caller's transaction."""
    if not has_request_context():
        db.session.add(AccessLog(user_id=viewer.id, case_id=case.id, what=what))
        return
    views = g.get(_VIEWS_KEY)
    if views is None:
        views = g.setdefault(_VIEWS_KEY, {})
        from flask import after_this_request
        after_this_request(_write_access_log)
    views.setdefault((viewer.id, case.id), what)


def _add_rows(views: dict) -> None:
    db.session.add_all(AccessLog(user_id=user_id, case_id=case_id, what=what)
                       for (user_id, case_id), what in views.items())


def _write_access_log(response):
    """The access log rows of this request, committed before the response leaves. If they cannot be
    written, the response is not sent either: no unmasked view goes unrecorded."""
    views = g.pop(_VIEWS_KEY, {})
    if not views:
        return response
    try:
        _add_rows(views)
        db.session.commit()
    except Exception:
        db.session.rollback()
        current_app.logger.exception("the access log could not be written; the response is withheld")
        return _unavailable()
    return response


def _unavailable():
    from hotline.api import is_api_request
    from hotline.api.errors import error_response
    if is_api_request():
        return error_response(503, "the access log is unavailable; try again shortly")
    from flask import make_response

    from hotline.errors import error_page
    return make_response(error_page(503))


@request_tearing_down.connect
def _write_streamed_views(_sender, **_extra) -> None:
    """Views recorded while a download streamed (hotline/stats/export.py), after the response hook
    ran: written when the request ends."""
    views = g.pop(_VIEWS_KEY, None)
    if not views:
        return
    try:
        _add_rows(views)
        db.session.commit()
    except Exception:
        db.session.rollback()
        current_app.logger.exception("the access log of a streamed download could not be written: %s", views)
