"""What the API answers (DESIGN.md §3), as pydantic models: the OpenAPI document (hotline/api/openapi.py) is
generated from them, and tests/conftest.py checks every JSON answer of the test suite against it.

Response models forbid fields they do not name, so a field added to an answer without its model fails the
tests instead of going undocumented. Times are kept as the strings the API sends (ISO 8601 with the UTC
offset): a model that parsed them would write them back in another form, and the contract is the text."""
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hotline.cases.schemas import CHANNELS, KINDS
from hotline.cases.workflow import ACTIONS, STATUSES

DateTime = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
Date = Annotated[str, Field(json_schema_extra={"format": "date"})]
Money = Annotated[str, Field(pattern=r"^-?[0-9]+\.[0-9]{2}$", description="yuan, two decimal places, as text")]
Kind = Literal[KINDS]
Channel = Literal[CHANNELS]
Status = Literal[STATUSES]


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def sometimes(description: str) -> Any:
    """A field present in some answers only (never null when present): documented as not required."""
    return Field(None, description=description, json_schema_extra=_no_default)


class Out(BaseModel):
    """A response body: every field named, nothing else."""
    model_config = ConfigDict(extra="forbid")


# ---- the one error shape ---------------------------------------------------------------------------------

class ErrorDetail(Out):
    code: str = Field(description="bad_request, unauthorized, forbidden, not_found, method_not_allowed, conflict, "
                                  "too_large, unsupported_media_type, invalid_fields, too_many_requests, "
                                  "unavailable", examples=["invalid_fields"])
    message: str
    fields: dict[str, str] = Field(description="for 422: the reason per field, by its dotted path (`consumer.phone`)")


class Error(Out):
    """Every failure of the API: 400 unreadable body, 401, 403, 404, 409 not allowed now, 413 too large,
    415 not JSON, 422 invalid fields, 429 too many requests, 503 a dependency is down."""
    error: ErrorDetail


# ---- requests that have no pydantic model of their own elsewhere ------------------------------------------

class ActionIn(BaseModel):
    """`POST /cases/{number}/actions` (hotline/cases/actions.py `parse_action` reads it)."""
    model_config = ConfigDict(extra="forbid")

    action: Literal[ACTIONS]
    reason: str | None = Field(None, description="the reason, or the statutory ground's code; delegate: the mediation "
                                                 "body's name; check_identity: done, refused or not_needed")
    note: str | None = Field(None, description="refer_violation: the violation found (required)")
    bureau: str | None = Field(None, description="for assign")
    recovered_amount: str | None = Field(None, description="yuan, for settle")
    assignee: str | None = Field(None, description="user name, for reassign")
    receiver: str | None = Field(None, max_length=128,
                                 description="for transfer_out: the other city's 12315 or the national platform")
    confirm: bool = Field(False, description="settle: confirms a recovered amount far above the amount in dispute "
                                             "(otherwise 422)")
    version: int | None = Field(None, description="the version read; 409 if the case changed since")


class CaseListQuery(BaseModel):
    """The filters and paging of `GET /cases`."""
    status: str | None = Field(None, description="a status code")
    kind: str | None = None
    bureau: str | None = Field(None, description="a bureau's code")
    channel: str | None = None
    overdue: str | None = Field(None, description="`1` or `true`: overdue cases only")
    q: str | None = Field(None, description="words of the number, subject, business or caller")
    page: int = Field(1, ge=1, le=100_000)
    per_page: int = Field(50, ge=1, le=200)


class AnswerQuery(BaseModel):
    q: str | None = Field(None, description="words to look for in the answers' titles, bodies and keywords")


# ---- pieces of a case ------------------------------------------------------------------------------------

class BureauRef(Out):
    code: str
    name: str


class StationRef(Out):
    code: str
    name: str


class DueDate(Out):
    clock: str
    due: DateTime


class Deadline(Out):
    """A statutory clock (DESIGN.md §2, Deadlines)."""
    clock: str = Field(examples=["complaint_decision"])
    due: DateTime = Field(description="24:00 local time of the last day, in UTC")
    met_at: DateTime | None
    overdue: bool
    rule_version: str = Field(description="the rulebook version in force on the day of receipt")
    length: int
    unit: str = Field(examples=["working_days"])
    paused: bool
    calendar_warning: bool = Field(description="the year has no official calendar: weekends only were counted")


class Event(Out):
    action: str
    at: DateTime
    actor: str
    from_status: str | None
    to_status: str | None
    reason: str | None
    note: str | None


class Message(Out):
    """An SMS about the case; the number masked."""
    kind: str
    to: str = Field(description="masked: 138****5678")
    status: str = Field(examples=["queued", "sent", "delivered", "failed"])
    sent_at: DateTime | None
    delivered_at: DateTime | None
    not_before: DateTime | None = Field(description="quiet hours: not sent before this")
    error_code: str | None


class CaseLinkOut(Out):
    number: str
    kind: Kind
    relation: str


