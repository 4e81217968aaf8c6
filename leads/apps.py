from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = _("Leads and candidates")

    def ready(self) -> None:
        # Register the outbox handlers, the OpenAPI description of partner keys, and the
        # placements' part of a person's timeline, merge, disclosure and erasure (the
        # candidates' workspace below them never imports them).
        from leads.candidates import outbox_handlers as candidate_handlers  # noqa: F401
        from leads.candidates import partner_notices  # noqa: F401
        from leads.candidates.merge import candidate_merge_register
        from leads.intake import outbox_handlers as intake_handlers  # noqa: F401
        from leads.invoices import outbox_handlers as invoice_handlers  # noqa: F401
        from leads.partners import authentication  # noqa: F401
        from leads.partners.webhooks import statement_issued_emit, webhook_kick_register
        from leads.payouts.services import statement_issued_register
        from leads.placements import outbox_handlers as placement_handlers  # noqa: F401
        from leads.placements import timeline  # noqa: F401
        from leads.placements.merge import applications_merge
        from leads.placements.privacy import (
            applications_erase,
            applications_export,
            employer_reveals_export,
        )
        from leads.privacy.records import privacy_register
        from leads.tasks import webhooks_kick

        privacy_register(name="applications", exporter=applications_export, eraser=applications_erase)
        privacy_register(name="employer_reveals", exporter=employer_reveals_export)
        candidate_merge_register(hook=applications_merge)
        # Partners hear of issued statements by webhook; deliveries start once written.
        statement_issued_register(hook=statement_issued_emit)
        webhook_kick_register(kick=webhooks_kick)
