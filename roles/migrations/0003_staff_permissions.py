from django.db import migrations

from accounts.migration_utils import grant_permissions

# Advisors read the catalogue (managers curate it) and keep employers and postings up to date;
# deleting an employer or a posting is left to managers (advisors close or pause instead).
ADVISORS = [
    "view_role",
    "view_certification",
    "view_employer",
    "add_employer",
    "change_employer",
    "view_jobposting",
    "add_jobposting",
    "change_jobposting",
]
MANAGERS = [
    f"{action}_{model}"
    for model in ("role", "certification", "employer", "jobposting")
    for action in ("view", "add", "change", "delete")
]


def grant(apps, schema_editor):  # type: ignore[no-untyped-def]
    grant_permissions(apps, group="Advisors", app_label="roles", codenames=ADVISORS)
    grant_permissions(apps, group="Managers", app_label="roles", codenames=MANAGERS)


class Migration(migrations.Migration):
    dependencies = [("roles", "0002_catalogue"), ("accounts", "0002_staff_groups")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
