from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = _("Leads and candidates")

    def ready(self) -> None:
        # Register the outbox handlers and the OpenAPI description of partner keys.
        from leads import authentication, outbox_handlers  # noqa: F401
