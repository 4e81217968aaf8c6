from django.db import migrations

from accounts.migration_utils import grant_permissions

ALL = ("view", "add", "change", "delete")
PROFILE = ("workhistoryentry", "candidatecertification")


def grant(apps, schema_editor):  # type: ignore[no-untyped-def]
    # Advisors keep the profiles of their own candidates (the admin checks ownership per
    # candidate) and work their follow-up tasks; deleting a task is the managers' call,
    # an advisor marks it done instead.
    grant_permissions(
        apps,
        group="Advisors",
        app_label="leads",
        codenames=[f"{a}_{m}" for m in PROFILE for a in ALL]
        + ["view_followuptask", "add_followuptask", "change_followuptask"],
    )
    grant_permissions(
        apps,
        group="Managers",
        app_label="leads",
        codenames=[f"{a}_{m}" for m in (*PROFILE, "followuptask") for a in ALL],
    )


class Migration(migrations.Migration):
    dependencies = [("leads", "0005_workspace_profile_followups"), ("leads", "0004_timeline_permissions")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
