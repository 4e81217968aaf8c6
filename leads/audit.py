"""The audit log of personal data (APPI accountability): who viewed, exported, changed or
erased a candidate's data, through what, and when. Entries hold ids and field names only,
never values, so they survive the candidate's erasure; on PostgreSQL a trigger makes the
table append-only (migration leads 0010).

Callers write an entry where the access happens: the candidate admin page
(leads.admin.audit), the CSV and JSON exports, the privacy commands, the advisors' API and
the erasure itself.
"""

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import StrEnum

from django.utils import timezone

from accounts.models import User
from leads.models import AuditEntry

Action = AuditEntry.Action


class Channel(StrEnum):
    """How the access happened (AuditEntry.channel)."""

    ADMIN = "admin"  # the candidate page or an admin action
    ADMIN_CSV = "admin_csv"  # the candidate list's CSV export
    API = "api"  # the advisors' API
    COMMAND = "command"  # privacy_export / privacy_erase / privacy_retention, run by an operator
    RETENTION = "retention"  # the daily retention task (no person involved)
    LEDGER = "ledger"  # a placement ledger CSV (leads.placements.ledgers)


def _actor(by: User | None) -> User | None:
    # An anonymous or unsaved user is no one to record.
    return by if by is not None and by.pk is not None else None


def audit_record(
    *,
    candidate_id: uuid.UUID,
    action: str,
    by: User | None,
    channel: str,
    fields: Sequence[str] = (),
    at: datetime | None = None,
) -> AuditEntry:
    """Append one entry. `fields` are field names, never values."""
    return AuditEntry.objects.create(
        candidate_id=candidate_id,
        action=Action(action),
        actor=_actor(by),
        channel=channel,
        fields=list(fields),
        at=at or timezone.now(),
    )


def audit_record_many(
    *,
    candidate_ids: Iterable[uuid.UUID],
    action: str,
    by: User | None,
    channel: str,
    fields: Sequence[str] = (),
) -> int:
    """One entry per candidate, in one INSERT (a CSV export of a whole page)."""
    now, actor = timezone.now(), _actor(by)
    entries = [
        AuditEntry(
            candidate_id=candidate_id,
            action=Action(action),
            actor=actor,
            channel=channel,
            fields=list(fields),
            at=now,
        )
        for candidate_id in candidate_ids
    ]
    return len(AuditEntry.objects.bulk_create(entries))
