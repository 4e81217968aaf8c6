"""Delivering webhooks (CONTRACT section 7): the loop that claims due deliveries, posts them
signed, and records each attempt.

Isolation: a per-endpoint queue. Each process runs WEBHOOK_THREADS sender threads but lets
no endpoint have more than WEBHOOK_ENDPOINT_CONCURRENCY requests in flight, nor claims more
than AHEAD times that for it ahead. A receiver that hangs for the whole timeout therefore ties
up its own few threads and leases, and every other endpoint keeps its share; a circuit
breaker was the alternative, but it would have to guess when to try again, which the
contract's retry schedule already says per delivery.

Claims are leased as core.outbox's rows are (SELECT ... FOR UPDATE SKIP LOCKED, a token and
an expiry): any number of processes deliver at once, a killed one's rows are taken again
when the lease runs out (the receiver may then see a second copy, with the same
`webhook-id`), and a row is sent only while its lease has a margin left.

Threads only talk HTTP; the loop's own thread does every database write, in one short
transaction per round (the attempts in one INSERT, the successes in one UPDATE).
"""

import logging
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import certifi
import urllib3
from django.conf import settings
from django.db import transaction
from django.db.models import F, Min, Q
from django.utils import timezone, translation

from core.outbox import OutboxItem, outbox_enqueue
from leads.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from leads.partners.webhooks import (
    FAILING_DISABLE_AFTER,
    KIND_ENDPOINT_DISABLED,
    MAX_ATTEMPTS,
    RETRY_SCHEDULE,
    ResolvedUrl,
    WebhookUrlRefused,
    webhook_endpoint_disable,
    webhook_signature,
    webhook_url_resolve,
)

logger = logging.getLogger("leads.webhooks")

State = WebhookDelivery.State

# A delivery is started only while its lease has this long to run (a request takes at most
# WEBHOOK_TIMEOUT), so that another process cannot take it while it is in flight.
LEASE_MARGIN = timedelta(seconds=5)

# The most of a response body read (and thrown away: bodies are never stored).
RESPONSE_READ_LIMIT = 64 * 1024

USER_AGENT = "Urakata-Webhooks/1.0"

# The loop's round: claim what the queues have room for, write what the threads did.
TICK = 0.02  # seconds

# Deliveries claimed ahead per endpoint, in requests it may have in flight; an endpoint is
# topped up once its queue is down to half of that.
AHEAD = 4


@dataclass
class DispatchResult:
    succeeded: int = 0
    retrying: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return f"succeeded={self.succeeded} retrying={self.retrying} failed={self.failed}"


@dataclass
class _Job:
    delivery: WebhookDelivery
    lease_until: datetime


@dataclass
class _Outcome:
    job: _Job
    at: datetime
    status: int | None = None
    duration_ms: int = 0
    error: str = ""
    sent: bool = True  # False: not attempted (the lease was too short), handed back

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class _Pools:
    """Keep-alive connection pools, one per (scheme, address, port, host name), shared by
    the sender threads. A pool connects to the address the guard checked, never resolving
    the name again, and verifies the certificate against the host name."""

    def __init__(self, per_pool: int) -> None:
        self.per_pool = per_pool
        self.lock = threading.Lock()
        self.pools: dict[tuple[str, str, int, str], urllib3.HTTPConnectionPool] = {}

    def get(self, resolved: ResolvedUrl, address: str) -> urllib3.HTTPConnectionPool:
        key = (resolved.scheme, address, resolved.port, resolved.host)
        with self.lock:
            pool = self.pools.get(key)
            if pool is None:
                if resolved.scheme == "https":
                    pool = urllib3.HTTPSConnectionPool(
                        address,
                        resolved.port,
                        maxsize=self.per_pool,
                        block=False,
                        cert_reqs="CERT_REQUIRED",
                        ca_certs=certifi.where(),
                        server_hostname=resolved.host,
                        assert_hostname=resolved.host,
                    )
                else:
                    pool = urllib3.HTTPConnectionPool(
                        address, resolved.port, maxsize=self.per_pool, block=False
                    )
                self.pools[key] = pool
            return pool

    def close(self) -> None:
        with self.lock:
            for pool in self.pools.values():
                pool.close()
            self.pools.clear()


