from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from accounts.models import Groups, User

ADVISOR_GROUPS = (Groups.ADVISORS, Groups.MANAGERS)


class IsAdvisor(BasePermission):
    """Active staff in the Advisors or Managers group, or an active superuser.

    Non-public postings (非公開求人) answer to nobody else: not anonymous callers, not
    partners, not a staff account outside those groups. One query for a non-superuser."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not isinstance(user, User) or not user.is_active:
            return False
        if user.is_superuser:
            return True
        return user.is_staff and user.groups.filter(name__in=ADVISOR_GROUPS).exists()
