from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import OutboxMessage


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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: OutboxMessage | None = None) -> bool:
        return False

    @admin.action(description=_("Retry now (failed or expired only)"), permissions=["change"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        # The handler re-checks at delivery that the effect is still wanted.
        count = queryset.filter(state__in=[OutboxMessage.State.FAILED, OutboxMessage.State.EXPIRED]).update(
            state=OutboxMessage.State.PENDING, due_at=timezone.now(), attempts=0, updated_at=timezone.now()
        )
        self.message_user(
            request, _("%(count)d message(s) will be retried by the next sweep.") % {"count": count}
        )
