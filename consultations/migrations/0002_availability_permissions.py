from django.db import migrations

from accounts.migration_utils import grant_permissions

ALL = ["view_weeklyavailability", "add_weeklyavailability", "change_weeklyavailability", "delete_weeklyavailability"]


def grant(apps, schema_editor):  # type: ignore[no-untyped-def]
    grant_permissions(apps, group="Advisors", app_label="consultations", codenames=ALL)
    grant_permissions(apps, group="Managers", app_label="consultations", codenames=ALL)


class Migration(migrations.Migration):
    dependencies = [("consultations", "0001_initial"), ("accounts", "0002_staff_groups")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
