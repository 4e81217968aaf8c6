"""Messages to the candidate about their booking (registered in ConsultationsConfig.ready).

Rendered at delivery time from the booking as it is then, in the booking's language, and
sent through the candidate's preferred channel (leads.candidates.messages): email with the
.ics attached, or a short SMS / LINE text with the manage link. Each handler first checks
that the message still applies (a confirmation for a booking cancelled meanwhile is
skipped, not sent); a candidate who cannot be reached, withdrew consent or was erased is
skipped too. Confirmation, reschedule and cancellation answer the candidate's own action
and go at once; reminders wait outside quiet hours and expire at the start.

The bookings also count as a candidate's activity for the quiet-candidate follow-up
(registered at the bottom)."""

import uuid
from datetime import datetime, timedelta
from functools import cache

from django.conf import settings
from django.db import connection
from django.db.models import OuterRef, Subquery
from django.db.models.expressions import BaseExpression
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext_lazy as _

from accounts.models import Groups, User
from consultations.calendar import booking_ics
from consultations.models import Booking, ConsultationKind, ConsultationMode
from consultations.services.abuse import KIND_REFUSAL_SPIKE, refusals_since
from consultations.services.bookings import booking_release
from consultations.services.notices import (
    KIND_CANCELLED,
    KIND_CONFIRMATION,
    KIND_HOLD,
    KIND_HOLD_RELEASE,
    KIND_REMINDER,
    KIND_RESCHEDULED,
    reminder_superseded_at,
)
from consultations.tokens import confirm_url_for, manage_token_rebuild, manage_url_for
from core.business_time import BUSINESS_TZ
from core.channels import Attachment
from core.db import JoinedRead, joined_read, joined_read_new
from core.models import OutboxMessage
from core.outbox import Outcome, TransientError, outbox_handler
from core.quiet_hours import candidate_delivery_time
from leads.candidates.messages import candidate_message_send, staff_message_send
from leads.candidates.quiet import quiet_activity_register

# kind -> (template name, the booking status it needs to still apply)
TEMPLATES = {
    KIND_CONFIRMATION: ("booking_confirmation", Booking.Status.BOOKED),
    KIND_RESCHEDULED: ("booking_rescheduled", Booking.Status.BOOKED),
    KIND_CANCELLED: ("booking_cancelled", Booking.Status.CANCELLED),
}


def _manage_token(booking: Booking) -> str | None:
    return manage_token_rebuild(
        booking_id=booking.pk, salt=booking.manage_token_salt, token_hash=booking.manage_token_hash
    )


def _buttons(token: str | None) -> list[tuple[object, str]]:
    """LINE's buttons under a booking message: the booking's page and its calendar file."""
    if token is None:
        return []
    ics = settings.SITE_URL + reverse("v1:consultation-ics", args=[token])
    return [(_("Open my booking"), manage_url_for(token=token)), (_("Add to calendar"), ics)]


_KIND_LABELS = dict(ConsultationKind.choices)
_MODE_LABELS = dict(ConsultationMode.choices)


class BookingDisplay:
    """What the candidate's booking messages print of the booking: its kind and mode, and
    its times in Japan time. Read by the templates while they render, so in the message's
    language (the labels, the weekday). Plain string work: Django's ``get_FOO_display`` and
    ``date`` filter (under ``{% timezone %}``) cost more than all the rest of a reminder's
    rendering, on the sweep's hot path."""

    def __init__(self, booking: Booking) -> None:
        self._booking = booking
        self.start_at = booking.start_at.astimezone(BUSINESS_TZ)

    @property
    def kind(self) -> str:
        return str(_KIND_LABELS.get(self._booking.kind, self._booking.kind))

    @property
    def mode(self) -> str:
        return str(_MODE_LABELS.get(self._booking.mode, self._booking.mode))

    @property
    def start(self) -> str:  # 2026-11-26 10:00
        return f"{self.start_at:%Y-%m-%d %H:%M}"

    @property
    def start_with_weekday(self) -> str:  # 2026-11-26 (木) 10:00, as the date filter's "Y-m-d (D) H:i"
        weekday = WEEKDAYS_ABBR[self.start_at.weekday()]
        return f"{self.start_at:%Y-%m-%d} ({weekday}) {self.start_at:%H:%M}"

    @property
    def start_brief(self) -> str:  # 11/26 10:00, for short texts
        return f"{self.start_at.month}/{self.start_at.day} {self.start_at:%H:%M}"

    @property
    def end(self) -> str:  # 10:45
        return f"{self._booking.end_at.astimezone(BUSINESS_TZ):%H:%M}"


