from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.admin_mixins import ReadOnlyAdminMixin
from core.models import OutboxMessage, SmsDelivery


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin[OutboxMessage]):
    """What the system has sent, will send, or failed to send (failures with their error)."""

    list_display = ("kind", "subject", "state", "due_at", "attempts", "sent_at", "last_error")
    list_filter = ("state", "kind")
    search_fields = ("subject", "key")
    date_hierarchy = "due_at"
    ordering = ("-due_at",)
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]
    actions = ("retry_now",)

    # Every staff member (advisors and managers) sees what failed, with the error, and may
    # resend it: the handler re-checks at delivery that it is still wanted, so a resend can
    # never revive a cancelled or stale message. Nobody edits or deletes rows.
    def _staff(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._staff(request)

    def has_view_permission(self, request: HttpRequest, obj: OutboxMessage | None = None) -> bool:
        return self._staff(request)

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return self._staff(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: OutboxMessage | None = None) -> bool:
        return False

    @admin.action(description=_("Retry now (failed or expired only)"), permissions=["resend"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        # The handler re-checks at delivery that the effect is still wanted.
        count = queryset.filter(state__in=[OutboxMessage.State.FAILED, OutboxMessage.State.EXPIRED]).update(
            state=OutboxMessage.State.PENDING, due_at=timezone.now(), attempts=0, updated_at=timezone.now()
        )
        self.message_user(
            request, _("%(count)d message(s) will be retried by the next sweep.") % {"count": count}
        )


@admin.register(SmsDelivery)
class SmsDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[SmsDelivery]):
    """The SMS a provider accepted, with the status its callbacks reported (an undelivered
    one shows its error code). Read only; no phone number or text is kept here."""

    list_display = ("created_at", "provider", "provider_id", "status", "error_code", "updated_at")
    list_filter = ("status", "provider")
    search_fields = ("provider_id",)
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    readonly_fields = [f.name for f in SmsDelivery._meta.fields]

    def _staff(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._staff(request)

    def has_view_permission(self, request: HttpRequest, obj: SmsDelivery | None = None) -> bool:
        return self._staff(request)
