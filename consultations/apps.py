from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsultationsConfig(AppConfig):
    name = "consultations"
    verbose_name = _("Consultations")

    def ready(self) -> None:
        # Register the booking emails and the follow-ups with the outbox, the bookings' part
        # of a person's timeline, disclosure, erasure and consent withdrawal, and what the
        # advisors' workspace reads of them.
        from consultations import outbox_followups, outbox_handlers, timeline  # noqa: F401
        from consultations.privacy import bookings_erase, bookings_export, bookings_withdraw_consent
        from consultations.workspace import booking_upcoming_exists, bookings_between, refused_attempts_alert
        from leads.candidates.dashboard import dashboard_alerts_register, dashboard_consultations_register
        from leads.candidates.selectors import upcoming_consultation_register
        from leads.privacy.consent import consent_register
        from leads.privacy.records import privacy_register

        privacy_register(name="bookings", exporter=bookings_export, eraser=bookings_erase)
        consent_register(name="bookings", hook=bookings_withdraw_consent)
        upcoming_consultation_register(condition=booking_upcoming_exists)
        dashboard_consultations_register(reader=bookings_between)
        dashboard_alerts_register(name="booking_refusals", reader=refused_attempts_alert)