def _post(job: _Job, pools: _Pools) -> _Outcome:
    """One attempt: resolve and check the host again, then POST the event's body signed
    for this attempt's timestamp. Never raises."""
    delivery = job.delivery
    endpoint, event = delivery.endpoint, delivery.event
    now = timezone.now()
    if now >= job.lease_until - LEASE_MARGIN:
        return _Outcome(job=job, at=now, sent=False)
    started = time.perf_counter()
    outcome = _Outcome(job=job, at=now)
    try:
        with translation.override("en"):  # attempts are recorded in English, as errors are
            resolved = webhook_url_resolve(endpoint.url)
        body = event.body.encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Host": resolved.host_header,
            "webhook-id": event.webhook_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": webhook_signature(
                endpoint, webhook_id=event.webhook_id, at=now, body=event.body
            ),
        }
        pool = pools.get(resolved, resolved.addresses[0])
        response = pool.urlopen(
            "POST",
            resolved.target,
            body=body,
            headers=headers,
            redirect=False,
            retries=False,
            timeout=urllib3.Timeout(total=settings.WEBHOOK_TIMEOUT),
            preload_content=False,
            assert_same_host=False,
        )
        try:
            response.read(RESPONSE_READ_LIMIT, decode_content=False)
        finally:
            if response.length_remaining == 0:
                response.release_conn()
            else:
                response.close()  # unread body (or chunked): not worth keeping the connection
        outcome.status = response.status
        if not outcome.succeeded:
            outcome.error = f"HTTP {response.status}"
    except WebhookUrlRefused as exc:
        outcome.error = str(exc)
    except urllib3.exceptions.NewConnectionError as exc:
        # Before TimeoutError: urllib3 2 makes a refused connection a ConnectTimeoutError.
        outcome.error = f"Could not connect ({exc.__cause__ or exc})."
    except urllib3.exceptions.TimeoutError:
        outcome.error = f"No answer within {settings.WEBHOOK_TIMEOUT:g} s."
    except urllib3.exceptions.HTTPError as exc:
        outcome.error = f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # a bug must not kill the sender thread, nor lose the row
        logger.exception("webhooks: delivery %s failed unexpectedly", delivery.pk)
        outcome.error = f"{type(exc).__name__}"
    outcome.duration_ms = round((time.perf_counter() - started) * 1000)
    outcome.error = outcome.error[:500]
    return outcome


@dataclass
class _Queues:
    """The claimed jobs waiting per endpoint, the requests in flight per endpoint, and the
    outcomes waiting to be written, shared by the loop and the sender threads."""

    per_endpoint: int
    waiting: dict[Any, deque[_Job]] = field(default_factory=dict)
    in_flight: Counter[Any] = field(default_factory=Counter)
    outcomes: list[_Outcome] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)
    stopping: bool = False

    def take(self) -> _Job | None:
        """The next job of an endpoint below its limit, endpoints taken in turn (the caller
        holds ``cond``)."""
        for endpoint_id in list(self.waiting):
            jobs = self.waiting[endpoint_id]
            if jobs and self.in_flight[endpoint_id] < self.per_endpoint:
                job = jobs.popleft()
                del self.waiting[endpoint_id]  # to the back of the turn
                if jobs:
                    self.waiting[endpoint_id] = jobs
                self.in_flight[endpoint_id] += 1
                return job
        return None

    def drop(self, endpoint_ids: set[Any]) -> None:
        """Forget the waiting jobs of disabled or deleted endpoints (their rows were failed
        or deleted with them)."""
        if endpoint_ids:
            with self.cond:
                for endpoint_id in endpoint_ids:
                    self.waiting.pop(endpoint_id, None)

    def load(self, endpoint_id: Any) -> int:
        return len(self.waiting.get(endpoint_id, ())) + self.in_flight[endpoint_id]

    def total(self) -> int:
        return sum(len(jobs) for jobs in self.waiting.values()) + sum(self.in_flight.values())


