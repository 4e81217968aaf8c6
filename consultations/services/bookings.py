"""Booking, moving and cancelling consultations (CONTRACT section 5).

Race-freedom comes from the database, never from a check-then-act in Python:
- an advisor's time: the exclusion constraint of migration 0004 (PostgreSQL). Each attempt
  INSERTs (or UPDATEs) inside a savepoint and lets the constraint decide; a violation rolls
  the savepoint back and the next free advisor is tried. On SQLite, which has no such
  constraint, the same savepoint checks for an overlap right after its write: SQLite has a
  single writer, so nobody else can write between our write and our commit.
- PostgreSQL checks an exclusion constraint differently from a unique index: two
  transactions inserting conflicting rows at once each wait for the other, and one dies of
  a deadlock (after deadlock_timeout). So writers that take time on a day first take a
  transaction-scoped advisory lock on that day: they queue instead of deadlocking, and each
  sees its predecessor's committed rows. The constraint still decides; the lock only
  orders the writers (bookings of one day are a handful a minute at most).
- a candidate's one booked consultation of a kind: the candidate's row is locked first, and
  a partial unique index backs the check up against any other writer.
- a booking's own changes: its row is locked (SELECT ... FOR UPDATE) for the transaction.

Every effect (the confirmation, reschedule and cancellation emails) is an outbox row written
in the same transaction, so it is sent after commit, retried, and never sent for a change
that rolled back; pending rows of a booking are cancelled in the transaction that makes
them moot.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from consultations.models import KIND_SPECS, LONGEST_BLOCK, Booking
from consultations.selectors import advisors_free_at, booking_window
from consultations.services.notices import (
    HOLD_KINDS,
    KIND_CANCELLED,
    KIND_CONFIRMATION,
    KIND_RESCHEDULED,
    booking_hold_enqueue,
    booking_notice_enqueue,
    booking_reminders_schedule,
    booking_subject,
)
from consultations.tokens import manage_token_new
from core.business_time import BUSINESS_TZ
from core.integrity import violated_constraint
from core.outbox import outbox_cancel
from leads.candidates.pipeline import candidate_advance_to
from leads.intake.inputs import LeadInput
from leads.intake.services import lead_confirmation_await, lead_confirmed, lead_ingest
from leads.models import Candidate, Lead

CANDIDATE_CONSTRAINT = "booking_one_booked_per_candidate_kind"
_LONGEST = LONGEST_BLOCK


OVERLAP_CONSTRAINT = "booking_advisor_no_overlap"  # migration 0004, PostgreSQL only


DEADLOCK = "40P01"


class BookingError(Exception):
    """A booking request the current state refuses; `code` is the contract's error code."""

    code = "conflict"


class SlotUnavailable(BookingError):
    code = "slot_unavailable"


class AlreadyBooked(BookingError):
    code = "already_booked"


class BookingClosed(BookingError):
    code = "booking_closed"


class HoldReleased(BookingClosed):
    """Confirming a hold that was released: the time must be picked again."""


class HoldLimitReached(BookingError):
    """One address holds HOLDS_PER_CLIENT unconfirmed seats already."""

    code = "throttled"

    def __init__(self, retry_at: datetime) -> None:
        super().__init__(retry_at.isoformat())
        self.retry_at = retry_at


HOLDS_PER_CLIENT = 3  # CONTRACT section 5: unconfirmed seats one client may hold at once
HOLD_LOCK_NAMESPACE = 0x0B0D  # pg_advisory_xact_lock(int, int): one client's holds


@dataclass(frozen=True)
class BookingCreated:
    booking: Booking
    manage_token: str  # the only time the raw token is at hand outside an email


class _Overlap(Exception):
    """SQLite's stand-in for the exclusion violation (rolls the savepoint back)."""


