"""Advisors' follow-up tasks: create, complete, snooze. The reminders (CONTRACT section 6)
create them automatically through `followup_task_create` with a key, so that a sweep
running twice leaves one task."""

import uuid
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from leads.candidates.pipeline import timeline_record
from leads.models import FollowUpTask, TimelineEvent


def _require_aware(moment: datetime) -> None:
    if timezone.is_naive(moment):
        raise ValueError(f"A timezone-aware datetime is required, got {moment!r}.")


def followup_task_create(
    *,
    candidate_id: uuid.UUID,
    advisor_id: int,
    due_at: datetime,
    title: str,
    source: str = FollowUpTask.Source.MANUAL,
    created_by: User | None = None,
    key: str | None = None,
) -> FollowUpTask:
    """Create a task for an advisor. With a `key`, a second call returns the first task
    unchanged (the unique constraint decides, not a check-then-act)."""
    _require_aware(due_at)
    title = " ".join(title.split())
    if not title:
        raise ValidationError(_("Enter a title."), code="required")
    fields = {
        "candidate_id": candidate_id,
        "advisor_id": advisor_id,
        "due_at": due_at,
        "title": title,
        "source": FollowUpTask.Source(source),
        "created_by": created_by,
    }
    if key is None:
        return FollowUpTask.objects.create(**fields)
    task, _created = FollowUpTask.objects.get_or_create(key=key, defaults=fields)
    return task


@transaction.atomic
def followup_task_complete(*, task_id: int, by: User | None) -> FollowUpTask:
    """Mark done and note it on the candidate's timeline. Completing twice changes nothing."""
    now = timezone.now()
    updated = FollowUpTask.objects.filter(pk=task_id, done_at__isnull=True).update(done_at=now)
    task = FollowUpTask.objects.get(pk=task_id)
    if updated:
        timeline_record(
            candidate_id=task.candidate_id, kind=TimelineEvent.Kind.TASK_DONE, by=by, note=task.title, at=now
        )
    return task


@transaction.atomic
def followup_task_snooze(*, task_id: int, until: datetime, by: User | None) -> FollowUpTask:
    """Hide an open task until a later time (after both now and its due time)."""
    _require_aware(until)
    task = FollowUpTask.objects.select_for_update().get(pk=task_id)
    if task.done_at is not None:
        raise ValidationError(_("This task is already done."), code="done")
    if until <= timezone.now() or until <= task.due_at:
        raise ValidationError(_("Snooze until a time after now and after the due time."), code="invalid")
    task.snoozed_until = until
    task.save(update_fields=["snoozed_until"])
    return task