def _context(booking: Booking, manage_url: str | None) -> dict[str, object]:
    return {
        "booking": booking,
        "candidate": booking.candidate,
        "manage_url": manage_url,
        "display": BookingDisplay(booking),
    }


def booking_notice_send(message: OutboxMessage) -> Outcome:
    template, wanted_status = TEMPLATES[message.kind]
    booking = Booking.objects.select_related("advisor", "candidate").get(pk=message.payload["booking_id"])
    if booking.status != wanted_status:
        return Outcome.SKIPPED
    token = _manage_token(booking)
    manage_url = manage_url_for(token=token) if token else None

    def ics() -> list[Attachment]:
        method = "CANCEL" if booking.status == Booking.Status.CANCELLED else "PUBLISH"
        content = booking_ics(booking=booking, manage_url=manage_url)
        return [Attachment("consultation.ics", content, f"text/calendar; method={method}")]

    # The answer to what the candidate just did goes at once, at any hour. A change the
    # agency made waits out the candidate's quiet hours, unless the consultation would have
    # started by then: the candidate must hear of it before setting out.
    held = bool(message.payload.get("by_staff")) and (
        candidate_delivery_time(due=timezone.now(), deadline=booking.start_at) is not None
    )
    return candidate_message_send(
        message=message,
        candidate=booking.candidate,
        template=f"consultations/{template}",
        # The email's link is as before; the short texts give none once cancelled.
        context=_context(booking, manage_url),
        language=booking.language,
        quiet_hours=held,
        deadline=booking.start_at if held else None,
        attachments=ics,
        buttons=_buttons(token) if booking.status == Booking.Status.BOOKED else (),
    )


for _kind in TEMPLATES:
    outbox_handler(_kind)(booking_notice_send)


@outbox_handler(KIND_HOLD)
def booking_hold_send(message: OutboxMessage) -> Outcome:
    """The link that confirms a direct booking's hold, sent at once (the person is waiting
    for it), while the hold still stands; too late once its `confirm_by` has passed."""
    booking = Booking.objects.select_related("advisor", "candidate").get(pk=message.payload["booking_id"])
    if booking.status != Booking.Status.HELD or booking.confirm_by is None:
        return Outcome.SKIPPED
    token = manage_token_rebuild(
        booking_id=booking.pk, salt=booking.manage_token_salt, token_hash=booking.manage_token_hash
    )
    if token is None:  # SECRET_KEY changed and the old one is gone: the link cannot be made
        return Outcome.SKIPPED
    return candidate_message_send(
        message=message,
        candidate=booking.candidate,
        template="consultations/booking_hold",
        context={
            **_context(booking, manage_url_for(token=token)),
            "confirm_url": confirm_url_for(token=token),
            "confirm_by": f"{booking.confirm_by.astimezone(BUSINESS_TZ):%H:%M}",
        },
        language=booking.language,
        quiet_hours=False,
        deadline=booking.confirm_by,
    )


@outbox_handler(KIND_REFUSAL_SPIKE)
def booking_refusal_spike_notify(message: OutboxMessage) -> Outcome:
    """Tell the managers (once a day, services.abuse) that booking attempts are being
    refused in numbers: the admin list shows them by hour and reason."""
    managers = list(
        User.objects.filter(is_active=True, groups__name=Groups.MANAGERS).values_list("email", flat=True)
    )
    if not managers:
        raise TransientError("no manager to tell about refused booking attempts")
    hour = datetime.fromisoformat(str(message.payload["hour"]))
    staff_message_send(
        recipients=managers,
        template="consultations/booking_refusal_spike",
        context={
            "hour": f"{hour.astimezone(BUSINESS_TZ):%Y-%m-%d %H:%M}",
            "count": refusals_since(since=hour),
            "url": settings.SITE_URL + reverse("admin:consultations_bookingrefusal_changelist"),
        },
    )
    return Outcome.SENT