def _constraint_name(exc: IntegrityError) -> str:
    if name := violated_constraint(exc):
        return name
    # SQLite names the columns of a failed unique index instead.
    return CANDIDATE_CONSTRAINT if "consultations_booking.candidate_id" in str(exc) else ""


def _check_overlap_without_constraint(booking: Booking) -> None:
    if connection.vendor == "postgresql":
        return  # the exclusion constraint has already decided
    overlapping = (
        Booking.objects.filter(
            advisor_id=booking.advisor_id,
            status__in=Booking.ACTIVE_STATUSES,
            start_at__lt=booking.blocked_until,
            blocked_until__gt=booking.start_at,
        )
        .exclude(pk=booking.pk)
        .exists()
    )
    if overlapping:
        raise _Overlap


ADVISORY_LOCK_NAMESPACE = 0x0B0C  # the first key of pg_advisory_xact_lock(int, int): bookings


def _lock_day(start: datetime) -> None:
    if connection.vendor != "postgresql":
        return  # SQLite: a single writer already
    day = start.astimezone(BUSINESS_TZ).date()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ADVISORY_LOCK_NAMESPACE, day.toordinal()])


def _require_bookable(start: datetime, now: datetime) -> None:
    # Before any arithmetic on `start`: a client may send the year 9999.
    earliest, latest = booking_window(now)
    if not earliest <= start <= latest:
        raise SlotUnavailable


def _candidate_locked(candidate_id: uuid.UUID) -> Candidate:
    return Candidate.objects.select_for_update(of=("self",)).only("pk", "advisor_id").get(pk=candidate_id)


def _time_taken(exc: Exception) -> bool:
    """Whether a failed write means only that the advisor's time is taken. A deadlock
    between two exclusion checks can still happen across midnight (the day locks differ);
    its victim has lost the race like any other loser."""
    if isinstance(exc, _Overlap):
        return True
    if isinstance(exc, IntegrityError):
        return _constraint_name(exc) == OVERLAP_CONSTRAINT
    return getattr(exc.__cause__, "sqlstate", None) == DEADLOCK


def _insert(booking: Booking) -> bool:
    """True if the advisor's time was free (the row is in), False if it was taken."""
    try:
        with transaction.atomic():
            booking.save(force_insert=True)
            _check_overlap_without_constraint(booking)
    except (_Overlap, IntegrityError, OperationalError) as exc:
        if isinstance(exc, IntegrityError) and _constraint_name(exc) == CANDIDATE_CONSTRAINT:
            raise AlreadyBooked from exc
        if not _time_taken(exc):
            raise
        return False
    return True


def _release_expired_near(start: datetime, now: datetime) -> None:
    """Release the holds past their deadline that could stand in the way of a booking at
    ``start`` (the sweep releases them too, but may not have yet): under the day's lock, so
    the exclusion constraint then sees only live rows."""
    Booking.objects.filter(
        status=Booking.Status.HELD,
        confirm_by__lte=now,
        start_at__lt=start + _LONGEST,
        blocked_until__gt=start - _LONGEST,
    ).update(status=Booking.Status.RELEASED, updated_at=now)


def _place(booking: Booking, *, candidate: Candidate, now: datetime) -> None:
    """Give ``booking`` an advisor free at its start and insert it, or raise."""
    if Booking.objects.filter(
        candidate=candidate, kind=booking.kind, status__in=Booking.PENDING_STATUSES
    ).exists():
        raise AlreadyBooked
    _lock_day(booking.start_at)
    _release_expired_near(booking.start_at, now)
    for advisor_id in advisors_free_at(
        start=booking.start_at, kind=booking.kind, now=now, preferred=candidate.advisor_id
    ):
        booking.advisor_id = advisor_id
        if _insert(booking):
            return
    raise SlotUnavailable