def _sender(queues: _Queues, pools: _Pools) -> None:
    while True:
        with queues.cond:
            job = queues.take()
            while job is None:
                if queues.stopping:
                    return
                queues.cond.wait(0.5)
                job = queues.take()
        outcome = _post(job, pools)
        with queues.cond:
            queues.in_flight[job.delivery.endpoint_id] -= 1
            queues.outcomes.append(outcome)
            queues.cond.notify_all()


def _due(now: datetime) -> Q:
    return Q(state=State.PENDING, due_at__lte=now) | Q(state=State.SENDING, lease_until__lt=now)


def _claim(queues: _Queues, *, token: uuid.UUID, now: datetime) -> tuple[int, bool]:
    """Claim due deliveries for every enabled endpoint with room in its queue; return how
    many, and whether an endpoint's claim filled its room (more may be due: a backlog). One
    query finds the endpoints with due work, then one short transaction per endpoint takes
    its oldest due rows."""
    room = queues.per_endpoint * AHEAD
    with queues.cond:
        full = [e for e in {*queues.waiting, *queues.in_flight} if queues.load(e) > room // 2]
    endpoint_ids = list(
        WebhookDelivery.objects.filter(_due(now), endpoint__enabled=True)
        .exclude(endpoint_id__in=full)
        .order_by()  # else the model's ordering joins the DISTINCT: one row per delivery
        .values_list("endpoint_id", flat=True)
        .distinct()
    )
    lease_until = now + timedelta(seconds=settings.REMINDER_LEASE_SECONDS)
    claimed: list[int] = []
    backlog = False
    for endpoint_id in endpoint_ids:
        with queues.cond:
            load = queues.load(endpoint_id)
        if load > room // 2:
            continue
        limit = room - load
        with transaction.atomic():
            rows = list(
                WebhookDelivery.objects.select_for_update(skip_locked=True)
                .filter(_due(now), endpoint_id=endpoint_id)
                .order_by("due_at")
                .values_list("pk", "state")[:limit]
            )
            ids = [pk for pk, _state in rows]
            WebhookDelivery.objects.filter(pk__in=ids).update(
                state=State.SENDING,
                lease_token=token,
                lease_until=lease_until,
                attempts=F("attempts") + 1,
                updated_at=now,
            )
        for pk, state in rows:
            if state == State.SENDING:
                logger.warning(
                    "webhooks: delivery %s re-taken after its lease expired; the receiver may get it twice",
                    pk,
                )
        claimed += ids
        backlog = backlog or len(ids) == limit
    if not claimed:
        return 0, False
    deliveries = WebhookDelivery.objects.filter(pk__in=claimed, lease_token=token).select_related(
        "event", "endpoint"
    )
    with queues.cond:
        for delivery in deliveries.order_by("due_at"):
            queues.waiting.setdefault(delivery.endpoint_id, deque()).append(
                _Job(delivery=delivery, lease_until=lease_until)
            )
        queues.cond.notify_all()
    return len(claimed), backlog


def _record(outcomes: list[_Outcome], *, token: uuid.UUID, result: DispatchResult) -> set[Any]:
    """Write a round's outcomes: every attempt, the successes in one UPDATE, each failure's
    retry or end, and what the endpoints' failures mean. One transaction. Return the
    endpoints it disabled (their pending deliveries failed with them) or found deleted.

    The round's deliveries are locked first, in id order (the order
    leads.partners.webhooks.webhook_endpoint_delete locks them in): a delivery deleted with
    its endpoint meanwhile is skipped, its attempt not written (the row it would point to is
    gone), and a delete that comes after waits for this round, then deletes its attempts too."""
    disabled: set[Any] = set()
    now = timezone.now()
    with transaction.atomic():
        alive = set(
            WebhookDelivery.objects.select_for_update(no_key=True)
            .filter(pk__in=[o.job.delivery.pk for o in outcomes])
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        gone = {o.job.delivery.endpoint_id for o in outcomes if o.job.delivery.pk not in alive}
        if gone:
            logger.info("webhooks: endpoint(s) %s deleted during delivery", sorted(map(str, gone)))
        outcomes = [o for o in outcomes if o.job.delivery.pk in alive]
        sent = [o for o in outcomes if o.sent]
        handed_back = [o.job.delivery.pk for o in outcomes if not o.sent]
        WebhookAttempt.objects.bulk_create(
            WebhookAttempt(
                delivery_id=o.job.delivery.pk,
                at=o.at,
                status=o.status,
                duration_ms=o.duration_ms,
                error=o.error,
            )
            for o in sent
        )
        by_status: dict[int, list[int]] = {}
        for o in sent:
            if o.succeeded:
                by_status.setdefault(o.status or 0, []).append(o.job.delivery.pk)
        for status, ids in by_status.items():
            updated = WebhookDelivery.objects.filter(pk__in=ids, lease_token=token).update(
                state=State.SUCCEEDED,
                last_status=status,
                last_error="",
                delivered_at=now,
                lease_token=None,
                lease_until=None,
                updated_at=now,
            )
            if updated < len(ids):
                logger.warning("webhooks: %d lease(s) lost before a success was recorded", len(ids) - updated)
            result.succeeded += len(ids)
        answered = {o.job.delivery.endpoint_id for o in sent if o.succeeded}
        if answered:
            WebhookEndpoint.objects.filter(pk__in=answered, failing_since__isnull=False).update(
                failing_since=None
            )
        for o in sent:
            if not o.succeeded and _failure(o, token=token, now=now, result=result):
                disabled.add(o.job.delivery.endpoint_id)
        _hand_back(handed_back, token=token)
    return disabled | gone


def _failure(outcome: _Outcome, *, token: uuid.UUID, now: datetime, result: DispatchResult) -> bool:
    """Record a failed attempt: a retry on the schedule, or the end. True if the endpoint
    was disabled (410, or five days of failures)."""
    delivery = outcome.job.delivery
    endpoint_id = delivery.endpoint_id
    mine = WebhookDelivery.objects.filter(pk=delivery.pk, lease_token=token)
    changes: dict[str, Any] = {
        "last_status": outcome.status,
        "last_error": outcome.error,
        "lease_token": None,
        "lease_until": None,
        "updated_at": now,
    }
    if outcome.status == 410:
        mine.update(state=State.FAILED, **changes)
        webhook_endpoint_disable(
            endpoint_id=endpoint_id,
            reason=WebhookEndpoint.DisabledReason.GONE,
            now=now,
            error="The endpoint answered 410 Gone and was disabled.",
        )
        logger.warning("webhooks: endpoint %s answered 410 and is disabled", endpoint_id)
        result.failed += 1
        return True
    if delivery.attempts >= MAX_ATTEMPTS:
        mine.update(state=State.FAILED, **changes)
        result.failed += 1
    else:
        mine.update(state=State.PENDING, due_at=now + RETRY_SCHEDULE[delivery.attempts - 1], **changes)
        result.retrying += 1
    # Five days of nothing but failures disable the endpoint and tell the staff.
    WebhookEndpoint.objects.filter(pk=endpoint_id, failing_since__isnull=True).update(
        failing_since=outcome.at
    )
    failing = WebhookEndpoint.objects.filter(
        pk=endpoint_id, enabled=True, failing_since__lte=now - FAILING_DISABLE_AFTER
    ).exists()
    if failing and webhook_endpoint_disable(
        endpoint_id=endpoint_id,
        reason=WebhookEndpoint.DisabledReason.FAILING,
        now=now,
        error="The endpoint failed every attempt for 5 days and was disabled.",
    ):
        logger.warning("webhooks: endpoint %s failed for 5 days and is disabled", endpoint_id)
        outbox_enqueue(
            items=[
                OutboxItem(
                    kind=KIND_ENDPOINT_DISABLED,
                    subject=f"webhook-endpoint:{endpoint_id}",
                    due_at=now,
                    payload={"endpoint_id": str(endpoint_id)},
                    variant=now.isoformat(),
                )
            ]
        )
        return True
    return False


def _hand_back(ids: list[int], *, token: uuid.UUID) -> None:
    """Claimed deliveries not attempted (the lease ran short, the run ended) go back to
    pending, uncounted."""
    if ids:
        WebhookDelivery.objects.filter(pk__in=ids, lease_token=token).update(
            state=State.PENDING,
            lease_token=None,
            lease_until=None,
            attempts=F("attempts") - 1,
            updated_at=timezone.now(),
        )


def _release(queues: _Queues, token: uuid.UUID) -> None:
    """Hand the claimed jobs no thread started back."""
    with queues.cond:
        ids = [job.delivery.pk for jobs in queues.waiting.values() for job in jobs]
        queues.waiting.clear()
    _hand_back(ids, token=token)


def webhook_dispatch(
    *,
    time_budget: float = 50.0,
    threads: int | None = None,
    per_endpoint: int | None = None,
    wait_for_due: bool = True,
    on_backlog: Callable[[], None] | None = None,
) -> DispatchResult:
    """Deliver due webhooks for about ``time_budget`` seconds, then finish what is in
    flight and hand back the rest. Ends sooner when nothing is due, or, with
    ``wait_for_due``, when nothing falls due within the budget (a retry 5 s away is
    waited for). Safe to run in any number of processes at once. ``on_backlog`` is called
    once, the first time a claim fills an endpoint's room (more may be due), so that the
    caller can ask another process to help."""
    threads = threads or settings.WEBHOOK_THREADS
    per_endpoint = per_endpoint or settings.WEBHOOK_ENDPOINT_CONCURRENCY
    queues = _Queues(per_endpoint=per_endpoint)
    pools = _Pools(per_pool=per_endpoint)
    token = uuid.uuid4()
    result = DispatchResult()
    deadline = time.monotonic() + time_budget
    senders = [
        threading.Thread(target=_sender, args=(queues, pools), name=f"webhooks-{i}", daemon=True)
        for i in range(threads)
    ]
    for sender in senders:
        sender.start()
    try:
        while time.monotonic() < deadline:
            claimed, backlog = _claim(queues, token=token, now=timezone.now())
            if backlog and on_backlog is not None:
                on_backlog()
                on_backlog = None
            time.sleep(TICK)  # a round's outcomes are written together
            with queues.cond:
                outcomes, queues.outcomes = queues.outcomes, []
                busy = queues.total()
            if outcomes:
                queues.drop(_record(outcomes, token=token, result=result))
            if claimed or outcomes or busy:
                continue
            if not wait_for_due or not _wait_for_next_due(deadline):
                break
    finally:
        _release(queues, token)
        with queues.cond:
            queues.stopping = True
            queues.cond.notify_all()
        for sender in senders:
            sender.join()
        if queues.outcomes:
            _record(queues.outcomes, token=token, result=result)
        pools.close()
    return result


def _wait_for_next_due(deadline: float) -> bool:
    """Sleep until the next delivery falls due, if that is before ``deadline``; False when
    there is nothing to wait for."""
    next_due = WebhookDelivery.objects.filter(state=State.PENDING, endpoint__enabled=True).aggregate(
        at=Min("due_at")
    )["at"]
    if next_due is None:
        return False
    wait = (next_due - timezone.now()).total_seconds()
    if time.monotonic() + wait >= deadline:
        return False
    time.sleep(min(max(wait, 0.05), 1.0))
    return True
