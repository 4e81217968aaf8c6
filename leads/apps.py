from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = _("Leads and candidates")

    def ready(self) -> None:
        # Register the outbox handlers, the OpenAPI description of partner keys and the
        # applications' part of a person's disclosure and erasure.
        from leads import authentication, outbox_handlers  # noqa: F401
        from leads.privacy_applications import (
            applications_erase,
            applications_export,
            employer_reveals_export,
        )
        from leads.services.privacy import privacy_register

        privacy_register(name="applications", exporter=applications_export, eraser=applications_erase)
        privacy_register(name="employer_reveals", exporter=employer_reveals_export)