def _new_booking(
    *, lead: Lead, candidate: Candidate, start: datetime, kind: str, mode: str, notes: str, language: str
) -> tuple[Booking, str]:
    spec = KIND_SPECS[kind]
    booking_id = uuid.uuid4()
    token, token_hash, salt = manage_token_new(booking_id=booking_id)
    booking = Booking(
        id=booking_id,
        candidate_id=candidate.pk,
        lead_id=lead.pk,
        kind=kind,
        mode=mode,
        start_at=start,
        end_at=start + spec.length,
        blocked_until=start + spec.length + spec.buffer,
        notes=notes,
        language=language,
        manage_token_hash=token_hash,
        manage_token_salt=salt,
    )
    return booking, token


def _booked(booking: Booking, *, advisor_of_candidate: int | None, now: datetime) -> None:
    """What a booking being booked (at once, or on confirmation) sets off, in its
    transaction: the candidate's advisor, their stage, the confirmation and reminders."""
    if advisor_of_candidate is None:
        # The person they will talk to becomes their advisor (lead assignment then
        # keeps it rather than picking someone else).
        Candidate.objects.filter(pk=booking.candidate_id, advisor__isnull=True).update(
            advisor_id=booking.advisor_id, updated_at=now
        )
    candidate_advance_to(
        candidate_id=booking.candidate_id, stage=Candidate.Stage.CONSULTATION_BOOKED, by=None
    )
    booking_notice_enqueue(booking, kind=KIND_CONFIRMATION, now=now)
    booking_reminders_schedule(booking, now=now)


def booking_create(
    *,
    start: datetime,
    kind: str,
    mode: str,
    lead_id: uuid.UUID | None = None,
    contact: LeadInput | None = None,
    notes: str = "",
    language: str = "ja",
    now: datetime | None = None,
) -> BookingCreated:
    """Book a consultation for the candidate of ``lead_id`` (from a booking token), or for
    the person in ``contact``, who is found or created as a direct lead (partner None).
    Booked at once: the public direct booking goes through ``booking_hold`` instead; this
    path with ``contact`` is the agency's own (the demo data, an advisor booking for someone).

    The advisor is the candidate's own when free, otherwise the least loaded free one.
    Raises SlotUnavailable when no advisor is free at ``start`` (or it is not a slot),
    AlreadyBooked when the candidate has a booked (or held) consultation of this kind, and
    Lead.DoesNotExist when ``lead_id`` is unknown (an erased lead)."""
    if (lead_id is None) == (contact is None):
        raise ValueError("Give exactly one of lead_id and contact.")
    now = now or timezone.now()
    _require_bookable(start, now)
    with transaction.atomic():
        if contact is not None:
            lead = lead_ingest(partner=None, data=contact, now=now).lead
        else:
            assert lead_id is not None
            lead = Lead.objects.only("pk", "candidate_id").get(pk=lead_id)
        candidate = _candidate_locked(lead.candidate_id)
        if candidate.erased_at is not None:  # their data is gone: the old link must not revive it
            raise Lead.DoesNotExist
        booking, token = _new_booking(
            lead=lead, candidate=candidate, start=start, kind=kind, mode=mode, notes=notes, language=language
        )
        _place(booking, candidate=candidate, now=now)
        _booked(booking, advisor_of_candidate=candidate.advisor_id, now=now)
    booking.advisor = User.objects.get(pk=booking.advisor_id)
    return BookingCreated(booking=booking, manage_token=token)


def _lock_client(client: str) -> None:
    if connection.vendor != "postgresql":
        return  # SQLite: a single writer already (the count is made after our first write)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [HOLD_LOCK_NAMESPACE, client])


def _holds_of(client: str, now: datetime) -> list[datetime]:
    """The deadlines of the live holds made from ``client`` (a client_key)."""
    deadlines = (
        Booking.objects.filter(status=Booking.Status.HELD, hold_client=client, confirm_by__gt=now)
        .order_by("confirm_by")
        .values_list("confirm_by", flat=True)
    )
    return [deadline for deadline in deadlines if deadline is not None]


