from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsultationsConfig(AppConfig):
    name = "consultations"
    verbose_name = _("Consultations")

    def ready(self) -> None:
        # Register the booking emails with the outbox, and the bookings' part of a person's
        # disclosure and erasure.
        from consultations import outbox_handlers  # noqa: F401
        from consultations.privacy import bookings_erase, bookings_export
        from leads.services.privacy import privacy_register

        privacy_register(name="bookings", exporter=bookings_export, eraser=bookings_erase)