@outbox_handler(KIND_HOLD_RELEASE)
def booking_hold_release(message: OutboxMessage) -> Outcome:
    """At a hold's `confirm_by`: released unless it was confirmed (or cancelled) first."""
    released = booking_release(booking_id=uuid.UUID(str(message.payload["booking_id"])))
    return Outcome.SENT if released else Outcome.SKIPPED


# What a reminder reads: the booking's state and details (consultations/email/_details.txt),
# the advisor's name, and what the channel layer needs of the candidate. The hot path of
# the sweep (every reminder, 24 h and 1 h before), so on PostgreSQL it is one prepared
# statement (core.db.joined_read): compiling the ORM's query for it, and converting the
# candidate's fifty columns before it was narrowed, cost more CPU than the rest of the
# reminder. tests/consultations/test_reminders.py counts its queries, so a column missing
# here (read lazily, one query more) fails there.
REMINDER_COLUMNS: dict[str | None, tuple[str, ...]] = {
    None: (
        *("status", "start_at", "end_at", "kind", "mode", "meeting_url", "language"),
        *("manage_token_salt", "manage_token_hash", "candidate", "advisor"),
    ),
    "advisor": ("display_name",),
    "candidate": (
        *("family_name", "email", "phone", "line_user_id", "contact_channel", "language"),
        *("consent_withdrawn_at", "erased_at"),
    ),
}


@cache
def _reminder_read() -> JoinedRead:
    related = {name: columns for name, columns in REMINDER_COLUMNS.items() if name is not None}
    return joined_read_new(Booking, fields=REMINDER_COLUMNS[None], related=related, where="t.id = %s")


def _reminder_booking(booking_id: uuid.UUID) -> Booking:
    if connection.vendor == "postgresql":
        booking: Booking | None = joined_read(_reminder_read(), [booking_id])
        if booking is None:
            raise Booking.DoesNotExist(booking_id)
        return booking
    only = [
        f"{name}__{column}" if name else column
        for name, columns in REMINDER_COLUMNS.items()
        for column in columns
    ]
    return Booking.objects.select_related("advisor", "candidate").only(*only).get(pk=booking_id)


@outbox_handler(KIND_REMINDER)
def booking_reminder_send(message: OutboxMessage) -> Outcome:
    """A reminder goes out only for the booking as it still is: booked, at the start it was
    written for, not yet begun. Anything else is skipped (or expired, once too late)."""
    booking = _reminder_booking(uuid.UUID(str(message.payload["booking_id"])))
    written_for = datetime.fromisoformat(str(message.payload["start"]))
    if booking.status != Booking.Status.BOOKED or booking.start_at != written_for:
        return Outcome.SKIPPED
    offset = message.payload.get("offset")  # rows written before it was recorded have none
    deadline = (
        booking.start_at
        if offset is None
        else reminder_superseded_at(start=booking.start_at, offset=timedelta(seconds=int(str(offset))))
    )
    token = _manage_token(booking)
    return candidate_message_send(
        message=message,
        candidate=booking.candidate,
        template="consultations/booking_reminder",
        context=_context(booking, manage_url_for(token=token) if token else None),
        language=booking.language,
        deadline=deadline,
        buttons=_buttons(token),
    )


def _booking_changed() -> BaseExpression:
    """When the candidate's latest booking was made or changed (moved, cancelled, held)."""
    latest = Booking.objects.filter(candidate=OuterRef("pk")).order_by("-updated_at").values("updated_at")
    return Subquery(latest[:1])


def _booking_start() -> BaseExpression:
    """The start of the candidate's latest consultation not cancelled: an upcoming one keeps
    them from being "quiet" until it is over."""
    latest = (
        Booking.objects.filter(candidate=OuterRef("pk"))
        .exclude(status=Booking.Status.CANCELLED)
        .order_by("-start_at")
        .values("start_at")
    )
    return Subquery(latest[:1])


quiet_activity_register(name="booking_changed", source=_booking_changed)
quiet_activity_register(name="booking_start", source=_booking_start)