def _require_hold_allowed(client: str, now: datetime, *, including_ours: bool) -> None:
    holds = _holds_of(client, now)
    if len(holds) > HOLDS_PER_CLIENT - (0 if including_ours else 1):
        raise HoldLimitReached(retry_at=holds[0])


def booking_hold(
    *,
    start: datetime,
    kind: str,
    mode: str,
    contact: LeadInput,
    client: str,
    notes: str = "",
    language: str = "ja",
    now: datetime | None = None,
) -> BookingCreated:
    """Hold a seat for a person booking directly (no lead's link, CONTRACT section 5): the
    person is found or created as intake does (a direct lead), the seat is taken exactly as
    a booking takes it, and the booking stays `held` until ``booking_confirm`` from the link
    sent to them (the outbox row written here), or is released at ``confirm_by`` (another
    row, due then). No reminder is written until it is confirmed.

    ``client`` is the keyed hash of the address the request came from: one address holds
    at most HOLDS_PER_CLIENT seats at once (HoldLimitReached), counted under a lock on
    that client, so concurrent requests from it cannot exceed it. Raises as booking_create."""
    now = now or timezone.now()
    _require_bookable(start, now)
    _require_hold_allowed(client, now, including_ours=False)  # the cheap refusal first
    with transaction.atomic():
        _lock_client(client)
        lead = lead_ingest(partner=None, data=contact, now=now).lead
        lead_confirmation_await(lead_id=lead.pk)  # nobody is told of it before it is confirmed
        candidate = _candidate_locked(lead.candidate_id)
        booking, token = _new_booking(
            lead=lead, candidate=candidate, start=start, kind=kind, mode=mode, notes=notes, language=language
        )
        booking.status = Booking.Status.HELD
        booking.confirm_by = now + settings.CONSULTATION_HOLD_TTL
        booking.hold_client = client
        _place(booking, candidate=candidate, now=now)
        _require_hold_allowed(client, now, including_ours=True)  # ours is in: the real count
        booking_hold_enqueue(booking, now=now)
    booking.advisor = User.objects.get(pk=booking.advisor_id)
    return BookingCreated(booking=booking, manage_token=token)


def booking_confirm(*, booking_id: uuid.UUID, now: datetime | None = None) -> Booking:
    """Confirm a hold: it becomes `booked` with its confirmation and reminders. Confirming
    again changes nothing. Raises HoldReleased once the hold was released (or its
    `confirm_by` has passed: it is released here) and BookingClosed for a booking that is
    neither held nor booked (cancelled)."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = booking_locked(booking_id)
        if booking.status == Booking.Status.BOOKED:
            return booking
        if (
            booking.status == Booking.Status.HELD
            and booking.confirm_by is not None
            and booking.confirm_by > now
        ):
            booking.status = Booking.Status.BOOKED
            booking.confirmed_at = now
            booking.save(update_fields=["status", "confirmed_at", "updated_at"])
            outbox_cancel(subject=booking_subject(booking.pk), kinds=HOLD_KINDS)
            if booking.lead_id is not None:
                lead_confirmed(lead_id=booking.lead_id, now=now)
            advisor_of_candidate = (
                Candidate.objects.filter(pk=booking.candidate_id).values_list("advisor_id", flat=True).get()
            )
            _booked(booking, advisor_of_candidate=advisor_of_candidate, now=now)
            return booking
        if booking.status == Booking.Status.HELD:
            _release(booking, now=now)
    if booking.status == Booking.Status.RELEASED:
        raise HoldReleased
    raise BookingClosed


def _release(booking: Booking, *, now: datetime) -> None:
    booking.status = Booking.Status.RELEASED
    booking.save(update_fields=["status", "updated_at"])
    outbox_cancel(subject=booking_subject(booking.pk), kinds=HOLD_KINDS)


def booking_release(*, booking_id: uuid.UUID, now: datetime | None = None) -> bool:
    """Release a hold that was not confirmed (its seat is offered again); True if it was
    still held. Run by the outbox row due at `confirm_by`, so `send_due_reminders --as-of`
    a later instant releases it as the beat sweep does."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = booking_locked(booking_id)
        if booking.status != Booking.Status.HELD:
            return False
        _release(booking, now=now)
    return True


