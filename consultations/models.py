import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class WeeklyAvailability(models.Model):
    """One window of an advisor's regular week, in the business time zone (Asia/Tokyo)."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="weekly_availability",
        verbose_name=_("advisor"),
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start_time = models.TimeField(_("start time"))
    end_time = models.TimeField(_("end time"))

    class Meta:
        verbose_name = _("weekly availability")
        verbose_name_plural = _("weekly availability")
        ordering = ("advisor", "weekday", "start_time")
        constraints = [
            models.CheckConstraint(
                condition=Q(start_time__lt=F("end_time")), name="availability_start_before_end"
            ),
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6), name="availability_weekday_range"
            ),
            models.UniqueConstraint(
                fields=("advisor", "weekday", "start_time"), name="availability_unique_window"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start_time:%H:%M}-{self.end_time:%H:%M}"


class ConsultationKind(models.TextChoices):
    CAREER = "career", _("Career consultation")
    DOCUMENTS = "documents", _("Résumé and work history review")
    INTERVIEW = "interview", _("Interview practice")


class ConsultationMode(models.TextChoices):
    ONLINE = "online", _("Online")
    PHONE = "phone", _("Phone")
    OFFICE = "office", _("At the office")


@dataclass(frozen=True)
class KindSpec:
    """How long a kind of consultation lasts, and the buffer the advisor keeps free after
    it (notes, a break) before the next one can start."""

    length: timedelta
    buffer: timedelta


# Kept in code, not in a table: changing a length changes the slot grid and the emails,
# which is a release, not an advisor's edit. A booking stores its own end and buffer, so
# changing these never moves existing bookings.
KIND_SPECS: dict[str, KindSpec] = {
    ConsultationKind.CAREER: KindSpec(length=timedelta(minutes=45), buffer=timedelta(minutes=15)),
    ConsultationKind.DOCUMENTS: KindSpec(length=timedelta(minutes=60), buffer=timedelta(minutes=15)),
    ConsultationKind.INTERVIEW: KindSpec(length=timedelta(minutes=45), buffer=timedelta(minutes=15)),
}
LONGEST_BLOCK = max(spec.length + spec.buffer for spec in KIND_SPECS.values())


class AvailabilityOverride(models.Model):
    """A change to one advisor's regular week on one date (Asia/Tokyo).

    - ``day_off``: the advisor is not available that day at all (wins over everything).
    - ``replace``: that day's hours are these windows instead of the weekly ones; a
      public holiday is opened this way.
    - ``extra``: these windows in addition to the weekly ones (also opens a holiday).
    """

    class Kind(models.TextChoices):
        DAY_OFF = "day_off", _("Day off")
        REPLACE = "replace", _("Replacement hours")
        EXTRA = "extra", _("Extra hours")

    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="availability_overrides",
        verbose_name=_("advisor"),
    )
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    start_time = models.TimeField(_("start time"), null=True, blank=True)
    end_time = models.TimeField(_("end time"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("availability override")
        verbose_name_plural = _("availability overrides")
        ordering = ("date", "advisor", "start_time")
        constraints = [
            # A day off has no hours; hours have a start before their end.
            models.CheckConstraint(
                condition=(
                    Q(kind="day_off", start_time__isnull=True, end_time__isnull=True)
                    | (
                        Q(kind__in=["replace", "extra"], start_time__isnull=False, end_time__isnull=False)
                        & Q(start_time__lt=F("end_time"))
                    )
                ),
                name="override_hours_match_kind",
            ),
        ]
        indexes = [
            # The slot computation reads every override of a date range.
            models.Index(fields=["date"], name="override_date_idx"),
        ]

    def __str__(self) -> str:
        if self.start_time is None or self.end_time is None:
            return f"{self.date} {self.get_kind_display()}"
        return f"{self.date} {self.get_kind_display()} {self.start_time:%H:%M}-{self.end_time:%H:%M}"


class Booking(models.Model):
    """A consultation between a candidate and an advisor.

    Double booking is made impossible by the database, not by the code that books:
    - on PostgreSQL an exclusion constraint (btree_gist), added by migration 0004 and not
      declared here, forbids two active bookings (booked or held) of one advisor whose
      ``[start_at, blocked_until)`` ranges overlap; ``blocked_until`` is the end plus the
      kind's buffer, so consecutive consultations keep the buffer between them;
    - SQLite (the embedded default) cannot express it; there the booking service checks
      for an overlap after its INSERT, inside the transaction, which is enough because
      SQLite has a single writer: once we have written, nobody else can until we commit.

    The manage token (the candidate's credential, in links) is never stored: only its
    SHA-256 hash, for lookup. See consultations.tokens for how emails rebuild the link.
    """

    class Status(models.TextChoices):
        # A direct booking (no lead's link) first holds its seat until the person confirms
        # it from the message sent to them; unconfirmed by `confirm_by`, it is released.
        HELD = "held", _("Held, awaiting confirmation")
        RELEASED = "released", _("Released unconfirmed")
        BOOKED = "booked", _("Booked")
        ATTENDED = "attended", _("Held")  # the consultation took place
        NO_SHOW = "no_show", _("No-show")
        CANCELLED = "cancelled", _("Cancelled")

    class NextStep(models.TextChoices):
        """What follows a held consultation (recorded with its outcome)."""

        DOCUMENTS = "documents", _("Prepare documents")
        APPLY = "apply", _("Move on to applying")
        ANOTHER_CONSULTATION = "another_consultation", _("Another consultation")
        THINKING = "thinking", _("Candidate is thinking it over")
        NONE = "none", _("No further support")

    # What occupies an advisor's time (a hold past its `confirm_by` too, until released:
    # see `occupying` for the reads that must not count it).
    ACTIVE_STATUSES = (Status.HELD, Status.BOOKED, Status.ATTENDED)
    # A candidate's one future consultation of a kind: booked, or held for them.
    PENDING_STATUSES = (Status.HELD, Status.BOOKED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    candidate = models.ForeignKey(
        "leads.Candidate", on_delete=models.CASCADE, related_name="bookings", verbose_name=_("candidate")
    )
    lead = models.ForeignKey(
        "leads.Lead",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="bookings",
        verbose_name=_("lead"),
        help_text=_("The sign-up the booking was made from."),
    )
    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bookings", verbose_name=_("advisor")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ConsultationKind.choices)
    mode = models.CharField(_("mode"), max_length=10, choices=ConsultationMode.choices)
    start_at = models.DateTimeField(_("start"))
    end_at = models.DateTimeField(_("end"))
    blocked_until = models.DateTimeField(
        _("blocked until"), help_text=_("The end plus the buffer kept free after the consultation.")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.BOOKED)
    notes = models.TextField(_("candidate's notes"), max_length=1000, blank=True)
    meeting_url = models.URLField(_("meeting URL"), blank=True, help_text=_("For online consultations."))
    language = models.CharField(_("language"), max_length=8, default="ja")
    manage_token_hash = models.CharField(_("manage token hash"), max_length=64, unique=True, editable=False)
    manage_token_salt = models.CharField(_("manage token salt"), max_length=32, editable=False)
    sequence = models.PositiveIntegerField(
        _("sequence"), default=0, help_text=_("Calendar revision: grows with every change of time.")
    )
    confirm_by = models.DateTimeField(
        _("confirm by"), null=True, blank=True, help_text=_("A hold not confirmed by then is released.")
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    hold_client = models.CharField(
        _("held from"),
        max_length=64,
        blank=True,
        editable=False,
        help_text=_("A keyed hash of the address a hold came from (never the address itself)."),
    )
    cancel_reason = models.CharField(_("cancellation reason"), max_length=500, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    # The outcome of a held consultation, written once by booking_record_outcome.
    outcome_note = models.TextField(_("outcome"), max_length=2000, blank=True)
    next_step = models.CharField(_("next step"), max_length=24, choices=NextStep.choices, blank=True)
    next_step_due = models.DateField(_("next step due"), null=True, blank=True)
    outcome_recorded_at = models.DateTimeField(_("outcome recorded at"), null=True, blank=True)
    outcome_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("outcome recorded by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        ordering = ("start_at",)
        constraints = [
            models.CheckConstraint(
                condition=Q(start_at__lt=F("end_at")) & Q(end_at__lte=F("blocked_until")),
                name="booking_times_in_order",
            ),
            # One booked (or held) consultation of a kind per candidate. "Future" cannot be
            # in an index predicate; a past booking leaves `booked` when the advisor marks it
            # attended or no-show, and cancelled or released ones never count.
            models.UniqueConstraint(
                fields=["candidate", "kind"],
                condition=Q(status__in=["held", "booked"]),
                name="booking_one_booked_per_candidate_kind",
            ),
            # A hold always has its deadline.
            models.CheckConstraint(
                condition=~Q(status="held") | Q(confirm_by__isnull=False),
                name="booking_hold_has_deadline",
            ),
            # An outcome belongs to a held consultation and always names the next step;
            # without one there is no next step or due date either.
            models.CheckConstraint(
                condition=Q(outcome_recorded_at__isnull=True, next_step="", next_step_due__isnull=True)
                | (Q(outcome_recorded_at__isnull=False, status="attended") & ~Q(next_step="")),
                name="booking_outcome_of_held_with_next_step",
            ),
        ]
        indexes = [
            # Slots and the advisors' day views read active bookings by time range.
            models.Index(fields=["start_at"], name="booking_start_idx"),
            # Holds from one address, counted at every direct booking.
            models.Index(fields=["hold_client"], condition=Q(status="held"), name="booking_hold_client_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.start_at:%Y-%m-%d %H:%M}"

    @classmethod
    def occupying(cls, now: datetime) -> Q:
        """The bookings that take an advisor's time at ``now``: a hold counts until its
        `confirm_by` (whether or not the sweep has released it yet)."""
        return Q(status__in=(cls.Status.BOOKED, cls.Status.ATTENDED)) | Q(
            status=cls.Status.HELD, confirm_by__gt=now
        )


class BookingRefusal(models.Model):
    """Refused direct booking attempts (CONTRACT section 5, "Abuse"), counted per hour and
    reason: one row an hour per reason whatever a bot sends, so counting them can never fill
    the database. What advisors see of an attack (admin list, dashboard line)."""

    class Reason(models.TextChoices):
        ADDRESS_ATTEMPTS = "address_attempts", _("Too many booking attempts from one address")
        CONTACT_ATTEMPTS = "contact_attempts", _("Too many booking attempts for one email or phone")
        HOLDS_AT_ONCE = "holds_at_once", _("Too many unconfirmed holds from one address")
        SLOT_QUERIES = "slot_queries", _("Too many slot queries from one address")

    hour = models.DateTimeField(_("hour"))
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    count = models.PositiveIntegerField(_("refused attempts"), default=0)

    class Meta:
        verbose_name = _("refused booking attempts")
        verbose_name_plural = _("refused booking attempts")
        ordering = ("-hour", "reason")
        constraints = [
            models.UniqueConstraint(fields=["hour", "reason"], name="booking_refusal_one_per_hour")
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H:00} {self.get_reason_display()}: {self.count}"


# For drf-spectacular's ENUM_NAME_OVERRIDES, which needs a module-level path.
BOOKING_STATUS_CHOICES = Booking.Status.choices
CONSULTATION_MODE_CHOICES = ConsultationMode.choices
CONSULTATION_KIND_CHOICES = ConsultationKind.choices
