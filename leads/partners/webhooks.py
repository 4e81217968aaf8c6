"""Webhooks to partners (CONTRACT section 7): endpoints, their secrets, the events written in
the transaction of the change they tell of, replay. Delivery is leads.partners.webhook_delivery.

- One event per change, never one per save: emitters call `webhook_events_emit` where the
  partner-visible state changes (leads.candidates.pipeline for a lead's status; the payouts'
  issuing hook for `statement.issued`), and each event has one delivery per endpoint that
  wants its type, written in the same transaction.
- Bodies carry ids, statuses and totals, never personal data.
- An endpoint's URL must be https and resolve only to public addresses, checked when it is
  registered and again at every delivery (`webhook_url_resolve`); `WEBHOOK_ALLOW_PRIVATE`
  (development and tests) lifts both rules.
"""

import base64
import ipaddress
import json
import secrets
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from standardwebhooks import Webhook

from core.business_time import BUSINESS_TZ
from leads.models import (
    Lead,
    Partner,
    PartnerStatement,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
)

# The types a partner can subscribe to (the test event goes only where the staff send it).
SUBSCRIBABLE = (WebhookEventType.LEAD_STATUS_CHANGED, WebhookEventType.STATEMENT_ISSUED)

# After each failed attempt, the wait before the next (CONTRACT section 7): 8 attempts in all.
RETRY_SCHEDULE = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
MAX_ATTEMPTS = len(RETRY_SCHEDULE) + 1

# An endpoint with nothing but failures for this long is disabled and the staff are told.
FAILING_DISABLE_AFTER = timedelta(days=5)

# How long the secret before a rotation keeps signing.
ROTATION_OVERLAP = timedelta(hours=24)

# Outbox kind of the staff's notice that an endpoint was disabled for failing.
KIND_ENDPOINT_DISABLED = "webhook.endpoint_disabled"


# The most endpoints a partner may have: enough for a site's environments and systems,
# few enough that one partner's events never fan out into a flood of deliveries.
MAX_ENDPOINTS_PER_PARTNER = 10


class WebhookUrlRefused(ValueError):
    """The URL may not receive webhooks (the message says why, for the partner or staff).
    The other refusals below derive from it, so that a caller showing one shows them all."""


class WebhookEventTypeUnknown(WebhookUrlRefused):
    """An event type a partner cannot subscribe to."""


class WebhookEndpointLimitReached(WebhookUrlRefused):
    """The partner has MAX_ENDPOINTS_PER_PARTNER endpoints already."""


class WebhookEndpointDisabled(WebhookUrlRefused):
    """The endpoint is disabled: nothing can be sent to it (replay)."""


@dataclass(frozen=True)
class ResolvedUrl:
    scheme: str
    host: str
    port: int
    target: str  # path and query, as sent in the request line
    addresses: tuple[str, ...]  # every address the host resolved to, all allowed

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    # is_global leaves out private, loopback, link-local, reserved, unspecified and shared
    # (100.64/10) space; multicast is ruled out on its own.
    return address.is_global and not address.is_multicast


def webhook_url_resolve(url: str) -> ResolvedUrl:
    """Check ``url`` and resolve its host; raise WebhookUrlRefused when it may not be used.
    The delivery connects to one of the addresses returned, never resolving again, so a
    name that changes its answer after the check (DNS rebinding) cannot redirect it."""
    allow_private: bool = settings.WEBHOOK_ALLOW_PRIVATE
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise WebhookUrlRefused(_("Enter a valid URL.")) from exc
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        raise WebhookUrlRefused(_("The URL must start with https://."))
    if parts.username is not None or parts.password is not None:
        raise WebhookUrlRefused(_("The URL must not contain a user name or password."))
    host = parts.hostname
    if not host:
        raise WebhookUrlRefused(_("Enter a valid URL."))
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise WebhookUrlRefused(_("The host %(host)s does not resolve.") % {"host": host}) from exc
    addresses = tuple(dict.fromkeys(str(info[4][0]) for info in infos))
    if not allow_private:
        for address in addresses:
            if not _public(ipaddress.ip_address(address.split("%", 1)[0])):
                raise WebhookUrlRefused(
                    _("The host %(host)s resolves to %(address)s, which is not a public address.")
                    % {"host": host, "address": address}
                )
    target = parts.path or "/"
    if parts.query:
        target = f"{target}?{parts.query}"
    return ResolvedUrl(scheme=parts.scheme, host=host, port=port, target=target, addresses=addresses)


