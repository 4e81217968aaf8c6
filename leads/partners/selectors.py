import uuid
from datetime import date, datetime, time
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import Case, Count, F, Prefetch, Q, QuerySet, When
from django.db.models.functions import Greatest

from core.business_time import BUSINESS_TZ
from core.db import JoinedRead, joined_read, joined_read_new
from leads.models import ApiKey, Candidate, Lead, Partner, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from leads.partners.keys import api_key_hash


@cache
def _api_key_read() -> JoinedRead:
    return joined_read_new(
        ApiKey,
        fields=[f.name for f in ApiKey._meta.concrete_fields],
        related={"partner": [f.name for f in Partner._meta.concrete_fields]},
        where="t.key_hash = %s AND t.revoked_at IS NULL",
    )


def partner_for_api_key(*, raw_key: str) -> ApiKey | None:
    """The active key (with its partner) for a raw key: one query, no cache, so that a
    revoked key fails on the very next request. On PostgreSQL it is a prepared statement
    (every partner request runs it; the ORM's compilation cost more than the query)."""
    key_hash = api_key_hash(raw_key)
    if connection.vendor != "postgresql":
        return (
            ApiKey.objects.select_related("partner")
            .filter(key_hash=key_hash, revoked_at__isnull=True)
            .first()
        )
    api_key: ApiKey | None = joined_read(_api_key_read(), [key_hash])
    return api_key


def lead_list_for_partner(*, partner: Partner) -> QuerySet[Lead]:
    """A partner's leads with their partner-safe status and nothing personal."""
    return (
        Lead.objects.filter(partner=partner)
        .annotate(
            status=F("candidate__partner_status"),
            # From the partner's side the status began no earlier than the lead itself.
            status_changed_at=Greatest("created_at", "candidate__partner_status_changed_at"),
        )
        .only("id", "external_id", "created_at")
    )


def lead_get_for_partner(*, partner: Partner, lead_id: uuid.UUID) -> Lead | None:
    return lead_list_for_partner(partner=partner).filter(pk=lead_id).first()


def lead_get_by_external_id(*, partner: Partner, external_id: str) -> Lead | None:
    return lead_list_for_partner(partner=partner).filter(external_id=external_id).first()


# Stages in funnel order: a candidate that reached one has passed all before it.
FUNNEL = (
    ("contacted", Candidate.Stage.CONTACTED),
    ("consultation_booked", Candidate.Stage.CONSULTATION_BOOKED),
    ("consultation_held", Candidate.Stage.CONSULTED),
    ("applied", Candidate.Stage.APPLYING),
    ("placed", Candidate.Stage.PLACED),
)
_STAGE_ORDER = list(Candidate.Stage.values)


def _reached(stage: str) -> Q:
    return Q(candidate__stage__in=_STAGE_ORDER[_STAGE_ORDER.index(stage) :])


def partner_stats(*, partner: Partner, date_from: date | None, date_to: date | None) -> dict[str, Any]:
    """The partner's funnel over leads received between two dates (JST, inclusive), in one
    query. Conversion counts only the leads credited with their candidate (attribution)."""
    leads = Lead.objects.filter(partner=partner)
    if date_from:
        leads = leads.filter(created_at__gte=datetime.combine(date_from, time.min, tzinfo=BUSINESS_TZ))
    if date_to:
        leads = leads.filter(created_at__lte=datetime.combine(date_to, time.max, tzinfo=BUSINESS_TZ))
    credited = Q(candidate__credited_lead=F("pk"))
    statuses = Candidate.PartnerStatus.values
    aggregates: dict[str, Any] = {"total": Count("pk"), "credited": Count("pk", filter=credited)}
    for status in statuses:
        status_q = Q(candidate__partner_status=status)
        aggregates[f"status_{status}"] = Count("pk", filter=status_q)
        aggregates[f"credited_{status}"] = Count("pk", filter=status_q & credited)
    for name, stage in FUNNEL:
        aggregates[f"reached_{name}"] = Count("pk", filter=_reached(stage) & credited)
    row = leads.aggregate(**aggregates)
    credited_total = row["credited"]
    return {
        "from": date_from,
        "to": date_to,
        "leads": row["total"],
        "by_status": {s: row[f"status_{s}"] for s in statuses},
        "credited": {
            "leads": credited_total,
            "by_status": {s: row[f"credited_{s}"] for s in statuses},
        },
        "conversion": {
            name: (round(row[f"reached_{name}"] / credited_total, 4) if credited_total else None)
            for name, _ in FUNNEL
        },
    }


def webhook_endpoints_for_partner(*, partner: Partner) -> QuerySet[WebhookEndpoint]:
    """A partner's webhook endpoints; their secrets are not read (never shown again)."""
    return WebhookEndpoint.objects.filter(partner=partner).defer("secret", "previous_secret")


def webhook_endpoint_for_partner(*, partner: Partner, endpoint_id: uuid.UUID) -> WebhookEndpoint | None:
    """The partner's endpoint by id; None for another partner's, as for a missing one."""
    return webhook_endpoints_for_partner(partner=partner).filter(pk=endpoint_id).first()


def webhook_deliveries_for_endpoint(
    *, endpoint: WebhookEndpoint, state: str | None = None
) -> QuerySet[WebhookDelivery]:
    """An endpoint's deliveries, each with its event's type (``event_type``), when it is
    tried next (``next_attempt_at``, pending ones only) and its attempts in order, in two
    queries whatever their number. No body is read: neither the event's nor any answer's
    (attempts keep none)."""
    deliveries = (
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .annotate(
            event_type=F("event__type"),
            next_attempt_at=Case(When(state=WebhookDelivery.State.PENDING, then=F("due_at")), default=None),
        )
        .only("id", "event_id", "endpoint_id", "state", "due_at", "last_error", "created_at")
        .prefetch_related(
            Prefetch(
                "attempt_log",
                # Ordered here: the model's ("delivery", ...) would join the deliveries again.
                queryset=WebhookAttempt.objects.only(
                    "delivery_id", "at", "status", "duration_ms", "error"
                ).order_by("at", "id"),
            )
        )
    )
    if state:
        deliveries = deliveries.filter(state=state)
    return deliveries
