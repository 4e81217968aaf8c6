"""Models of the leads app, one module per area; import them from here."""

from leads.models.applications import Application, ApplicationEvent, EmployerReveal, InterviewRound, Placement
from leads.models.candidates import (
    Candidate,
    ContactChannel,
    Language,
    RemoteWish,
    SkillLevel,
    Strength,
    validate_prefecture_codes,
    validate_strengths,
)
from leads.models.invoices import Invoice, InvoiceCounter
from leads.models.leads import LEAD_SIGN_UP_FIELDS, Lead
from leads.models.line import LineLinkCode, LineWebhookEvent
from leads.models.partners import ApiKey, Partner
from leads.models.payouts import PartnerStatement, PayoutEvent, PayoutLine, PayoutRule
from leads.models.privacy import AuditEntry, ErasureRecord
from leads.models.webhooks import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
)
from leads.models.workspace import CandidateCertification, FollowUpTask, TimelineEvent, WorkHistoryEntry

# For drf-spectacular's ENUM_NAME_OVERRIDES, which needs a module-level path.
PARTNER_STATUS_CHOICES = Candidate.PartnerStatus.choices
PAYOUT_LINE_KIND_CHOICES = PayoutLine.Kind.choices

__all__ = [
    "LEAD_SIGN_UP_FIELDS",
    "PARTNER_STATUS_CHOICES",
    "PAYOUT_LINE_KIND_CHOICES",
    "ApiKey",
    "Application",
    "ApplicationEvent",
    "AuditEntry",
    "Candidate",
    "CandidateCertification",
    "ContactChannel",
    "EmployerReveal",
    "ErasureRecord",
    "FollowUpTask",
    "InterviewRound",
    "Invoice",
    "InvoiceCounter",
    "Language",
    "Lead",
    "LineLinkCode",
    "LineWebhookEvent",
    "Partner",
    "PartnerStatement",
    "PayoutEvent",
    "PayoutLine",
    "PayoutRule",
    "Placement",
    "RemoteWish",
    "SkillLevel",
    "Strength",
    "TimelineEvent",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "WebhookEventType",
    "WorkHistoryEntry",
    "validate_prefecture_codes",
    "validate_strengths",
]
