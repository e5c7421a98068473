"""One registration per intake form (issue #12 item 7): the page carries a one-time form token; the
post that registers answers with a redirect (post/redirect/get), and the page it leads to shows the
confirmation. A refresh, a double click or a second tab sending the same form again finds the token's
idempotency key taken and is sent to the case the first post made: no second case, no second SMS (the
receipt is queued in the first post's transaction only)."""
import json
import re
import secrets
from datetime import timedelta
from types import SimpleNamespace

from flask import request, session
from flask_login import current_user
from sqlalchemy import select

from hotline.api import idempotency
from hotline.api.models import IdempotencyKey
from hotline.cases.models import Case
from hotline.cases.operations import Registered
from hotline.cases.repeats import Repeat

FIELD = "form_token"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
DONE = "intake_registered"  # session: the form key whose confirmation the next page shows
# A client that posts without the page's token (a script): the same form from the same user within this
# time is taken for a repeat as well.
UNTOKENED_REPEAT = timedelta(minutes=10)


def new_token() -> str:
    return secrets.token_urlsafe(18)


def token_to_keep() -> str:
    """The token a form shown again carries: the posted one (its key was released or never claimed), else new."""
    posted = request.form.get(FIELD, "")
    return posted if _TOKEN.fullmatch(posted) else new_token()


def _scope() -> str:
    return f"user:{current_user.id}"


def claim_form(payload: dict) -> idempotency.Claim:
    """Claim this form's key; raises idempotency.KeyReused (the token came back with other content) or
    idempotency.InProgress (the first post still runs after the wait)."""
    digest = idempotency.body_hash(request.path + "\n" + json.dumps(payload, sort_keys=True, ensure_ascii=False))
    token = request.form.get(FIELD, "")
    if _TOKEN.fullmatch(token):
        return idempotency.claim(_scope(), f"form:{token}", f"POST {request.path}", digest)
    return idempotency.claim(_scope(), f"form:auto:{digest}", f"POST {request.path}", digest,
                             keep=UNTOKENED_REPEAT)


def confirmation(registered: Registered) -> dict:
    """What the confirmation box shows, kept on the key for the page after the redirect (and for a repeat)."""
    linked = registered.linked
    repeat = registered.repeat_of
    return {"number": registered.case.number, "query_code": registered.query_code,
            "receipt_sent": registered.receipt_sent, "complainant_receipts": registered.complainant_receipts,
            "linked": {"number": linked.case.number, "query_code": linked.query_code} if linked else None,
            "repeat_of": {"number": repeat.earlier.number, "same_facts": repeat.same_facts} if repeat else None}


def remember(claimed: idempotency.Claim) -> None:
    session[DONE] = claimed.row_id


def registered_to_show():
    """The registration the redirect led to, shaped as the template reads a `Registered`; None when none
    (once shown it is forgotten: the next visit is an empty form)."""
    row_id = session.pop(DONE, None)
    if not isinstance(row_id, int):
        return None
    from hotline.extensions import db
    row = db.session.scalar(select(IdempotencyKey).where(IdempotencyKey.id == row_id,
                                                         IdempotencyKey.scope == _scope()))
    data = row.response if row is not None and row.status_code is not None else None
    case = _case(data.get("number")) if isinstance(data, dict) else None
    if case is None:
        return None
    linked = data.get("linked") or None
    repeat = data.get("repeat_of") or None
    earlier = _case(repeat["number"]) if repeat else None
    return SimpleNamespace(
        case=case, query_code=data["query_code"], receipt_sent=data["receipt_sent"],
        complainant_receipts=data["complainant_receipts"],
        linked=SimpleNamespace(case=_case(linked["number"]), query_code=linked["query_code"]) if linked else None,
        repeat_of=Repeat(earlier, repeat["same_facts"]) if earlier is not None else None)


def _case(number: str | None) -> Case | None:
    from hotline.extensions import db
    return db.session.scalar(select(Case).where(Case.number == number)) if number else None
