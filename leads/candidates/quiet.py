"""Quiet candidates (CONTRACT section 6): a candidate in an active stage with no activity
for QUIET_CANDIDATE_AFTER (14 days) is flagged to their advisor, once per quiet period.

**Activity** is the latest of:

- the candidate's creation and their last reached call (``last_contacted_at``);
- any entry on their timeline: stage changes, closing and reopening, calls (reached or
  not), notes, messages, assignment, a follow-up task done, a merge;
- a lead from them (they signed up again, through a partner or directly);
- what other apps register with ``quiet_activity_register`` (consultations: a booking made
  or changed, and the start of their latest consultation not cancelled, so someone with a
  consultation coming up is not quiet).

**Active** means open (not closed), not placed, assigned to an advisor, consent not
withdrawn, data not erased.

The hourly scan (``candidates_quiet_scan``, beat's ``leads.tasks.quiet_candidates_scan_task``)
is one query: active candidates whose last activity is at least QUIET_CANDIDATE_AFTER ago
and who have no quiet row for this period yet (a row due at or after last activity +
QUIET_CANDIDATE_AFTER). For each it writes an outbox row keyed by candidate and last
activity, so scanning again (or two scans at once) adds nothing. The row is due at the
next business moment (weekdays 09:00-18:00 JST). At delivery the handler
(leads.intake.outbox_handlers) checks again that the candidate is still active and that their last
activity has not moved; then the advisor gets an email and a follow-up task (source
QUIET_CANDIDATE, the row's key as the task's key, so a repeated delivery makes one task).
Any new activity starts a new period, flagged again 14 days after it.
"""

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import DateTimeField, Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.expressions import BaseExpression, Combinable
from django.db.models.functions import Coalesce, Concat, Greatest
from django.utils import timezone

from core.business_time import business_time_add
from core.expressions import UUIDText
from core.models import OutboxMessage
from core.outbox import OutboxItem, outbox_enqueue
from leads.models import Candidate, Lead, TimelineEvent

KIND_QUIET = "candidate.quiet"

ActivitySource = Callable[[], BaseExpression]
_sources: dict[str, ActivitySource] = {}


def quiet_activity_register(*, name: str, source: ActivitySource) -> None:
    """Add a kind of activity: ``source()`` returns an expression evaluated per candidate
    (``OuterRef("pk")`` is the candidate), the latest such activity or NULL."""
    _sources[name] = source


def quiet_subject(candidate_id: uuid.UUID | str) -> str:
    return f"candidate:{candidate_id}"


def _latest(queryset: QuerySet[TimelineEvent] | QuerySet[Lead], field: str) -> Subquery:
    return Subquery(queryset.order_by(f"-{field}").values(field)[:1])


def last_activity() -> Greatest:
    """The candidate's last activity (see the module), as one SQL expression."""
    created = F("created_at")
    sources: list[Combinable | BaseExpression] = [
        Coalesce(F("last_contacted_at"), created),
        Coalesce(_latest(TimelineEvent.objects.filter(candidate=OuterRef("pk")), "occurred_at"), created),
        Coalesce(_latest(Lead.objects.filter(candidate=OuterRef("pk")), "created_at"), created),
        *(Coalesce(source(), created) for source in _sources.values()),
    ]
    return Greatest(created, *sources, output_field=DateTimeField())


def _active() -> Q:
    return Q(
        is_closed=False, advisor__isnull=False, consent_withdrawn_at__isnull=True, erased_at__isnull=True
    ) & ~Q(stage=Candidate.Stage.PLACED)


def candidates_quiet(*, now: datetime) -> QuerySet[Candidate]:
    """Active candidates quiet since at least QUIET_CANDIDATE_AFTER and not yet flagged for
    this quiet period, with ``last_activity`` annotated."""
    after = settings.QUIET_CANDIDATE_AFTER
    flagged = OutboxMessage.objects.filter(
        kind=KIND_QUIET,
        subject=Concat(Value("candidate:"), UUIDText(OuterRef("pk"))),
        due_at__gte=OuterRef("last_activity") + after,
    )
    return (
        Candidate.objects.filter(_active())
        .annotate(last_activity=last_activity())
        .filter(last_activity__lte=now - after)
        .filter(~Exists(flagged))
    )


def candidates_quiet_scan(*, now: datetime | None = None) -> int:
    """Write an outbox row for every candidate newly quiet; return how many. Safe to run
    any number of times, in parallel too (the rows' keys are unique)."""
    now = now or timezone.now()
    after: timedelta = settings.QUIET_CANDIDATE_AFTER
    items = []
    quiet = candidates_quiet(now=now).values_list("pk", "last_activity")  # type: ignore[misc]
    for candidate_id, since in quiet:
        items.append(
            OutboxItem(
                kind=KIND_QUIET,
                subject=quiet_subject(candidate_id),
                due_at=business_time_add(max(now, since + after), timedelta(0)),
                payload={"candidate_id": str(candidate_id), "since": since.isoformat()},
                variant=str(int(since.timestamp() * 1_000_000)),  # one row per quiet period
            )
        )
    outbox_enqueue(items=items)
    return len(items)


def candidate_still_quiet(*, candidate_id: uuid.UUID | str, since: datetime) -> Candidate | None:
    """The candidate (advisor loaded) when still active and quiet since ``since``, else None."""
    candidate = (
        Candidate.objects.filter(_active(), pk=candidate_id)
        .annotate(last_activity=last_activity())
        .select_related("advisor")
        .first()
    )
    if candidate is None or candidate.last_activity != since:
        return None
    return candidate
