"""Consumer alerts (消费警示) and SMS subscriptions over HTTP: requests and answers, for the OpenAPI document.
`operations.check_alert` and `subscriptions` check the bodies; these models say what they accept."""
from typing import Literal

from pydantic import BaseModel, Field

from hotline.alerts.operations import SMS_LIMIT
from hotline.api.schemas import DateTime, Out


class AlertIn(BaseModel):
    """A draft alert; every problem is answered at once in a 422."""
    title: str = Field(max_length=128)
    body: str = Field(max_length=20_000)
    sms_text: str = Field(description=f"at most {SMS_LIMIT} characters with the signature 【12315】 and the opt-out "
                                      "line 回复TD退订, both added automatically")
    district: str | None = Field(None, description="a district's division code; none: the whole city")
    categories: list[str] = Field(default_factory=list, max_length=20, description="goods or service category codes")


class AlertsQuery(BaseModel):
    page: int = Field(1, ge=1, le=100_000)
    per_page: int = Field(20, ge=1, le=100)


class SubscriptionIn(BaseModel):
    phone: str = Field(description="a mainland mobile number")
    district: str | None = Field(None, description="a district's division code; none: alerts for the whole city")


class SubscriptionConfirmIn(BaseModel):
    phone: str = Field(description="a mainland mobile number")
    code: str = Field(pattern="^[0-9]{6}$", description="the code sent by SMS, valid for 10 minutes")


class Alert(Out):
    id: int
    title: str
    body: str
    sms_text: str
    district: str | None
    district_name: str | None
    categories: list[str]
    status: Literal["draft", "published", "withdrawn"]
    created_at: DateTime | None
    published_at: DateTime | None
    withdrawn_at: DateTime | None


class AlertList(Out):
    items: list[Alert]
    total: int
    page: int
    per_page: int


class CodeSent(Out):
    """The same answer for every valid number, known or not (no enumeration)."""
    status: Literal["code_sent"]
    message: str


class SubscriptionConfirmed(Out):
    status: Literal["confirmed"]
