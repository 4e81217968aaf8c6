from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from leads.partners.authentication import PartnerUser


class IsActivePartner(BasePermission):
    """An authenticated partner whose account is enabled (a disabled one gets 403)."""

    message = _("This partner account is disabled.")

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return isinstance(user, PartnerUser) and user.partner.is_active
