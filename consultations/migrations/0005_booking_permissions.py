from django.db import migrations

from accounts.migration_utils import grant_permissions

# Bookings change only through the services (admin actions); nobody adds or deletes them.
BOOKINGS = ["view_booking", "change_booking"]
OVERRIDES = [
    "view_availabilityoverride",
    "add_availabilityoverride",
    "change_availabilityoverride",
    "delete_availabilityoverride",
]


def grant(apps, schema_editor):  # type: ignore[no-untyped-def]
    for group in ("Advisors", "Managers"):
        grant_permissions(apps, group=group, app_label="consultations", codenames=BOOKINGS + OVERRIDES)


class Migration(migrations.Migration):
    dependencies = [("consultations", "0004_booking_no_overlap"), ("accounts", "0002_staff_groups")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
