"""Permissions for webhooks to partners: advisors and managers see the endpoints and the
delivery log (with attempts); managers register, change, delete endpoints and run their
actions (test event, secret rotation, replay, send again)."""

from django.db import migrations

from accounts.migration_utils import grant_permissions


def grant(apps, schema_editor):  # type: ignore[no-untyped-def]
    viewing = ["view_webhookendpoint", "view_webhookdelivery", "view_webhookattempt"]
    grant_permissions(apps, group="Advisors", app_label="leads", codenames=viewing)
    grant_permissions(
        apps,
        group="Managers",
        app_label="leads",
        codenames=[*viewing, "add_webhookendpoint", "change_webhookendpoint", "delete_webhookendpoint"],
    )


class Migration(migrations.Migration):
    dependencies = [("leads", "0032_webhooks")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
