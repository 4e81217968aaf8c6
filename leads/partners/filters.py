import django_filters
from django.db.models import Q, QuerySet

from core.filters import StrictFilterSet, UtcIsoDateTimeFilter
from leads.models import Candidate, Lead


class PartnerLeadFilter(StrictFilterSet):
    status = django_filters.ChoiceFilter(
        choices=Candidate.PartnerStatus.choices, field_name="candidate__partner_status"
    )
    created_after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gt")
    updated_after = UtcIsoDateTimeFilter(method="filter_updated_after")

    class Meta:
        model = Lead
        fields = ("status", "created_after", "updated_after")

    def filter_updated_after(self, queryset: QuerySet[Lead], name: str, value: object) -> QuerySet[Lead]:
        # A lead changes when it arrives and whenever its partner-safe status changes.
        return queryset.filter(Q(created_at__gt=value) | Q(candidate__partner_status_changed_at__gt=value))
