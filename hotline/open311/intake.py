"""POST requests: an Open311 form mapped onto the case payload of `POST /api/v1/cases`, then the same
intake (`parse_case`, `register_case`). Every intake rule stays in hotline/cases; this module only
translates names both ways: the form's fields into the case's, and the intake's field errors back into
the form's (`consumer.phone` → `attribute[consumer_phone]`).

The channel is `web` (网络): an Open311 client is an online app or a city platform through which the
consumer writes in, not a call taken by one of our operators (a phone system uses the JSON API with
channel `phone`). A station's token still logs for its station (the intake's own rule)."""
import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from hotline.auth.models import User
from hotline.cases.operations import Registered, register_case
from hotline.cases.schemas import FieldErrors, parse_case
from hotline.deadlines.display import last_day
from hotline.deadlines.operations import clocks_of
from hotline.extensions import db
from hotline.labels import label
from hotline.open311.render import Open311Error
from hotline.open311.services import Catalog, Service, attributes_of, list_values

CHANNEL = "web"
MAX_DESCRIPTION = 4000  # the specification's limit for description
_ATTRIBUTE = re.compile(r"attribute\[([^\[\]]*)\](\[\])?")
# Where an intake error lands in the form a client sent.
FORM_NAMES = {
    "subject": "attribute[subject]", "description": "description", "demand": "attribute[demand]",
    "amount": "attribute[amount]", "occurred_on": "attribute[occurred_on]",
    "consumer.name": "attribute[consumer_name]", "consumer.phone": "attribute[consumer_phone]",
    "consumer.address": "attribute[consumer_address]", "consumer.anonymous": "attribute[anonymous]",
    "business.name": "attribute[business_name]", "business.address": "address_string",
    "business.uscc": "attribute[business_uscc]", "business.phone": "attribute[business_phone]",
    "business.platform": "attribute[business_platform]", "category.issue": "attribute[issue]",
    "category.goods": "attribute[category]", "category.service": "attribute[category]", "station": "api_key",
}


@dataclass
class Submission:
    payload: dict  # as `POST /api/v1/cases` takes it
    account_id: str | None


def _value(form: MultiDict, name: str) -> str | None:
    value = form.get(name)
    value = value.strip() if isinstance(value, str) else None
    return value or None


def _attributes(form: MultiDict, service: Service, catalog: Catalog, errors: list[str]) -> dict[str, str]:
    """attribute[code]=value pairs, checked against the service definition: a code it does not define,
    more than one value, or a value not in a list is an error (a typo should not be dropped silently)."""
    offered = {a.code for a in attributes_of(service, catalog) if a.variable}
    found: dict[str, str] = {}
    for key in form:
        match = _ATTRIBUTE.fullmatch(key)
        if match is None:
            continue
        code = match.group(1)
        if code not in offered:
            errors.append(f"{key}: {_l('this service has no such attribute')}")
            continue
        values = [v.strip() for v in form.getlist(key) if v.strip()]
        if len(values) > 1:
            errors.append(f"attribute[{code}]: {_l('give one value only')}")
            continue
        choices = list_values(code, service, catalog)
        if values and choices is not None and values[0] not in {key for key, _ in choices}:
            errors.append(f"attribute[{code}]: {_l('not one of the listed values')}")
            continue
        if values:
            found[code] = values[0]
    return found


