"""The consumer's JSON endpoints (`/api/v1/public/...`): requests and answers, for the OpenAPI document.
The query code is the key; no answer carries unmasked personal data."""
from pydantic import BaseModel, Field

from hotline.api.schemas import Date, DateTime, Kind, Out, Status, sometimes
from hotline.portal.information import TEXT_LIMIT
from hotline.portal.ratings import COMMENT_LIMIT


class LookupIn(BaseModel):
    number: str = Field(description="the case number (spaces and dashes are ignored)")
    code: str = Field(description="the query code from the receipt SMS")


class RatingIn(BaseModel):
    code: str = Field(description="the query code")
    score: int = Field(ge=1, le=5)
    comment: str | None = Field(None, max_length=COMMENT_LIMIT)
    bureau_at_fault: bool | None = Field(None, description="asked with a low score: was the bureau at fault?")


class InformationIn(BaseModel):
    code: str = Field(description="the query code")
    text: str = Field(max_length=TEXT_LIMIT, description="what the consumer adds to the open case")


class PublicBureau(Out):
    name: str


class PublicEvent(Out):
    """A public step of the handling: no actor, no internal note."""
    action: str
    at: DateTime


class PublicDeadline(Out):
    clock: str
    due: DateTime
    last_day: Date = Field(description="the last day of the period, local")
    met_at: DateTime | None
    paused: bool


class PublicMessage(Out):
    kind: str
    to: str = Field(description="masked: 138****5678")
    status: str
    sent_at: DateTime | None


class TransferReason(Out):
    """A case transferred to another authority (移送): where it went."""
    receiver: str | None


class GroundReason(Out):
    """The statutory ground the consumer was told, with its article."""
    text: str | None
    basis: str | None
    routes: list[str] = sometimes("a declined complaint: the other routes of Consumer Rights Protection Law art. 39")
    routes_basis: str | None = sometimes("the law that names those routes")


class PublicRating(Out):
    score: int = Field(ge=1, le=5)
    rated_at: DateTime


class PublicCase(Out):
    """`POST /public/lookup`: the consumer's view of the case."""
    number: str
    kind: Kind
    status: Status
    outcome: str | None
    received_at: DateTime
    closed_at: DateTime | None
    bureau: PublicBureau | None
    events: list[PublicEvent]
    deadlines: list[PublicDeadline]
    messages: list[PublicMessage]
    reason: TransferReason | GroundReason | None = Field(description="why the case closed as it did; none while open")
    rating: PublicRating | None
    may_rate: bool
    may_add_information: bool


class RatingOut(Out):
    """一事一评: the rating, once, after the case closed (409 before and for a second one)."""
    number: str
    score: int = Field(ge=1, le=5)
    comment: str | None
    bureau_at_fault: bool | None
    rated_at: DateTime


class InformationAdded(Out):
    number: str
    action: str = Field(examples=["consumer_info"])
    at: DateTime
