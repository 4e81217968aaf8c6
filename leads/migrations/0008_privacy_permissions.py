from django.db import migrations

from accounts.migration_utils import grant_permissions


def grant(apps, schema_editor):  # type: ignore[no-untyped-def]
    # Erasure records are written by leads.services.privacy only and never changed: managers
    # read them (the admin is read-only); nobody gets add, change or delete.
    grant_permissions(apps, group="Managers", app_label="leads", codenames=["view_erasurerecord"])


class Migration(migrations.Migration):
    dependencies = [("leads", "0007_privacy")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
