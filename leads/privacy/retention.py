"""Retention (APPI art. 22: delete what is no longer needed): candidates closed, or never
reached, for longer than RETENTION_PERIOD are anonymised through the same erasure as a
person's request (leads.privacy.records.person_erase, recorded with kind `retention`).

Due, at an instant `as_of`, with `cutoff = as_of - RETENTION_PERIOD`:

- closed (any reason) before the cutoff: for a closed candidate the partner status turned
  `closed` when it was closed, and nothing moves it while closed, so its change time is the
  closing time;
- or never reached: still `new` or `contacting`, never contacted, created before the cutoff;
- and in both cases no lead received and no contact since the cutoff (a lead for a closed
  candidate reopens nothing, but it is fresh data with its own provision record).

Placed candidates are never due (the placement ledgers and fee records need them).
Erased candidates are not due again, so a run is idempotent and an interrupted run is
finished by the next one; each candidate is erased in its own transaction, after checking
under its row lock that it is still due.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from time import monotonic

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet

from leads.audit import Channel
from leads.models import Candidate, ErasureRecord, Lead
from leads.privacy.records import person_erase

CLOSED = "closed"
NEVER_REACHED = "never_reached"


def retention_cutoff(*, as_of: datetime) -> datetime:
    return as_of - settings.RETENTION_PERIOD


def retention_due(*, as_of: datetime) -> QuerySet[Candidate]:
    """The candidates due for anonymisation at `as_of`, oldest first."""
    cutoff = retention_cutoff(as_of=as_of)
    closed = Q(is_closed=True, partner_status_changed_at__lt=cutoff)
    never_reached = Q(
        is_closed=False,
        stage__in=[Candidate.Stage.NEW, Candidate.Stage.CONTACTING],
        last_contacted_at__isnull=True,
        created_at__lt=cutoff,
    )
    recent = Q(last_contacted_at__gte=cutoff) | Q(
        pk__in=Lead.objects.filter(created_at__gte=cutoff).values("candidate_id")
    )
    return (
        Candidate.objects.filter(erased_at__isnull=True)
        .filter(closed | never_reached)
        .exclude(stage=Candidate.Stage.PLACED)
        .exclude(recent)
        .order_by("created_at", "pk")
    )


@dataclass(frozen=True)
class DueCandidate:
    """What the dry run shows: ids and facts, no personal data."""

    id: uuid.UUID
    why: str  # CLOSED or NEVER_REACHED
    since: datetime  # closed at, or created at


def retention_report(*, as_of: datetime) -> list[DueCandidate]:
    rows = retention_due(as_of=as_of).values_list(
        "pk", "is_closed", "partner_status_changed_at", "created_at"
    )
    return [
        DueCandidate(id=pk, why=CLOSED, since=changed)
        if closed
        else DueCandidate(id=pk, why=NEVER_REACHED, since=created)
        for pk, closed, changed, created in rows
    ]


@dataclass
class RetentionResult:
    due: int = 0
    anonymised: int = 0
    skipped: int = 0  # no longer due by the time its turn came (a new lead, a call)
    ids: list[uuid.UUID] = field(default_factory=list)


def retention_anonymise(
    *,
    as_of: datetime,
    channel: str = Channel.RETENTION,
    batch_size: int = 100,
    limit: int | None = None,
    time_budget: float | None = None,
    progress: Callable[[str], None] | None = None,
) -> RetentionResult:
    """Anonymise every candidate due at `as_of` (at most `limit`, and no new batch once
    `time_budget` seconds have passed), one transaction each, reporting progress after
    each batch. Safe to run twice or in parallel: a candidate already erased, or locked by
    another run and erased by it, is skipped; what is left is done by the next run."""
    started = monotonic()
    ids = list(retention_due(as_of=as_of).values_list("pk", flat=True)[:limit])
    result = RetentionResult(due=len(ids))
    requested_by = f"retention period over (RETENTION_PERIOD={settings.RETENTION_PERIOD.days}d)"
    for start in range(0, len(ids), batch_size):
        if time_budget is not None and monotonic() - started > time_budget:
            break
        for pk in ids[start : start + batch_size]:
            with transaction.atomic():
                candidate = retention_due(as_of=as_of).filter(pk=pk).select_for_update(of=("self",)).first()
                if candidate is None:
                    result.skipped += 1
                    continue
                person_erase(
                    candidate=candidate,
                    requested_by=requested_by,
                    by=None,
                    kind=ErasureRecord.Kind.RETENTION,
                    channel=channel,
                )
            result.anonymised += 1
            result.ids.append(pk)
        if progress is not None:
            progress(f"{min(start + batch_size, len(ids))}/{len(ids)} done")
    return result
