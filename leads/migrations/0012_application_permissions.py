from django.db import migrations

from accounts.migration_utils import grant_permissions

# Applications, placements and reveals are history: nobody deletes them (a mistaken
# application is withdrawn); every change goes through leads.services.applications.
WORKED = ("application", "interviewround", "placement", "employerreveal")
CODENAMES = [f"{a}_{m}" for m in WORKED for a in ("view", "add", "change")] + ["view_applicationevent"]


def grant(apps, schema_editor):  # type: ignore[no-untyped-def]
    for group in ("Advisors", "Managers"):
        grant_permissions(apps, group=group, app_label="leads", codenames=CODENAMES)


class Migration(migrations.Migration):
    dependencies = [("leads", "0011_applications")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
