from django.db import migrations

from accounts.migration_utils import grant_permissions

MODELS = ("partner", "apikey", "candidate", "lead")


def grant(apps, schema_editor):  # type: ignore[no-untyped-def]
    # Advisors see everything here and work on candidates; partners, keys and leads (the
    # records of what partners sent) are the managers' to change.
    grant_permissions(
        apps,
        group="Advisors",
        app_label="leads",
        codenames=[f"view_{m}" for m in MODELS] + ["change_candidate"],
    )
    grant_permissions(
        apps,
        group="Managers",
        app_label="leads",
        codenames=[f"{action}_{m}" for m in MODELS for action in ("view", "add", "change", "delete")],
    )


class Migration(migrations.Migration):
    dependencies = [("leads", "0001_initial"), ("accounts", "0002_staff_groups")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
