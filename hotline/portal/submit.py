"""网上投诉举报: a consumer submits a complaint, a report or a consultation online. The form's values
become the same payload the console and `POST /api/v1/cases` send (channel `web`), so the case goes
through the same validation and routing; the portal adds what a form without an operator must ask
for itself (Order 121 art. 10: a complainant's real name, phone and address; the business's name
and address; the demand and the facts). No request and no Flask globals beyond the config."""
from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import update

from hotline.cases.models import CaseEvent
from hotline.cases.operations import Registered, register_case
from hotline.cases.schemas import CaseIn, FieldErrors, parse_case
from hotline.extensions import db
from hotline.portal import evidence
from hotline.types import utcnow

KINDS = ("complaint", "report", "consultation")
ACTOR = "consumer"  # the actor label of a web submission's first event: no staff member logged it
TEXT_FIELDS = ("consumer.name", "consumer.phone", "consumer.address", "business.name", "business.address",
               "business.uscc", "business.platform", "business.shop", "subject", "description", "demand", "amount",
               "occurred_on")
FILES_MAX_AGE = 24 * 3600  # files kept between the form and its confirmation, for a day


def values_from(form) -> dict[str, str]:
    """The form's own fields only, as typed (for showing the form again and for the hidden fields)."""
    values = {name: (form.get(name) or "") for name in TEXT_FIELDS}
    values["kind"] = form.get("kind") if form.get("kind") in KINDS else "complaint"
    values["consumer.anonymous"] = "1" if values["kind"] == "report" and form.get("consumer.anonymous") else ""
    return values


def payload_from(values: dict[str, str]) -> dict:
    """The parse_case payload: dotted names folded into objects, empty fields left out."""
    payload: dict = {"kind": values["kind"], "channel": "web",
                     "consumer": {"anonymous": bool(values.get("consumer.anonymous"))}}
    for name in TEXT_FIELDS:
        value = values.get(name, "").strip()
        if not value:
            continue
        if values.get("consumer.anonymous") and name in ("consumer.name", "consumer.address"):
            continue  # an anonymous report keeps no name or address, whatever was typed before ticking the box
        target = payload
        *parents, leaf = name.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    return payload


def _portal_rules(values: dict[str, str]) -> dict[str, str]:
    """What an online form must ask for because no operator is there to ask."""
    errors: dict[str, str] = {}
    kind, anonymous = values["kind"], bool(values.get("consumer.anonymous"))

    def need(name, message):
        if not values.get(name, "").strip():
            errors[name] = str(message)

    if kind == "complaint":  # art. 10(1)-(3)
        need("consumer.name", _l("a complaint needs your real name (Order 121 art. 10)"))
        need("consumer.phone", _l("a complaint needs your phone number (Order 121 art. 10)"))
        need("consumer.address", _l("a complaint needs your postal address (Order 121 art. 10)"))
        if not values.get("business.platform", "").strip():
            need("business.address", _l("give the business's address, or the platform and shop for an online purchase"))
        need("demand", _l("say what you ask the business to do (Order 121 art. 10)"))
        need("description", _l("describe what happened"))
    elif kind == "report":
        if not anonymous:
            need("consumer.name", _l("give your name, or tick “report anonymously”"))
            need("consumer.phone", _l("give your phone number, or tick “report anonymously”"))
        need("description", _l("describe what happened"))
    else:
        need("consumer.phone", _l("give a phone number for the reply"))
        need("description", _l("write your question"))
    need("subject", _l("required"))
    return errors


def check_submission(values: dict[str, str]) -> CaseIn:
    """The submission as the console would register it, or FieldErrors naming every wrong field at once."""
    errors = _portal_rules(values)
    parsed = None
    try:
        parsed = parse_case(payload_from(values))
        parsed.check_dates(utcnow(), current_app.config["TIMEZONE"])
    except FieldErrors as exc:
        errors = {**exc.fields, **errors}
    phone = parsed.consumer.phone if parsed is not None else None
    if phone and current_app.config.get("PORTAL_CONFIRM_PHONE", True) and not (len(phone) == 11 and phone[0] == "1"):
        # The code goes by SMS: a mainland mobile only (no landline can read it, and no foreign number is
        # texted at the hotline's expense).
        errors.setdefault("consumer.phone", str(_l("give a mainland mobile number: the code is sent by SMS")))
    if errors:
        raise FieldErrors(errors)
    return parsed


def phone_to_confirm(parsed: CaseIn) -> str | None:
    """The number that must be confirmed by an SMS code before registering, if any (an anonymous
    report without a phone has none; HOTLINE_PORTAL_CONFIRM_PHONE=0 turns confirmation off)."""
    if not current_app.config.get("PORTAL_CONFIRM_PHONE", True):
        return None
    return parsed.consumer.phone or None


def submit(parsed: CaseIn, stored_files: list[dict]) -> Registered:
    """登记 through the console's own operation (no staff actor), then attach the evidence; the
    caller commits. The receipt SMS with the number and query code is queued by registration."""
    registered = register_case(parsed, None)
    db.session.flush()
    db.session.execute(update(CaseEvent).where(CaseEvent.case_id == registered.case.id, CaseEvent.action == "register")
                       .values(actor_label=ACTOR))
    evidence.attach_stored(registered.case, stored_files, "consumer")
    return registered


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="portal-evidence")


def files_token(stored: list[dict]) -> str:
    """The files already checked and stored, carried by the form between its steps (a browser cannot
    re-fill a file input), signed so nobody can name another case's files."""
    return _serializer().dumps(stored) if stored else ""


def files_from_token(token: str | None) -> list[dict]:
    if not token:
        return []
    try:
        stored = _serializer().loads(token, max_age=FILES_MAX_AGE)
    except BadData:
        return []
    return stored if isinstance(stored, list) else []
