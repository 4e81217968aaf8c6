"""The booking as an iCalendar file (.ics): one VEVENT whose UID never changes, so that a
calendar updates the event it already has when the booking is moved (SEQUENCE grows with
every move) and removes it when the booking is cancelled (METHOD:CANCEL)."""

from email.utils import parseaddr

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vCalAddress, vText

from consultations.models import Booking, ConsultationMode
from core.business_time import BUSINESS_TZ

PRODID = "-//Urakata//Consultations//JA"


def booking_uid(booking: Booking) -> str:
    return f"booking-{booking.pk}@urakata"


def _location(booking: Booking) -> str:
    if booking.mode == ConsultationMode.ONLINE:
        return booking.meeting_url or _("Online (the meeting link will be sent by your advisor)")
    if booking.mode == ConsultationMode.PHONE:
        return _("By phone (your advisor will call you)")
    return _("Urakata office")


def booking_ics(*, booking: Booking, manage_url: str | None = None) -> bytes:
    """The booking as a calendar file, in the booking's language."""
    cancelled = booking.status == Booking.Status.CANCELLED
    with translation.override(booking.language):
        calendar = Calendar()
        calendar.add("prodid", PRODID)
        calendar.add("version", "2.0")
        calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
        event = Event()
        event.add("uid", booking_uid(booking))
        event.add("sequence", booking.sequence)
        event.add("dtstamp", booking.updated_at)
        event.add("dtstart", booking.start_at.astimezone(BUSINESS_TZ))
        event.add("dtend", booking.end_at.astimezone(BUSINESS_TZ))
        event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        event.add("summary", _("%(kind)s (Urakata)") % {"kind": booking.get_kind_display()})
        event.add("location", _location(booking))
        lines = [
            _("Advisor: %(name)s") % {"name": booking.advisor.display_name},
            _("How: %(mode)s") % {"mode": booking.get_mode_display()},
        ]
        if manage_url:
            lines.append(_("Change or cancel: %(url)s") % {"url": manage_url})
        event.add("description", "\n".join(lines))
        name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
        organizer = vCalAddress(f"mailto:{address}")
        organizer.params["cn"] = vText(name or "Urakata")
        event.add("organizer", organizer)
        calendar.add_component(event)
        calendar.add_missing_timezones()
    return bytes(calendar.to_ical())
