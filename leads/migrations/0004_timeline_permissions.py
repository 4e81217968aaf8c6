from django.db import migrations

from accounts.migration_utils import grant_permissions


def grant(apps, schema_editor):  # type: ignore[no-untyped-def]
    # The timeline is written by services only; staff read it.
    for group in ("Advisors", "Managers"):
        grant_permissions(apps, group=group, app_label="leads", codenames=["view_timelineevent"])


class Migration(migrations.Migration):
    dependencies = [("leads", "0003_pipeline"), ("leads", "0002_permissions")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
