"""The shape of a case on the wire: what `POST /cases` and the intake pages accept.

One pydantic model validates both the API's JSON and the console's form (flattened field names
such as `consumer.phone`), so a rule is written once and its message names the same field."""
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from hotline.cases import validation

KINDS = ("complaint", "report", "consultation", "suggestion")
CHANNELS = ("phone", "web", "station", "walk_in", "letter", "national_platform")


class FieldErrors(Exception):
    """Invalid input, as {"path.to.field": "reason"}; the API answers 422, a page shows each message."""

    def __init__(self, fields: dict[str, str]):
        super().__init__(", ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


def _text(value):
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(str(_l("must be text")))
    if not validation.is_storable_text(value):  # NUL or a lone surrogate: PostgreSQL cannot store it
        raise ValueError(str(_l("contains a character that cannot be stored")))
    value = value.strip()
    return value or None


def _checked(check):
    return lambda v: None if _text(v) is None else check(_text(v))


Text = Annotated[str | None, BeforeValidator(_text)]
Phone = Annotated[str | None, BeforeValidator(_checked(validation.check_phone))]
Uscc = Annotated[str | None, BeforeValidator(_checked(validation.check_uscc))]
IdNumber = Annotated[str | None, BeforeValidator(_checked(validation.check_id_number))]
Amount = Annotated[Decimal | None, BeforeValidator(
    lambda v: None if v is None or v == "" else validation.check_amount(v))]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=5000)


class ConsumerIn(Strict):
    name: Text = Field(None, max_length=64)
    phone: Phone = None
    id_number: IdNumber = None
    address: Text = Field(None, max_length=255)
    anonymous: bool = False
    representative: bool = False  # 代表人 of a joint complaint (Order 121 art. 12)


class ComplainantIn(Strict):
    """One more complainant of a joint complaint (共同投诉, Order 121 art. 12), checked like the consumer."""
    name: Text = Field(None, max_length=64)
    phone: Phone = None
    id_number: IdNumber = None
    address: Text = Field(None, max_length=255)
    representative: bool = False


MAX_REPRESENTATIVES = 2  # art. 12: the complainants may choose two representatives
MAX_COMPLAINANTS = 50


class BusinessIn(Strict):
    name: Text = Field(None, max_length=255)
    address: Text = Field(None, max_length=255)
    uscc: Uscc = None
    phone: Text = Field(None, max_length=32)
    platform: Text = Field(None, max_length=128)
    shop: Text = Field(None, max_length=128)
    # The seller cannot be reached at the address the platform shows (Order 121 art. 13): the
    # complaint then goes to the platform's registered address.
    address_unreachable: bool = False


class CategoryIn(Strict):
    goods: Text = Field(None, max_length=16)
    service: Text = Field(None, max_length=16)
    issue: Text = Field(None, max_length=16)


EARLIEST = date(2000, 1, 1)  # before this a date of receipt or purchase is a typing error


def _iso_only(value):
    # pydantic would read a number as a Unix timestamp; a person means a date written out.
    if value is not None and not isinstance(value, str | date):
        raise ValueError(str(_l("not a date (YYYY-MM-DD)")))
    return value


IsoDate = Annotated[date | None, BeforeValidator(_iso_only)]
IsoDateTime = Annotated[datetime | None, BeforeValidator(_iso_only)]


