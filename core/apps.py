from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("System")

    def ready(self) -> None:
        from core.channels import channels_check

        channels_check()  # once per process: which channels are off, and why
