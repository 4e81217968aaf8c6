"""Actions of the candidate list."""

from collections.abc import Callable

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.staff import staff_user
from core.business_time import BUSINESS_TZ
from leads.admin.common import may_edit
from leads.candidates.exports import candidate_csv
from leads.candidates.merge import candidate_merge
from leads.candidates.pipeline import (
    candidate_call_log,
    candidate_close,
    candidate_reopen,
    candidate_stage_change,
)
from leads.candidates.profile import candidate_assign
from leads.models import Candidate


class CandidateActions(admin.ModelAdmin[Candidate]):
    """The list's actions. Each goes through a service and refuses, by name, the
    candidates the user may not change. Not registered: CandidateAdmin builds on it."""

    def _each(
        self,
        request: HttpRequest,
        queryset: QuerySet[Candidate],
        change: Callable[[Candidate], object],
        *,
        allowed: Callable[[Candidate], bool] | None = None,
    ) -> None:
        """Apply `change` to each selected candidate the user may change; refuse the others
        by name. One message per outcome."""
        allowed = allowed or (lambda c: may_edit(request, c))
        done, refused, failed = 0, [], []
        for candidate in queryset.select_related(None).only("pk", "family_name", "given_name", "advisor_id"):
            if not allowed(candidate):
                refused.append(str(candidate))
                continue
            try:
                change(candidate)
                done += 1
            except ValidationError as exc:
                failed.append(f"{candidate}: {' '.join(exc.messages)}")
        if done:
            self.message_user(request, _("Updated %(count)d candidate(s).") % {"count": done})
        if refused:
            self.message_user(
                request,
                _("Not changed, they are another advisor's candidates: %(names)s")
                % {"names": ", ".join(refused)},
                level=messages.ERROR,
            )
        for message in failed:
            self.message_user(request, message, level=messages.ERROR)

    @admin.action(description=_("Assign to me"), permissions=["change"])
    def assign_to_me(self, request: HttpRequest, queryset: QuerySet[Candidate]) -> None:
        me = staff_user(request)
        self._each(
            request,
            queryset,
            lambda c: candidate_assign(candidate_id=c.pk, advisor=me, by=me),
            # Taking an unassigned candidate is how an advisor picks up new work.
            allowed=lambda c: c.advisor_id is None or may_edit(request, c),
        )

    @admin.action(description=_("Assign to the chosen advisor"), permissions=["change"])
    def assign_to_advisor(self, request: HttpRequest, queryset: QuerySet[Candidate]) -> None:
        chosen = request.POST.get("advisor", "")
        advisor = (
            User.objects.filter(pk=int(chosen), is_staff=True, is_active=True).first()
            if chosen.isdigit()
            else None
        )
        if advisor is None:
            self.message_user(request, _("Choose an advisor first."), level=messages.ERROR)
            return
        me = staff_user(request)
        self._each(request, queryset, lambda c: candidate_assign(candidate_id=c.pk, advisor=advisor, by=me))

    @admin.action(description=_("Export selected as CSV"), permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Candidate]) -> StreamingHttpResponse:
        stamp = timezone.localtime(timezone=BUSINESS_TZ).strftime("%Y%m%d-%H%M")
        response = StreamingHttpResponse(candidate_csv(queryset), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="candidates-{stamp}.csv"'
        return response

    @admin.action(description=_("Merge selected duplicates into the oldest"), permissions=["change"])
    def merge_duplicates(self, request: HttpRequest, queryset: QuerySet[Candidate]) -> None:
        """Only records of one person (same reading and birth date), and only by someone who
        may change every one of them."""
        candidates = list(queryset.select_related(None).order_by("created_at", "pk"))
        people = {(c.family_name_kana, c.given_name_kana, c.birth_date) for c in candidates}
        if len(candidates) < 2 or len(people) != 1 or not all(all(p) for p in people):
            self.message_user(
                request,
                _("Select two or more candidates with the same reading and birth date."),
                level=messages.ERROR,
            )
            return
        if not all(may_edit(request, c) for c in candidates):
            self.message_user(
                request, _("Only managers can merge another advisor's candidates."), messages.ERROR
            )
            return
        keep, *others = candidates
        try:
            with transaction.atomic():  # all of the selection or none of it
                for other in others:
                    candidate_merge(keep_id=keep.pk, duplicate_id=other.pk, by=staff_user(request))
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), level=messages.ERROR)
            return
        self.message_user(
            request, _("Merged %(count)d candidate(s) into %(name)s.") % {"count": len(others), "name": keep}
        )

    @admin.action(description=_("Move to the chosen stage"), permissions=["change"])
    def move_to_stage(self, request: HttpRequest, queryset: QuerySet[Candidate]) -> None:
        stage = request.POST.get("stage", "")
        if stage not in Candidate.Stage.values:
            self.message_user(request, _("Choose a stage first."), level=messages.ERROR)
            return
        by = staff_user(request)
        self._each(request, queryset, lambda c: candidate_stage_change(candidate_id=c.pk, to=stage, by=by))

    @admin.action(description=_("Close with the chosen reason"), permissions=["change"])
    def close_with_reason(self, request: HttpRequest, queryset: QuerySet[Candidate]) -> None:
        reason = request.POST.get("reason", "")
        if reason not in Candidate.ClosedReason.values:
            self.message_user(request, _("Choose a reason first."), level=messages.ERROR)
            return
        by = staff_user(request)
        self._each(request, queryset, lambda c: candidate_close(candidate_id=c.pk, reason=reason, by=by))

    @admin.action(description=_("Reopen"), permissions=["change"])
    def reopen(self, request: HttpRequest, queryset: QuerySet[Candidate]) -> None:
        by = staff_user(request)
        self._each(request, queryset, lambda c: candidate_reopen(candidate_id=c.pk, by=by))

    @admin.action(description=_("Log a call: reached"), permissions=["change"])
    def log_call_reached(self, request: HttpRequest, queryset: QuerySet[Candidate]) -> None:
        by = staff_user(request)
        self._each(
            request, queryset, lambda c: candidate_call_log(candidate_id=c.pk, outcome="reached", by=by)
        )

    @admin.action(description=_("Log a call: no answer"), permissions=["change"])
    def log_call_no_answer(self, request: HttpRequest, queryset: QuerySet[Candidate]) -> None:
        by = staff_user(request)
        self._each(
            request, queryset, lambda c: candidate_call_log(candidate_id=c.pk, outcome="no_answer", by=by)
        )

    @admin.action(description=_("Log a call: voicemail left"), permissions=["change"])
    def log_call_voicemail(self, request: HttpRequest, queryset: QuerySet[Candidate]) -> None:
        by = staff_user(request)
        self._each(
            request, queryset, lambda c: candidate_call_log(candidate_id=c.pk, outcome="voicemail", by=by)
        )
