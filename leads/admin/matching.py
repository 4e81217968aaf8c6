"""The posting's "matching candidates" page: the best candidates for an open posting with
their reasons, and the Recommend / Reveal buttons."""

import uuid
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.staff import staff_user
from leads.models import Application, Candidate, EmployerReveal
from leads.placements.errors import ApplicationError
from leads.placements.matching import candidates_for_posting
from leads.placements.services import (
    application_create,
    employer_reveal,
)
from roles.admin import JobPostingAdmin
from roles.models import JobPosting

MATCHING_LIMIT = 50


class PostingMatchingAdmin(JobPostingAdmin):
    """The posting admin plus its matching candidates (leads builds on roles, so the page is
    added here instead of in roles.admin). From there an advisor recommends a candidate."""

    def get_readonly_fields(self, request: HttpRequest, obj: JobPosting | None = None) -> Any:
        return (*super().get_readonly_fields(request, obj), "matching_candidates")

    def get_fieldsets(self, request: HttpRequest, obj: JobPosting | None = None) -> Any:
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None:
            fieldsets.insert(1, (_("Matching"), {"fields": ("matching_candidates",)}))
        return fieldsets

    @admin.display(description=_("matching candidates"))
    def matching_candidates(self, obj: JobPosting) -> str:
        url = reverse("admin:roles_jobposting_matching", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Show the matching candidates"))

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.matching_view)
        return [path("<int:pk>/matching/", view, name="roles_jobposting_matching"), *super().get_urls()]

    def matching_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """GET: candidates ranked for the posting with the reasons (4 queries: the posting,
        its certifications, the ranked candidates, their applications and reveals for it);
        POST `candidate`: recommend (create the application), or with `action=reveal`
        record that the employer was revealed to the candidate."""
        posting = get_object_or_404(JobPosting.objects.select_related("role", "employer"), pk=pk)
        if not self.has_view_permission(request, posting):
            raise PermissionDenied
        may_recommend = request.user.has_perm("leads.add_application")
        if request.method == "POST":
            if not may_recommend:
                raise PermissionDenied
            try:  # a forged or empty id is no candidate (and no 500)
                candidate_id = uuid.UUID(request.POST.get("candidate", ""))
            except ValueError:
                raise Http404 from None
            candidate = get_object_or_404(Candidate, pk=candidate_id)
            if request.POST.get("action") == "reveal":
                employer_reveal(candidate=candidate, posting=posting, by=staff_user(request))
                message = _("Employer revealed to %(candidate)s.") % {"candidate": candidate}
                self.message_user(request, message, messages.SUCCESS)
                return HttpResponseRedirect(request.path)
            try:
                application_create(candidate=candidate, posting=posting, by=staff_user(request))
            except ApplicationError as error:
                self.message_user(request, error.messages[0], messages.ERROR)
            else:
                message = _("%(candidate)s recommended.") % {"candidate": candidate}
                self.message_user(request, message, messages.SUCCESS)
            return HttpResponseRedirect(request.path)
        matches = candidates_for_posting(posting=posting, limit=MATCHING_LIMIT)
        ids = [m.candidate.pk for m in matches]
        applied = dict(
            Application.objects.filter(posting=posting, candidate__in=ids).values_list(
                "candidate_id", "stage"
            )
        )
        revealed = set(
            EmployerReveal.objects.filter(posting=posting, candidate__in=ids).values_list(
                "candidate_id", flat=True
            )
        )
        rows = [
            {
                "match": m,
                "stage_label": Application.Stage(applied[m.candidate.pk]).label
                if m.candidate.pk in applied
                else None,
                "revealed": m.candidate.pk in revealed,
            }
            for m in matches
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Matching candidates"),
            "subtitle": posting.title,
            "posting": posting,
            "rows": rows,
            "may_recommend": may_recommend and posting.status == JobPosting.Status.OPEN,
        }
        return TemplateResponse(request, "leads/admin/posting_matching.html", context)


# The roles app's posting admin, extended with the matching page (roles cannot import leads).
admin.site.unregister(JobPosting)
admin.site.register(JobPosting, PostingMatchingAdmin)
