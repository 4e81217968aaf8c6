"""Disclosure and erasure of a person's data (APPI requests; CONTRACT section 1).

- `person_find` finds the person by email or phone, normalised as at intake, on the
  candidate or on any lead's copy of the contact.
- `person_export` gathers everything held about them as JSON-ready data.
- `person_erase` erases it for good in one transaction, keeping the rows, ids, stages and
  partners so that partners' counts and funnels stay right, and records the erasure
  (`ErasureRecord`, and an `erase` entry in the audit log) without the erased data. The
  retention task (leads.privacy.retention) erases through it too.
- Each lead keeps its third-party provision record (partner, date, consent) and, in place
  of the payload as received, the names of the items it carried (`provision_items`).

Apps that hang their own rows on a candidate and depend on leads (consultations' bookings,
roles' applications) register from their AppConfig.ready(), as with MERGE_HOOKS:

    privacy_register(name="bookings", exporter=bookings_export, eraser=bookings_erase)

An exporter returns the person's rows as JSON-ready dicts; an eraser blanks them, cancels
their pending outbox rows (`outbox_cancel(subject=...)`) and returns how many rows it erased.
Erasers run inside the erasure's transaction and must be safe to run twice.
"""

import uuid
from collections.abc import Callable
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from core.models import OutboxMessage
from core.normalize import NormalizationError, normalize_email, normalize_phone
from core.outbox import outbox_cancel
from leads.audit import Action, Channel, audit_record
from leads.candidates.pipeline import candidate_close
from leads.models import (
    LEAD_SIGN_UP_FIELDS,
    Candidate,
    ErasureRecord,
    FollowUpTask,
    Lead,
    LineLinkCode,
    PayoutLine,
    TimelineEvent,
    WorkHistoryEntry,
)
from leads.payouts.services import CLAWBACK_WINDOW, payout_clawback

Exporter = Callable[[Candidate], list[dict[str, Any]]]


Eraser = Callable[[Candidate], int]


PRIVACY_EXPORTERS: dict[str, Exporter] = {}


PRIVACY_ERASERS: dict[str, Eraser] = {}


def privacy_register(*, name: str, exporter: Exporter | None = None, eraser: Eraser | None = None) -> None:
    """Register another app's exporter and/or eraser under `name` (the key of its part of
    the export and of the erasure counts). Registering the same function again is harmless."""
    for registry, function in ((PRIVACY_EXPORTERS, exporter), (PRIVACY_ERASERS, eraser)):
        if function is None:
            continue
        if registry.get(name, function) is not function:
            raise RuntimeError(f"Two privacy hooks named {name!r}")
        registry[name] = function  # type: ignore[assignment]


def person_find(*, email: str | None = None, phone: str | None = None) -> Candidate | None:
    """The (not yet erased) candidate with this email or phone, normalised as at intake; also
    found through a lead's copy of the contact (the candidate's own may have changed since).
    A value that cannot be normalised matches nobody."""
    match = Q()
    try:
        if email:
            match |= Q(email=normalize_email(email))
        if phone:
            match |= Q(phone=normalize_phone(phone))
    except NormalizationError:
        return None
    if not match:
        return None
    live = Candidate.objects.filter(erased_at__isnull=True)
    found = live.filter(match).order_by("created_at").first()
    if found is None:
        found = (
            live.filter(pk__in=Lead.objects.filter(match).values("candidate_id"))
            .order_by("created_at")
            .first()
        )
    if found is not None and found.merged_into_id is not None:
        # A merged-away duplicate: the person is the record it was merged into, whose data
        # (and export and erasure) covers the duplicate's own (merged_records).
        kept = live.filter(pk=found.merged_into_id).first()
        found = kept or found
    return found


# What stays on an erased candidate and its leads: ids, links, pipeline and consent facts,
# times. Every other field goes back to its default, so a personal field added later is
# erased without anyone remembering to list it here.
CANDIDATE_KEEP = frozenset(
    {
        "id",
        "created_at",
        "updated_at",
        "advisor",
        "stage",
        "is_closed",
        "closed_reason",
        "partner_status",
        "partner_status_changed_at",
        "credited_lead",
        "merged_into",  # which record of the person it was merged into: no personal data
        "last_contacted_at",
        "consent_withdrawn_at",  # a consent fact, like the leads' own: no message, ever
        "erased_at",
    }
)