class Routing(Out):
    rule: str | None = Field(description="the routing rule that matched")
    reason: str | None


class RepeatOf(Out):
    """重复举报 (Order 121 art. 35): an earlier report of the same reporter about the same business."""
    number: str
    status: Status
    same_facts: bool


class MergedInto(Out):
    number: str
    status: Status


class StaffRating(Out):
    """一事一评: the consumer's rating once the case closed."""
    score: int = Field(ge=1, le=5)
    comment: str | None
    bureau_at_fault: bool | None
    rated_at: DateTime


class Complainant(Out):
    """共同投诉 (Order 121 art. 12): a further complainant, masked like the consumer."""
    position: int
    name: str | None
    phone: str | None
    id_number: str | None
    address: str | None
    representative: bool


class Flag(Out):
    """A factor of Order 121 art. 17 for the bureau to weigh (never an automatic refusal)."""
    code: str = Field(examples=["repeat_business"])
    factor: str = Field(description="the article that names the factor")
    message: str
    cases: list[str] = Field(description="the other cases behind it, newest first")


class BusinessName(Out):
    name: str | None


class MaskedConsumer(Out):
    name: str | None = Field(description="a confidential reporter's name is masked (Order 121 art. 37)")
    phone: str | None = Field(description="masked")


class Consumer(Out):
    name: str | None = Field(description="a confidential reporter's name is masked for those who may not see it "
                                         "(Order 121 art. 37)")
    phone: str | None = Field(description="masked")
    id_number: str | None = Field(description="masked: the last four characters")
    address: str | None
    anonymous: bool
    confidential: bool
    representative: bool = sometimes("complaints: a representative of the complainants (art. 12)")


class Business(Out):
    name: str | None
    address: str | None
    uscc: str | None
    phone: str | None
    platform: str | None
    shop: str | None


class Category(Out):
    goods: str | None
    service: str | None
    issue: str | None


# ---- the case endpoints ----------------------------------------------------------------------------------

class LinkedCreated(Out):
    """The report logged with a complaint in the same call (`also_report`)."""
    number: str
    status: Status
    query_code: str


class CaseCreated(Out):
    """`POST /cases` 201: the query code is shown once; only its hash is kept."""
    number: str = Field(description="13 digits and a check digit")
    status: Status
    query_code: str = Field(description="6 characters, shown once")
    deadlines: list[DueDate]
    repeat_of: RepeatOf | None
    linked: LinkedCreated = sometimes("with `also_report`: the linked report")


class CaseSummary(Out):
    number: str
    kind: Kind
    channel: Channel
    status: Status
    outcome: str | None
    subject: str
    received_at: DateTime
    business: BusinessName
    consumer: MaskedConsumer
    bureau: BureauRef | None
    station: str | None = Field(description="the station's code, for cases logged at a station")
    overdue: bool


class CaseList(Out):
    items: list[CaseSummary]
    total: int
    page: int
    per_page: int


class CallerCase(CaseSummary):
    received_on: Date = Field(description="the day of receipt, local time")
    received_local: str = Field(description="local date and time, YYYY-MM-DD HH:MM")


class CallerHistory(Out):
    """A caller's earlier cases, newest first (the operator's screen, phone systems)."""
    phone: str = Field(description="the number, normalised")
    items: list[CallerCase]


class CaseDetail(Out):
    """`GET /cases/{number}`, and the answer of every action."""
    number: str
    kind: Kind
    channel: Channel
    status: Status
    outcome: str | None
    subject: str
    received_at: DateTime
    registered_at: DateTime
    closed_at: DateTime | None
    station: StationRef | None
    bureau: BureauRef | None
    assignee: str | None
    overdue: bool
    consumer: Consumer
    business: Business
    category: Category
    description: str | None
    demand: str | None
    amount: Money | None
    occurred_on: Date | None
    answer: str | None
    recovered_amount: Money | None
    routing: Routing
    events: list[Event]
    deadlines: list[Deadline]
    messages: list[Message]
    links: list[CaseLinkOut]
    version: int = Field(description="send it back with an action: 409 if the case changed meanwhile")
    rating: StaffRating | None
    delegated_to: str | None = Field(description="委托调解 (art. 19): the mediation body")
    identity_check: str | None
    complainants: list[Complainant] = sometimes("complaints: the further complainants (art. 12)")
    repeat_of: RepeatOf | None = sometimes("reports: an earlier report of the same reporter (art. 35)")
    merged_into: MergedInto | None = sometimes("reports: the earlier report this one was merged into")
    flags: list[Flag] = sometimes("complaints, for the bureau and the centre: factors of art. 17")


class AnswerOut(Out):
    code: str
    title: str
    body: str
    legal_basis: str | None
    basis_verified: bool
    basis_warning: str | None = Field(description="法律依据待核实: read out only after checking the basis")


class AnswerList(Out):
    items: list[AnswerOut]
