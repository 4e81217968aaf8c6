"""Who the staff user of a request is and what they may do: shared by every app's admin
screens and the advisor API (leads, consultations)."""

from typing import cast

from django.http import HttpRequest

from accounts.models import Groups, User


def staff_is_manager(*, user: User) -> bool:
    """Managers (and superusers) change every candidate; advisors only their own."""
    if user.is_superuser:
        return True
    return user.groups.filter(name=Groups.MANAGERS).exists()


def staff_active_get(*, user_id: int) -> User | None:
    """An active staff user to give candidates to, or None."""
    return User.objects.filter(pk=user_id, is_staff=True, is_active=True).first()


def staff_user(request: HttpRequest) -> User:
    return cast(User, request.user)


def is_manager(request: HttpRequest) -> bool:
    """`staff_is_manager` for the request's user, computed once per request (the admin
    screens' query budgets are pinned by tests)."""
    cached: bool | None = getattr(request, "_workspace_is_manager", None)
    if cached is None:
        cached = staff_is_manager(user=staff_user(request))
        request._workspace_is_manager = cached  # type: ignore[attr-defined]
    return cached
