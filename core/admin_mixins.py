"""Shared admin behaviour for every app's screens."""

from typing import Any

from django.http import HttpRequest


class ReadOnlyAdminMixin:
    """A record of what happened (a lead as received, an issued statement, a delivery): shown,
    never added, changed or deleted in the admin. Actions the admin declares with their own
    permissions still run."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