class CaseIn(Strict):
    kind: Literal[KINDS]
    channel: Literal[CHANNELS]
    station: Text = Field(None, max_length=32)
    received_at: IsoDateTime = None
    consumer: ConsumerIn = Field(default_factory=ConsumerIn)
    complainants: list[ComplainantIn] = Field(default_factory=list, max_length=MAX_COMPLAINANTS)
    business: BusinessIn = Field(default_factory=BusinessIn)
    category: CategoryIn = Field(default_factory=CategoryIn)
    subject: Annotated[str, BeforeValidator(_text)] = Field(max_length=255)
    description: Text = None
    demand: Text = Field(None, max_length=2000)
    amount: Amount = None
    occurred_on: IsoDate = None
    answer: Text = None
    answer_code: Text = Field(None, max_length=16)  # the answer-bank entry the operator used
    also_report: bool = False  # the same call also reports a violation: log a linked report

    @model_validator(mode="after")
    def kind_rules(self):
        errors: dict[str, str] = {}
        if self.kind == "complaint":
            if not self.consumer.phone:
                errors["consumer.phone"] = str(_l("a complaint needs the consumer's phone"))
            if not self.consumer.name and not self.consumer.anonymous:
                errors["consumer.name"] = str(_l("a complaint needs the consumer's name"))
        if self.kind in ("complaint", "report") and not (self.business.name or self.business.platform):
            errors["business.name"] = str(_l("name the business (or the platform for an online seller)"))
        if self.answer and self.kind not in ("consultation", "suggestion"):
            errors["answer"] = str(_l("only a consultation or a suggestion is answered at once"))
        if self.also_report and self.kind != "complaint":
            errors["also_report"] = str(_l("only a complaint can carry a linked report"))
        errors.update(self._joint_complaint_errors())
        if errors:
            raise FieldErrors(errors)
        return self

    def _joint_complaint_errors(self) -> dict[str, str]:
        """共同投诉 (art. 12): several complainants of one complaint, at most two representatives in all
        (the consumer counts when marked as one)."""
        errors: dict[str, str] = {}
        if self.complainants and self.kind != "complaint":
            return {"complainants": str(_l("only a complaint can have several complainants"))}
        for i, person in enumerate(self.complainants):
            if not person.name:
                errors[f"complainants.{i}.name"] = str(_l("each complainant needs a name"))
        representatives = int(self.consumer.representative) + sum(p.representative for p in self.complainants)
        if representatives > MAX_REPRESENTATIVES:
            errors["complainants"] = str(_l("at most two representatives (Order 121 art. 12); %(count)s are marked",
                                            count=representatives))
        if self.consumer.representative and self.kind != "complaint":
            errors["consumer.representative"] = str(_l("only a joint complaint has representatives"))
        return errors

    def check_dates(self, now: datetime, tz: str) -> None:
        """Dates against the clock: neither the receipt nor the purchase can lie in the future."""
        errors = {}
        zone = ZoneInfo(tz)
        if self.received_at is not None:
            if self.received_at.tzinfo is None:
                self.received_at = self.received_at.replace(tzinfo=zone)
            if self.received_at.date() < EARLIEST:
                raise FieldErrors({"received_at": str(_l("too far in the past"))})
            try:
                self.received_at = self.received_at.astimezone(UTC)
            except OverflowError:  # the last moments of year 9999 west of UTC
                raise FieldErrors({"received_at": str(_l("cannot be in the future"))}) from None
            if self.received_at > now:
                errors["received_at"] = str(_l("cannot be in the future"))
            elif (earliest := _earliest_rulebook_day()) and self.received_at.astimezone(zone).date() < earliest:
                # No rulebook version covers the day: the case would have no deadlines (issue #8).
                errors["received_at"] = str(_l(
                    "is before %(date)s, when the earliest deadline rulebook took effect: no deadlines apply to it",
                    date=earliest.isoformat()))
        if self.occurred_on is not None and self.occurred_on < EARLIEST:
            errors["occurred_on"] = str(_l("too far in the past"))
        elif self.occurred_on is not None:
            received = (self.received_at or now).astimezone(zone).date()
            if self.occurred_on > received:
                errors["occurred_on"] = str(_l("cannot be after the case was received"))
        if errors:
            raise FieldErrors(errors)


def _earliest_rulebook_day() -> date | None:
    from hotline.deadlines.operations import earliest_effective_date  # needs the database: only when checking
    return earliest_effective_date()


_MESSAGES = {
    "missing": _l("required"),
    "extra_forbidden": _l("unknown field"),
    "literal_error": _l("must be one of the listed values"),
    "string_too_long": _l("too long"),
    "string_type": _l("must be text"),
    "bool_parsing": _l("must be true or false"),
    "bool_type": _l("must be true or false"),
    "date_from_datetime_parsing": _l("not a date (YYYY-MM-DD)"),
    "date_parsing": _l("not a date (YYYY-MM-DD)"),
    "date_type": _l("not a date (YYYY-MM-DD)"),
    "datetime_parsing": _l("not a date and time (ISO 8601)"),
    "datetime_from_date_parsing": _l("not a date and time (ISO 8601)"),
    "datetime_type": _l("not a date and time (ISO 8601)"),
    "model_type": _l("must be an object"),
    "model_attributes_type": _l("must be an object"),
    "list_type": _l("must be a list"),
    "too_long": _l("too many entries"),
}


def _message_by_family(error_type: str) -> str:
    """pydantic has dozens of error types; people get one clear message per family of them."""
    for prefix, message in (("datetime", _l("not a date and time (ISO 8601)")), ("date", _l("not a date (YYYY-MM-DD)")),
                            ("string", _l("must be text")), ("bool", _l("must be true or false")),
                            ("model", _l("must be an object")), ("dict", _l("must be an object"))):
        if error_type.startswith(prefix):
            return str(message)
    return str(_l("invalid value"))


def parse_case(data) -> CaseIn:
    """Validate a case payload, raising FieldErrors with one message per field."""
    if not isinstance(data, dict):
        raise FieldErrors({"": str(_l("the body must be a JSON object"))})
    try:
        return CaseIn.model_validate(data)
    except FieldErrors:
        raise
    except ValidationError as exc:
        fields: dict[str, str] = {}
        for err in exc.errors():
            path = ".".join(str(p) for p in err["loc"]) or ""
            if err["type"] == "value_error":
                original = err.get("ctx", {}).get("error")
                if isinstance(original, FieldErrors):
                    fields.update(original.fields)
                    continue
                message = str(original) if original else err["msg"]
            else:
                message = str(_MESSAGES.get(err["type"]) or _message_by_family(err["type"]))
            fields.setdefault(path, message)
        raise FieldErrors(fields) from None
