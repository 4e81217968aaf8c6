"""Merging two records of one person (same reading and birth date, signed up with different
contacts). Everything that happened moves onto the candidate kept; the other is closed as a
duplicate through the pipeline, so partners see one outcome."""

import uuid
from collections.abc import Callable, Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from leads.candidates.pipeline import candidate_close, timeline_record
from leads.models import (
    Candidate,
    CandidateCertification,
    FollowUpTask,
    Lead,
    PayoutLine,
    TimelineEvent,
    WorkHistoryEntry,
)
from leads.partners.webhooks import lead_status_changed_emit
from leads.payouts.services import payout_clawback

# The parts that hang their own rows on a candidate and sit above this module (placements'
# applications and reveals; consultations' bookings) register a mover from their
# AppConfig.ready(). Each is called inside the merge's transaction as
# hook(source=duplicate, target=keep, by=by) and returns what it moved, by name; one that
# raises undoes the whole merge.
MergeHook = Callable[..., Mapping[str, int]]
MERGE_HOOKS: list[MergeHook] = []


def candidate_merge_register(*, hook: MergeHook) -> None:
    MERGE_HOOKS.append(hook)


@transaction.atomic
def candidate_merge(*, keep_id: uuid.UUID, duplicate_id: uuid.UUID, by: User | None) -> Candidate:
    """Move the duplicate's leads, timeline, follow-up tasks, work history, certifications,
    applications and employer reveals onto `keep`, record the merge on both timelines, and close the duplicate
    with reason `duplicate`."""
    if keep_id == duplicate_id:
        raise ValidationError(_("A candidate cannot be merged into itself."), code="same")
    # Both rows locked, always in the same order, so two merges of one pair cannot deadlock.
    locked = {
        c.pk: c
        for c in Candidate.objects.select_for_update().filter(pk__in=[keep_id, duplicate_id]).order_by("pk")
    }
    keep, duplicate = locked[keep_id], locked[duplicate_id]
    if duplicate.is_closed and duplicate.closed_reason == Candidate.ClosedReason.DUPLICATE:
        raise ValidationError(_("%(name)s has already been merged.") % {"name": duplicate}, code="merged")
    if duplicate.stage == Candidate.Stage.PLACED:
        raise ValidationError(_("A placed candidate cannot be merged away."), code="placed")

    moved_leads = list(Lead.objects.filter(candidate=duplicate).values_list("pk", flat=True))
    moved = {
        "leads": Lead.objects.filter(candidate=duplicate).update(candidate=keep),
        "events": TimelineEvent.objects.filter(candidate=duplicate).update(candidate=keep),
        "tasks": FollowUpTask.objects.filter(candidate=duplicate).update(candidate=keep),
        "jobs": WorkHistoryEntry.objects.filter(candidate=duplicate).update(candidate=keep),
        # One record per certification and candidate: the kept candidate's wins.
        "certifications": CandidateCertification.objects.filter(candidate=duplicate)
        .exclude(
            certification__in=CandidateCertification.objects.filter(candidate=keep).values("certification")
        )
        .update(candidate=keep),
    }
    # A conflict (the duplicate further along for a posting both applied to) raises, and the
    # transaction undoes the moves above: nothing is half-merged.
    for hook in MERGE_HOOKS:
        moved.update(hook(source=duplicate, target=keep, by=by))

    fields = []
    for name in ("desired_roles", "certifications"):  # the raw lists: union, first seen first
        merged = [
            *getattr(keep, name),
            *(v for v in getattr(duplicate, name) if v not in getattr(keep, name)),
        ]
        if merged != getattr(keep, name):
            setattr(keep, name, merged)
            fields.append(name)
    # The younger record's partner was paid for a person "not known before", who was: the
    # pay is taken back (removed if not issued yet, a clawback line on the next statement).
    younger = duplicate if duplicate.created_at >= keep.created_at else keep
    if younger.credited_lead_id is not None:
        payout_clawback(lead_id=younger.credited_lead_id, reason=PayoutLine.Reason.MERGED, at=timezone.now())
    if keep.credited_lead_id is None and duplicate.credited_lead_id is not None:
        keep.credited_lead_id = duplicate.credited_lead_id
        fields.append("credited_lead")
    if fields:
        keep.save(update_fields=[*fields, "updated_at"])
    if moved_leads and keep.partner_status != duplicate.partner_status:
        # The moved leads' partners now see the kept record's status.
        lead_status_changed_emit(
            candidate_id=keep.pk, status=keep.partner_status, at=timezone.now(), lead_ids=moved_leads
        )

    timeline_record(
        candidate_id=keep.pk,
        kind=TimelineEvent.Kind.MERGED,
        by=by,
        data={"from": str(duplicate.pk), **{k: v for k, v in moved.items() if v}},
    )
    candidate_close(candidate_id=duplicate.pk, reason=Candidate.ClosedReason.DUPLICATE, by=by)
    # The duplicate keeps its contacts (each is unique to one record): a later lead with them
    # finds it, and intake follows merged_into to `keep`. Records merged into the duplicate
    # before now point at `keep` too, so the way is always one step.
    Candidate.objects.filter(Q(pk=duplicate.pk) | Q(merged_into=duplicate)).update(merged_into=keep)
    timeline_record(
        candidate_id=duplicate.pk, kind=TimelineEvent.Kind.MERGED, by=by, data={"into": str(keep.pk)}
    )
    keep.refresh_from_db()
    return keep