def booking_locked(booking_id: uuid.UUID) -> Booking:
    return Booking.objects.select_for_update(of=("self",)).select_related("advisor").get(pk=booking_id)


def _move(booking: Booking, *, advisor_id: int, start: datetime) -> bool:
    """Move the row in one UPDATE: the new time is taken and the old one released in the
    same statement, so there is never a moment with both or neither; a conflict leaves the
    row as it was."""
    spec = KIND_SPECS[booking.kind]
    changes = {
        "advisor_id": advisor_id,
        "start_at": start,
        "end_at": start + spec.length,
        "blocked_until": start + spec.length + spec.buffer,
    }
    try:
        with transaction.atomic():
            Booking.objects.filter(pk=booking.pk).update(
                **changes, sequence=F("sequence") + 1, updated_at=timezone.now()
            )
            moved = Booking(pk=booking.pk, status=booking.status, **changes)
            _check_overlap_without_constraint(moved)
    except (_Overlap, IntegrityError, OperationalError) as exc:
        if not _time_taken(exc):
            raise
        return False
    return True


def booking_reschedule(*, booking_id: uuid.UUID, start: datetime, now: datetime | None = None) -> Booking:
    """Move a future booking to ``start`` (its advisor when free there, else another).
    The same row is updated (its SEQUENCE grows), so an old link can never make a second
    booking. Raises BookingClosed once it has started or if it is not booked, and
    SlotUnavailable (the booking untouched) when nobody is free at ``start``."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = booking_locked(booking_id)
        if booking.status != Booking.Status.BOOKED or booking.start_at <= now:
            raise BookingClosed
        if start == booking.start_at:
            return booking  # nothing to move
        _require_bookable(start, now)
        _lock_day(start)
        _release_expired_near(start, now)
        free = advisors_free_at(
            start=start, kind=booking.kind, now=now, preferred=booking.advisor_id, exclude_booking=booking.pk
        )
        if not any(_move(booking, advisor_id=advisor_id, start=start) for advisor_id in free):
            raise SlotUnavailable
        booking.refresh_from_db()
        # The old time's pending effects (an unsent confirmation, reminders) are moot.
        outbox_cancel(subject=booking_subject(booking.pk))
        booking_notice_enqueue(booking, kind=KIND_RESCHEDULED, now=now)
        booking_reminders_schedule(booking, now=now)
    return booking


def booking_cancel(
    *, booking_id: uuid.UUID, reason: str = "", by_staff: bool = False, now: datetime | None = None
) -> Booking:
    """Cancel a future booking (or a hold); its time is free again at once and none of its pending
    messages (reminders included) will be sent. Cancelling again changes nothing. Raises
    BookingClosed once the consultation has started. ``by_staff``: the agency cancelled, not
    the candidate, so the notice waits out the candidate's quiet hours."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = booking_locked(booking_id)
        if booking.status == Booking.Status.CANCELLED:
            return booking
        if booking.status not in Booking.PENDING_STATUSES or booking.start_at <= now:
            raise BookingClosed
        was_held = booking.status == Booking.Status.HELD
        booking.status = Booking.Status.CANCELLED
        booking.cancelled_at = now
        booking.cancel_reason = reason
        booking.save(update_fields=["status", "cancelled_at", "cancel_reason", "updated_at"])
        outbox_cancel(subject=booking_subject(booking.pk))
        if not was_held:  # an unconfirmed hold was never confirmed to them: nothing to undo
            booking_notice_enqueue(booking, kind=KIND_CANCELLED, now=now, by_staff=by_staff)
    return booking
