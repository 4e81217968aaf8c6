"""Helpers for data migrations that give the staff groups their permissions."""

from typing import Any

from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions


def grant_permissions(apps: Apps, *, group: str, app_label: str, codenames: list[str]) -> None:
    # Permissions are normally created after migrate finishes; create them now so that
    # a fresh database gets its groups complete in one `migrate`.
    app_config: Any = apps.get_app_config(app_label)
    app_config.models_module = True  # the migration state's stub lacks it; Django checks it
    try:
        create_permissions(app_config, verbosity=0, apps=apps)
    finally:
        app_config.models_module = None
    group_model: Any = apps.get_model("auth", "Group")
    permission_model: Any = apps.get_model("auth", "Permission")
    permissions = permission_model.objects.filter(content_type__app_label=app_label, codename__in=codenames)
    missing = set(codenames) - {p.codename for p in permissions}
    if missing:
        raise RuntimeError(f"Unknown permissions for {app_label}: {sorted(missing)}")
    group_model.objects.get(name=group).permissions.add(*permissions)