LEAD_KEEP = frozenset(
    {
        "id",
        "partner",
        "candidate",
        "external_id",  # the partner's own reference: a resent lead is still recognised
        "existing_candidate",
        "consent_policy_version",
        "consent_agreed_at",
        "consent_third_party_provision",
        "created_at",
    }
)


# Timeline details that are system vocabulary (stages, reasons, call outcomes, ids) and
# keep the history of the funnel; every other kind's details are cleared.
TIMELINE_KEEP_DATA = (
    TimelineEvent.Kind.STAGE_CHANGED,
    TimelineEvent.Kind.CLOSED,
    TimelineEvent.Kind.REOPENED,
    TimelineEvent.Kind.CALL,
    TimelineEvent.Kind.MERGED,
)


ERASED_NAME = "-"


def erased_email(*, candidate_id: uuid.UUID) -> str:
    """The placeholder contact of an erased person. The "has a contact" check constraints
    need an email or a phone, and the candidate's email is unique: a `.invalid` address
    (RFC 6761: never resolves, so nothing can ever be sent to it) made of the candidate's
    own id is unique, valid for EmailField, and says nothing about the person."""
    return f"erased-{candidate_id.hex}@erased.invalid"


def _blanked(model: type[models.Model], keep: frozenset[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field in model._meta.concrete_fields:
        if field.name in keep or field.primary_key:
            continue
        default = field.get_default()
        if default is None and not field.null:
            raise RuntimeError(f"{model.__name__}.{field.name} has no blank value: list it as kept")
        values[field.name] = default
    return values


def _log_entries_scrub(*, candidate: Candidate, lead_ids: list[uuid.UUID]) -> int:
    """The admin's history keeps each object's str() (a name, a task title) and the changed
    fields; blank them for the person's objects."""

    def ids_of(model: type[models.Model]) -> list[str]:
        return [
            str(pk) for pk in model._default_manager.filter(candidate=candidate).values_list("pk", flat=True)
        ]

    objects: list[tuple[type[models.Model], list[str]]] = [
        (Candidate, [str(candidate.pk)]),
        (Lead, [str(pk) for pk in lead_ids]),
        (FollowUpTask, ids_of(FollowUpTask)),
        (WorkHistoryEntry, ids_of(WorkHistoryEntry)),
        (TimelineEvent, ids_of(TimelineEvent)),
    ]
    match = Q(pk__in=[])
    for model, ids in objects:
        if ids:
            match |= Q(content_type=ContentType.objects.get_for_model(model), object_id__in=ids)
    return LogEntry.objects.filter(match).update(object_repr=ERASED_NAME, change_message="")


# Where an erased lead keeps the names of the items it carried (the payload as received is
# gone, and the item fields now hold placeholders): the provision record still lists them.
ERASED_ITEMS_KEY = "erased_items_received"


def provision_items(*, lead: Lead) -> list[str]:
    """The names of the person's items a lead carried (the third-party provision record's
    "items received"), also once the lead has been erased."""
    kept = lead.raw_payload.get(ERASED_ITEMS_KEY) if isinstance(lead.raw_payload, dict) else None
    if isinstance(kept, list):
        return [str(name) for name in kept]
    return [name for name in LEAD_SIGN_UP_FIELDS if getattr(lead, name) not in (None, "", [])]


def _leads_erase(*, lead_ids: list[uuid.UUID], placeholder: str) -> int:
    blank = {**_blanked(Lead, LEAD_KEEP), "family_name": ERASED_NAME, "email": placeholder}
    erased = 0
    # One UPDATE per lead (a person has one to a few): each keeps its own list of items.
    for lead in Lead.objects.filter(pk__in=lead_ids).order_by("created_at"):
        erased += Lead.objects.filter(pk=lead.pk).update(
            **{**blank, "raw_payload": {ERASED_ITEMS_KEY: provision_items(lead=lead)}}
        )
    return erased


@transaction.atomic
def person_erase(
    *,
    candidate: Candidate,
    requested_by: str,
    by: User | None,
    kind: str = ErasureRecord.Kind.REQUEST,
    channel: str | None = None,
) -> ErasureRecord:
    """Erase the person's data for good, keep the anonymous rows, close the candidate with
    the reason `erased` (the last stage reached stays, so funnels count it; one already
    closed keeps its reason, a placed one stays placed) and record the erasure, in the
    erasure records and the audit log. `channel` defaults to the admin when a user erases,
    else to a command. A second call for the same person changes nothing and returns the
    first record."""
    locked = Candidate.objects.select_for_update(of=("self",)).get(pk=candidate.pk)
    if locked.erased_at is not None:
        previous = ErasureRecord.objects.filter(candidate_id=locked.pk).first()
        if previous is not None:
            return previous
    now = timezone.now()
    if not locked.is_closed and locked.stage != Candidate.Stage.PLACED:
        candidate_close(candidate_id=locked.pk, reason=Candidate.ClosedReason.ERASED, by=by)
    if kind == ErasureRecord.Kind.INVALID and locked.credited_lead_id is not None:
        # A partner paid for a person who was not one gets it taken back, within 30 days.
        credited = Lead.objects.filter(pk=locked.credited_lead_id, created_at__gte=now - CLAWBACK_WINDOW)
        if credited.exists():
            payout_clawback(lead_id=locked.credited_lead_id, reason=PayoutLine.Reason.INVALID, at=now)

    counts: dict[str, int] = {}
    # Other apps first, while the candidate still reads as before (they may match on it).
    for name, eraser in PRIVACY_ERASERS.items():
        counts[name] = eraser(locked)

    lead_ids = list(Lead.objects.filter(candidate_id=locked.pk).values_list("pk", flat=True))
    placeholder = erased_email(candidate_id=locked.pk)
    counts["admin_log_entries"] = _log_entries_scrub(candidate=locked, lead_ids=lead_ids)
    counts["candidate"] = Candidate.objects.filter(pk=locked.pk).update(
        **{
            **_blanked(Candidate, CANDIDATE_KEEP),
            "family_name": ERASED_NAME,
            "email": placeholder,
            "erased_at": now,
            "updated_at": now,
        }
    )
    counts["leads"] = _leads_erase(lead_ids=lead_ids, placeholder=placeholder)
    # A code still valid would link a LINE account to the erased record.
    counts["line_link_codes"], _ = LineLinkCode.objects.filter(candidate_id=locked.pk).delete()
    events = TimelineEvent.objects.filter(candidate_id=locked.pk)
    counts["timeline_events"] = events.update(note="")
    events.exclude(kind__in=TIMELINE_KEEP_DATA).update(data={})
    counts["work_history"] = WorkHistoryEntry.objects.filter(candidate_id=locked.pk).update(
        employer_name="", job_title="", description=""
    )
    tasks = FollowUpTask.objects.filter(candidate_id=locked.pk)
    counts["followup_tasks"] = tasks.update(title=ERASED_NAME)
    # Nobody is to call an erased person back: open tasks leave the advisors' lists.
    tasks.filter(done_at__isnull=True).update(done_at=now)

    subjects = [f"lead:{pk}" for pk in lead_ids]
    counts["outbox_cancelled"] = sum(outbox_cancel(subject=subject) for subject in subjects)
    # A delivery error may quote an address; ids-only payloads stay as they are.
    OutboxMessage.objects.filter(subject__in=subjects).exclude(last_error="").update(last_error="")

    audit_record(
        candidate_id=locked.pk,
        action=Action.ERASE,
        by=by,
        channel=channel or (Channel.ADMIN if by is not None else Channel.COMMAND),
        at=now,
    )
    record = ErasureRecord.objects.create(
        candidate_id=locked.pk,
        erased_at=now,
        erased_by=by,
        requested_by=requested_by,
        kind=ErasureRecord.Kind(kind),
        counts=counts,
    )
    # The records merged into this one are the same person: they still hold the contacts and
    # names they were created with. Each is erased the same way, with its own record.
    for duplicate in Candidate.objects.filter(merged_into=locked.pk, erased_at__isnull=True):
        person_erase(candidate=duplicate, requested_by=requested_by, by=by, kind=kind, channel=channel)
    return record