def _secret_new() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _events_clean(events: Iterable[str] | None) -> list[str]:
    chosen = list(dict.fromkeys(events or []))
    unknown = [e for e in chosen if e not in SUBSCRIBABLE]
    if unknown:
        raise WebhookEventTypeUnknown(_("Unknown event type: %(type)s.") % {"type": unknown[0]})
    return [] if set(chosen) == set(SUBSCRIBABLE) else chosen


def webhook_endpoint_create(
    *, partner_id: int, url: str, events: Iterable[str] | None = None
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; return it and its signing secret (shown this once). At most
    MAX_ENDPOINTS_PER_PARTNER per partner: the partner's row is locked while they are
    counted, so two registrations at once cannot both take the last place."""
    chosen = _events_clean(events)
    webhook_url_resolve(url)  # before the lock: a lookup can take seconds
    secret = _secret_new()
    with transaction.atomic():
        # NO KEY UPDATE: the partner's leads, written meanwhile, are not held up.
        Partner.objects.select_for_update(no_key=True).filter(pk=partner_id).values_list("pk").first()
        if WebhookEndpoint.objects.filter(partner_id=partner_id).count() >= MAX_ENDPOINTS_PER_PARTNER:
            raise WebhookEndpointLimitReached(
                _("A partner may have at most %(limit)d webhook endpoints: delete one first.")
                % {"limit": MAX_ENDPOINTS_PER_PARTNER}
            )
        endpoint = WebhookEndpoint.objects.create(
            partner_id=partner_id, url=url, events=chosen, secret=secret
        )
    return endpoint, secret


def webhook_endpoint_delete(*, partner_id: int, endpoint_id: Any, now: datetime | None = None) -> bool:
    """Delete the partner's endpoint with its deliveries and their attempts; False if the
    partner has no endpoint by that id. Call it outside a transaction.

    First disabled, committed on its own: no delivery run claims it any more and its pending
    deliveries end. Then deleted with its deliveries locked in id order, the order a delivery
    run locks a round's deliveries in before writing their attempts (webhook_delivery._record):
    an attempt in flight is either written before the delete reads the attempts, or skipped
    because its delivery is gone, and neither side waits on the other in a circle."""
    now = now or timezone.now()
    mine = WebhookEndpoint.objects.filter(pk=endpoint_id, partner_id=partner_id)
    with transaction.atomic():
        if not mine.exists():
            return False
        webhook_endpoint_disable(
            endpoint_id=endpoint_id, reason=WebhookEndpoint.DisabledReason.PARTNER, now=now
        )
    with transaction.atomic():
        list(
            WebhookDelivery.objects.select_for_update()
            .filter(endpoint_id=endpoint_id)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        deleted, _by_model = mine.delete()
    return bool(deleted)


def webhook_endpoint_update(
    endpoint: WebhookEndpoint,
    *,
    url: str | None = None,
    events: Iterable[str] | None = None,
    enabled: bool | None = None,
    by_staff: bool = False,
    now: datetime | None = None,
) -> WebhookEndpoint:
    """Change what the partner (or staff) may change. Disabling fails the pending deliveries
    (replay sends them once enabled again); enabling starts a fresh failure count."""
    now = now or timezone.now()
    if url is not None and url != endpoint.url:
        webhook_url_resolve(url)
        endpoint.url = url
    if events is not None:
        endpoint.events = _events_clean(events)
    if enabled is not None and enabled != endpoint.enabled:
        if enabled:
            endpoint.enabled = True
            endpoint.disabled_reason = WebhookEndpoint.DisabledReason.NONE
            endpoint.disabled_at = None
            endpoint.failing_since = None
        else:
            reason = (
                WebhookEndpoint.DisabledReason.STAFF if by_staff else WebhookEndpoint.DisabledReason.PARTNER
            )
            with transaction.atomic():
                _live_deliveries_lock(endpoint.pk)  # before the endpoint's row: see there
                endpoint.save()
                webhook_endpoint_disable(endpoint_id=endpoint.pk, reason=reason, now=now)
            endpoint.refresh_from_db()
            return endpoint
    endpoint.save()
    return endpoint


def _live_deliveries_lock(endpoint_id: Any) -> None:
    """Lock the endpoint's pending and sending deliveries in id order. A delivery run locks
    its round's deliveries in that order and then writes the endpoints' rows
    (webhook_delivery._record); taking the deliveries first here too means a disable and a
    run never wait on each other in a circle (PostgreSQL would abort one as a deadlock)."""
    list(
        WebhookDelivery.objects.select_for_update(no_key=True)
        .filter(
            endpoint_id=endpoint_id, state__in=[WebhookDelivery.State.PENDING, WebhookDelivery.State.SENDING]
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def webhook_endpoint_disable(*, endpoint_id: Any, reason: str, now: datetime, error: str = "") -> bool:
    """Disable the endpoint (if enabled) and fail its pending deliveries; True if it was
    enabled. Part of the caller's transaction."""
    _live_deliveries_lock(endpoint_id)
    disabled = WebhookEndpoint.objects.filter(pk=endpoint_id, enabled=True).update(
        enabled=False, disabled_reason=reason, disabled_at=now, updated_at=now
    )
    WebhookDelivery.objects.filter(
        endpoint_id=endpoint_id, state__in=[WebhookDelivery.State.PENDING, WebhookDelivery.State.SENDING]
    ).update(
        state=WebhookDelivery.State.FAILED,
        lease_token=None,
        lease_until=None,
        last_error=(error or "The endpoint was disabled.")[:500],  # English, as every delivery error
        updated_at=now,
    )
    return bool(disabled)


def webhook_secret_rotate(endpoint: WebhookEndpoint, *, now: datetime | None = None) -> str:
    """A new secret; the current one keeps signing for ROTATION_OVERLAP. Return the new one."""
    now = now or timezone.now()
    secret = _secret_new()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + ROTATION_OVERLAP
    endpoint.secret = secret
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    return secret


def webhook_signature(endpoint: WebhookEndpoint, *, webhook_id: str, at: datetime, body: str) -> str:
    """The ``webhook-signature`` header: the current secret's, and during a rotation's
    overlap the previous one's too, space-separated (Standard Webhooks 1.0)."""
    keys = [endpoint.secret]
    if (
        endpoint.previous_secret
        and endpoint.previous_secret_expires_at
        and at < endpoint.previous_secret_expires_at
    ):
        keys.append(endpoint.previous_secret)
    return " ".join(Webhook(key).sign(msg_id=webhook_id, timestamp=at, data=body) for key in keys)


@dataclass(frozen=True)
class EventSpec:
    partner_id: int
    type: str
    data: dict[str, Any]


def _body(*, type: str, at: datetime, data: dict[str, Any]) -> str:
    document = {"type": type, "timestamp": at.astimezone(BUSINESS_TZ).isoformat(), "data": data}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


_kick: list[Callable[[], None]] = []


def webhook_kick_register(*, kick: Callable[[], None]) -> None:
    """``kick`` asks for a delivery run (leads.apps registers the Celery task's); it is called
    after the emitting transaction commits."""
    _kick[:] = [kick]


def _kick_on_commit() -> None:
    for kick in _kick:
        transaction.on_commit(kick, robust=True)


def webhook_events_emit(
    specs: Iterable[EventSpec], *, at: datetime, endpoints: list[WebhookEndpoint] | None = None
) -> list[WebhookEvent]:
    """Record the events and one delivery each per enabled endpoint of their partner that
    wants the type, due at once, in the caller's transaction (three queries whatever the
    number). An event nobody listens to is not recorded. ``endpoints`` narrows the choice
    (the staff's test event)."""
    specs = list(specs)
    if not specs:
        return []
    if endpoints is None:
        endpoints = list(
            WebhookEndpoint.objects.filter(partner_id__in={s.partner_id for s in specs}, enabled=True)
        )
    events: list[WebhookEvent] = []
    deliveries: list[WebhookDelivery] = []
    for spec in specs:
        targets = [e for e in endpoints if e.partner_id == spec.partner_id and e.wants(spec.type)]
        if not targets:
            continue
        event = WebhookEvent(
            partner_id=spec.partner_id,
            type=spec.type,
            body=_body(type=spec.type, at=at, data=spec.data),
            created_at=at,
        )
        events.append(event)
        deliveries += [WebhookDelivery(event=event, endpoint=e, due_at=at, created_at=at) for e in targets]
    if events:
        WebhookEvent.objects.bulk_create(events)
        WebhookDelivery.objects.bulk_create(deliveries)
        _kick_on_commit()
    return events


def lead_status_changed_emit(
    *, candidate_id: Any, status: str, at: datetime, lead_ids: Iterable[Any] | None = None
) -> None:
    """Tell the partners of the candidate's leads (or only of ``lead_ids``) that their
    status changed: one event per lead, as each partner knows the person only by its own."""
    leads = Lead.objects.filter(candidate_id=candidate_id)
    if lead_ids is not None:
        leads = leads.filter(pk__in=list(lead_ids))
    rows = leads.values_list("pk", "partner_id", "external_id", "created_at")
    webhook_events_emit(
        (
            EventSpec(
                partner_id=partner_id,
                type=WebhookEventType.LEAD_STATUS_CHANGED,
                data={
                    "id": str(pk),
                    "external_id": external_id or None,
                    "status": status,
                    # As GET /api/v1/leads/{id}/ answers it: never before the lead itself.
                    "status_changed_at": max(at, created_at).astimezone(BUSINESS_TZ).isoformat(),
                },
            )
            for pk, partner_id, external_id, created_at in rows
        ),
        at=at,
    )


def webhook_test_send(endpoint: WebhookEndpoint, *, now: datetime | None = None) -> WebhookEvent:
    """The staff's "send a test event": one `webhook.test` event to this endpoint only."""
    now = now or timezone.now()
    with transaction.atomic():
        (event,) = webhook_events_emit(
            [
                EventSpec(
                    partner_id=endpoint.partner_id,
                    type=WebhookEventType.TEST,
                    data={"endpoint": str(endpoint.pk)},
                )
            ],
            at=now,
            endpoints=[endpoint],
        )
    return event


def webhook_deliveries_replay(
    endpoint: WebhookEndpoint, *, since: datetime, now: datetime | None = None
) -> int:
    """Send the endpoint's failed deliveries created since ``since`` again, due at once,
    with their original events (and so their `webhook-id`); a new round of attempts.
    Return how many. The endpoint must be enabled."""
    now = now or timezone.now()
    if not endpoint.enabled:
        raise WebhookEndpointDisabled(_("The endpoint is disabled: enable it before replaying."))
    with transaction.atomic():
        count = WebhookDelivery.objects.filter(
            endpoint=endpoint, state=WebhookDelivery.State.FAILED, created_at__gte=since
        ).update(state=WebhookDelivery.State.PENDING, due_at=now, attempts=0, updated_at=now)
        if count:
            _kick_on_commit()
    return count


def webhook_deliveries_retry(delivery_ids: Iterable[int], *, now: datetime | None = None) -> int:
    """The staff's "send again": the chosen failed deliveries of enabled endpoints, due at
    once with their original events (and so their `webhook-id`), a new round of attempts.
    Return how many (the others were not failed, or their endpoint is disabled)."""
    now = now or timezone.now()
    with transaction.atomic():
        count = WebhookDelivery.objects.filter(
            pk__in=list(delivery_ids), state=WebhookDelivery.State.FAILED, endpoint__enabled=True
        ).update(state=WebhookDelivery.State.PENDING, due_at=now, attempts=0, updated_at=now)
        if count:
            _kick_on_commit()
    return count


def statement_issued_emit(statement: PartnerStatement) -> None:
    """`statement.issued`, in the issuing transaction (leads.apps registers it with the
    payouts' issuing)."""
    webhook_events_emit(
        [
            EventSpec(
                partner_id=statement.partner_id,
                type=WebhookEventType.STATEMENT_ISSUED,
                data={
                    "number": statement.number,
                    "month": f"{statement.month:%Y-%m}",
                    "total_jpy": statement.total_jpy,
                },
            )
        ],
        at=statement.issued_at,
    )


# Events are kept this long after they happened (with their deliveries and attempts), so a
# partner can list and replay a month of them; a delivery still pending keeps its event.
HISTORY_KEPT = timedelta(days=30)


def webhook_history_purge(*, now: datetime | None = None, batch: int = 1000) -> int:
    """Delete the events older than HISTORY_KEPT, with their deliveries and attempts, in
    batches (each its own transaction). Return how many events."""
    cutoff = (now or timezone.now()) - HISTORY_KEPT
    live = [WebhookDelivery.State.PENDING, WebhookDelivery.State.SENDING]
    purged = 0
    while True:
        ids = list(
            WebhookEvent.objects.filter(created_at__lt=cutoff)
            .exclude(deliveries__state__in=live)
            .values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return purged
        with transaction.atomic():
            WebhookEvent.objects.filter(pk__in=ids).delete()
        purged += len(ids)
