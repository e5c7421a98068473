"""Every model, imported in one place so the metadata (and Alembic) sees all tables."""
from hotline.alerts.models import ConsumerAlert, Subscription
from hotline.api.models import IdempotencyKey
from hotline.auth.models import AccessLog, ApiToken, User
from hotline.cases.models import Case, CaseComplainant, CaseEvent, CaseLink, CaseNumberCounter
from hotline.deadlines.models import (
    CalendarDay,
    CalendarYear,
    CaseClock,
    DeadlineRule,
    ExtensionRequest,
    Notification,
)
from hotline.outbox.models import OutboxJob
from hotline.portal.models import CaseRating, Evidence, PhoneConfirmation
from hotline.reference.models import (
    Answer,
    Bureau,
    Category,
    Division,
    Platform,
    RoutingRule,
    Station,
    StatutoryGround,
)
from hotline.sms.models import SmsInbound, SmsMessage, SmsOptOut
from hotline.stats.models import (
    DisclosureExclusion,
    DisclosureRule,
    StatBusinessMonth,
    StatCase,
    StatDay,
    StatDirty,
    StatMonth,
    StatOpen,
)

__all__ = [
    "AccessLog", "Answer", "ApiToken", "Bureau", "CalendarDay", "CalendarYear", "Case", "CaseClock", "CaseComplainant",
    "CaseEvent", "CaseLink", "CaseNumberCounter", "CaseRating", "Category", "ConsumerAlert", "DeadlineRule", "Division",
    "Evidence", "ExtensionRequest", "Notification", "OutboxJob", "PhoneConfirmation", "Platform", "RoutingRule",
    "SmsInbound", "SmsMessage", "SmsOptOut", "StatutoryGround", "Station", "Subscription", "User", "IdempotencyKey",
    "DisclosureExclusion", "DisclosureRule", "StatBusinessMonth", "StatCase", "StatDay", "StatDirty", "StatMonth",
    "StatOpen",
]
