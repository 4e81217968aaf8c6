import django_filters  # type: ignore[import-untyped, unused-ignore]  # no stubs, no py.typed

from core.filters import StrictFilterSet
from roles.models import JobPosting


class JobPostingFilter(StrictFilterSet):
    role = django_filters.CharFilter(field_name="role__slug", help_text="A role slug, e.g. accounting.")
    status = django_filters.ChoiceFilter(choices=JobPosting.Status.choices)

    class Meta:
        model = JobPosting
        fields = ("role", "status")