def _date(text: str | None, tz: str) -> str | None:
    """The spec's datetime attribute as the case's date: 2026-11-01, or a date and time in ISO 8601."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    moment = datetime.fromisoformat(text)  # ValueError: the caller reports it
    if moment.tzinfo is not None:
        moment = moment.astimezone(ZoneInfo(tz))
    return moment.date().isoformat()


def _coordinate(form: MultiDict, name: str, limit: int, errors: list[str]) -> float | None:
    text = _value(form, name)
    if text is None:
        return None
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is None or not -limit <= number <= limit:
        errors.append(f"{name}: {_l('must be a number from %(low)s to %(high)s', low=-limit, high=limit)}")
        return None
    return number


def _notes(form: MultiDict, errors: list[str]) -> list[str]:
    """What the form carries that the case has no field for, kept in its description for the handler:
    coordinates (we route by the business's address, never by them), an address id, an e-mail, a media URL.
    The specification requires a location: address_string, or lat and long together, or address_id."""
    notes = []
    lat, long = _coordinate(form, "lat", 90, errors), _coordinate(form, "long", 180, errors)
    if (lat is None) != (long is None):
        errors.append(f"lat, long: {_l('send both or neither')}")
    elif lat is not None:
        notes.append(f"{_l('Location (latitude, longitude)')}: {lat}, {long}")
    if not (_value(form, "address_string") or (lat is not None and long is not None) or _value(form, "address_id")):
        message = _l("a location is required: the business address as address_string, or lat and long, or "
                     "address_id")
        errors.append(f"address_string: {message}")
    for name, title, limit in (("address_id", _l("Address ID"), 64), ("email", _l("E-mail"), 254),
                               ("media_url", _l("Media"), 1000)):
        value = _value(form, name)
        if value is not None and len(value) > limit:
            errors.append(f"{name}: {_l('too long')}")
        elif value is not None:
            notes.append(f"{title}: {value}")
    return notes


def _without_none(values: dict) -> dict:
    return {key: value for key, value in values.items() if value is not None}


def read_form(form: MultiDict, service: Service, catalog: Catalog) -> Submission:
    """The case payload of an Open311 POST. Raises Open311Error (400) for what the intake cannot see:
    attributes the service does not define, unreadable dates and coordinates, a description too long."""
    errors: list[str] = []
    attributes = _attributes(form, service, catalog, errors)
    errors += [f"attribute[{a.code}]: {_l('required')}" for a in attributes_of(service, catalog)
               if a.variable and service.kind in a.required_for and a.code not in attributes]
    tz = current_app.config["TIMEZONE"]
    try:
        occurred_on = _date(attributes.get("occurred_on"), tz)
    except ValueError:
        occurred_on = None
        errors.append(f"attribute[occurred_on]: {_l('not a date (YYYY-MM-DD)')}")
    description = _value(form, "description")
    if description is not None and len(description) > MAX_DESCRIPTION:
        errors.append(f"description: {_l('at most %(count)s characters', count=MAX_DESCRIPTION)}")
    notes = _notes(form, errors)
    if errors:
        raise Open311Error(400, *errors)
    if notes:
        description = "\n\n".join([*([description] if description else []), "\n".join(notes)])
    # A Chinese name is the family name first: 张 + 三.
    given_name = "".join(filter(None, (_value(form, "last_name"), _value(form, "first_name")))) or None
    category = {"issue": attributes.get("issue")}
    if service.top is not None:
        category[service.top.axis] = attributes.get("category") or service.top.code
    payload = _without_none({
        "kind": service.kind, "channel": CHANNEL,
        "consumer": _without_none({
            "name": attributes.get("consumer_name") or given_name,
            "phone": attributes.get("consumer_phone") or _value(form, "phone"),
            "address": attributes.get("consumer_address"), "anonymous": attributes.get("anonymous") == "true"}),
        "business": _without_none({
            "name": attributes.get("business_name"), "address": _value(form, "address_string"),
            "uscc": attributes.get("business_uscc"), "phone": attributes.get("business_phone"),
            "platform": attributes.get("business_platform")}),
        "category": _without_none(category),
        "subject": attributes.get("subject"), "description": description, "demand": attributes.get("demand"),
        "amount": attributes.get("amount"), "occurred_on": occurred_on,
    })
    return Submission(payload, _value(form, "account_id"))


def describe(fields: dict[str, str]) -> list[str]:
    """The intake's field errors, named as the client's form named them."""
    return [f"{FORM_NAMES.get(name, name) or 'request'}: {message}" for name, message in fields.items()]


def register(submission: Submission, user: User) -> Registered:
    """登记 through the intake every channel uses, committed; field errors come back as a 400."""
    try:
        registered = register_case(parse_case(submission.payload), user)
        db.session.commit()
    except FieldErrors as exc:
        db.session.rollback()
        raise Open311Error(400, *describe(exc.fields)) from None
    return registered


def service_notice(registered: Registered) -> str:
    """What happens next, for the person who wrote in: the number, the first deadline, and where the
    query code went (by SMS; in this notice only when no SMS could carry it: anonymous or no phone)."""
    case = registered.case
    tz = current_app.config["TIMEZONE"]
    parts = [str(_l("%(kind)s registered with number %(number)s.", kind=label(case.kind), number=case.number))]
    running = [clock for clock in clocks_of(case.id) if clock.met_at is None]
    if running:
        parts.append(str(_l("%(clock)s due by %(day)s.", clock=label(running[0].clock),
                            day=last_day(running[0].due_at, tz).isoformat())))
    if registered.receipt_sent:
        parts.append(str(_l("The query code was sent by SMS.")))
    else:
        parts.append(str(_l("Query code: %(code)s (with the number, it shows the progress at the 12315 portal).",
                            code=registered.query_code)))
    return " ".join(parts)
