from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsultationsConfig(AppConfig):
    name = "consultations"
    verbose_name = _("Consultations")

    def ready(self) -> None:
        # Register the booking emails and the follow-ups with the outbox, and the bookings'
        # part of a person's disclosure, erasure and consent withdrawal.
        from consultations import outbox_followups, outbox_handlers  # noqa: F401
        from consultations.privacy import bookings_erase, bookings_export, bookings_withdraw_consent
        from leads.services.consent import consent_register
        from leads.services.privacy import privacy_register

        privacy_register(name="bookings", exporter=bookings_export, eraser=bookings_erase)
        consent_register(name="bookings", hook=bookings_withdraw_consent)
