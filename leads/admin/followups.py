"""Follow-up tasks, opening on "my day": the advisor's open tasks due today or overdue."""

from collections.abc import Callable, Iterator
from datetime import datetime, time, timedelta
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.staff import is_manager, staff_user
from core.business_time import BUSINESS_TZ
from leads.candidates.followups import followup_task_complete, followup_task_snooze
from leads.candidates.selectors import followup_effective_due, followup_tasks_my_day
from leads.models import FollowUpTask

MORNING = time(10, 0)


class TaskScopeFilter(admin.SimpleListFilter):
    """ "My day" is the default; the other scopes need an explicit value."""

    title = _("tasks")
    parameter_name = "scope"
    MY_DAY, MINE_OPEN, ALL_OPEN, DONE, EVERYTHING = "my_day", "mine", "open", "done", "all"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            (self.MY_DAY, _("My day")),
            (self.MINE_OPEN, _("All my open tasks")),
            (self.ALL_OPEN, _("Everyone's open tasks")),
            (self.DONE, _("Done")),
        ]

    def value(self) -> str | None:
        return super().value() or self.MY_DAY

    def choices(self, changelist: ChangeList) -> Iterator[Any]:
        yield {
            "selected": self.value() == self.EVERYTHING,
            "query_string": changelist.get_query_string({self.parameter_name: self.EVERYTHING}),
            "display": _("All"),
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[FollowUpTask]) -> QuerySet[FollowUpTask]:
        me, value = staff_user(request), self.value()
        if value == self.MY_DAY:
            return followup_tasks_my_day(advisor=me, now=timezone.now(), queryset=queryset)
        if value == self.MINE_OPEN:
            return queryset.filter(advisor=me, done_at__isnull=True)
        if value == self.ALL_OPEN:
            return queryset.filter(done_at__isnull=True)
        if value == self.DONE:
            return queryset.filter(done_at__isnull=False)
        return queryset


@admin.register(FollowUpTask)
class FollowUpTaskAdmin(admin.ModelAdmin[FollowUpTask]):
    list_display = ("due", "title", "candidate", "advisor", "source", "snoozed_until", "done_at")
    list_display_links = ("title",)
    list_filter = (TaskScopeFilter, "source")
    list_select_related = ("candidate", "advisor")
    show_facets = admin.ShowFacets.NEVER
    fields = ("title", "due_at", "candidate", "advisor", "source", "snoozed_until", "done_at", "created_by")
    readonly_fields = ("candidate", "advisor", "source", "snoozed_until", "done_at", "created_by")
    actions = ("mark_done", "snooze_one_hour", "snooze_until_tomorrow")

    def get_ordering(self, request: HttpRequest) -> list[Any]:
        return [followup_effective_due().asc(), "pk"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # added on the candidate's page, where the candidate is known

    def has_change_permission(self, request: HttpRequest, obj: FollowUpTask | None = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or is_manager(request) or obj.advisor_id == staff_user(request).pk)

    @admin.display(description=_("due"), ordering="due_at")
    def due(self, task: FollowUpTask) -> str:
        return timezone.localtime(task.snoozed_until or task.due_at, BUSINESS_TZ).strftime("%Y-%m-%d %H:%M")

    def _each(
        self, request: HttpRequest, queryset: QuerySet[FollowUpTask], change: Callable[[FollowUpTask], object]
    ) -> None:
        manager, me = is_manager(request), staff_user(request)
        done, refused, failed = 0, 0, []
        for task in queryset.select_related(None):
            if not (manager or task.advisor_id == me.pk):
                refused += 1
                continue
            try:
                change(task)
                done += 1
            except ValidationError as exc:
                failed.append(f"{task}: {' '.join(exc.messages)}")
        if done:
            self.message_user(request, _("Updated %(count)d task(s).") % {"count": done})
        if refused:
            self.message_user(
                request,
                _("%(count)d task(s) of other advisors were not changed.") % {"count": refused},
                level=messages.ERROR,
            )
        for message in failed:
            self.message_user(request, message, level=messages.ERROR)

    @admin.action(description=_("Mark as done"), permissions=["change"])
    def mark_done(self, request: HttpRequest, queryset: QuerySet[FollowUpTask]) -> None:
        me = staff_user(request)
        self._each(request, queryset, lambda t: followup_task_complete(task_id=t.pk, by=me))

    @admin.action(description=_("Snooze for an hour"), permissions=["change"])
    def snooze_one_hour(self, request: HttpRequest, queryset: QuerySet[FollowUpTask]) -> None:
        me, until = staff_user(request), timezone.now() + timedelta(hours=1)
        self._each(
            request,
            queryset,
            lambda t: followup_task_snooze(
                task_id=t.pk, until=max(until, t.due_at + timedelta(hours=1)), by=me
            ),
        )

    @admin.action(description=_("Snooze until tomorrow morning"), permissions=["change"])
    def snooze_until_tomorrow(self, request: HttpRequest, queryset: QuerySet[FollowUpTask]) -> None:
        me = staff_user(request)
        tomorrow = timezone.localdate(timezone=BUSINESS_TZ) + timedelta(days=1)
        until = datetime.combine(tomorrow, MORNING, tzinfo=BUSINESS_TZ)
        self._each(request, queryset, lambda t: followup_task_snooze(task_id=t.pk, until=until, by=me))
