from typing import Any, TypeVar

from django.contrib import admin
from django.db.models import Count, Model, Q, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from roles.models import Certification, Employer, EmployerFeeTerms, JobPosting, Role
from roles.services import catalogue_cache_invalidate

_CatalogueModel = TypeVar("_CatalogueModel", bound=Model)


def _yen_range(low: int, high: int) -> str:
    return f"{low:,} 〜 {high:,}"


class CatalogueCacheAdmin(admin.ModelAdmin[_CatalogueModel]):
    """Role slugs and certification codes are cached for lead validation (roles.selectors):
    every admin write to them invalidates that cache once the transaction commits."""

    def save_model(
        self, request: HttpRequest, obj: _CatalogueModel, form: ModelForm[_CatalogueModel], change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        catalogue_cache_invalidate()

    def delete_model(self, request: HttpRequest, obj: _CatalogueModel) -> None:
        super().delete_model(request, obj)
        catalogue_cache_invalidate()

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[_CatalogueModel]) -> None:
        super().delete_queryset(request, queryset)
        catalogue_cache_invalidate()


@admin.register(Certification)
class CertificationAdmin(CatalogueCacheAdmin[Certification]):
    list_display = ("code", "name", "issuer", "family", "level", "sort_order")
    list_filter = ("family",)
    search_fields = ("code", "name", "name_en", "issuer")
    ordering = ("sort_order", "code")


@admin.register(Role)
class RoleAdmin(CatalogueCacheAdmin[Role]):
    list_display = ("name_ja", "slug", "salary_range", "experience_preferred", "is_active", "sort_order")
    list_filter = ("is_active", "experience_preferred")
    search_fields = ("slug", "name_ja", "name_en")
    ordering = ("sort_order", "slug")
    filter_horizontal = ("recommended_certifications",)

    @admin.display(description=_("annual salary (JPY)"), ordering="annual_salary_min")
    def salary_range(self, obj: Role) -> str:
        return _yen_range(obj.annual_salary_min, obj.annual_salary_max)


class JobPostingInline(admin.TabularInline[JobPosting, Employer]):
    """A read-only summary on the employer's page; postings are edited on their own page."""

    model = JobPosting
    fields = ("title", "role", "status", "inexperienced_welcome", "salary_min", "salary_max")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ("-created_at",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[JobPosting]:
        return super().get_queryset(request).select_related("role")


@admin.register(Employer)
class EmployerAdmin(admin.ModelAdmin[Employer]):
    list_display = ("name", "prefecture", "industry", "fee_rate_percent", "open_postings", "is_active")
    list_filter = ("is_active", "prefecture")
    search_fields = ("name", "name_kana", "industry")
    ordering = ("name",)
    readonly_fields = ("created_at", "updated_at")
    inlines = (JobPostingInline,)
    # The rate here applies only while the employer has no fee terms (EmployerFeeTerms).

    def get_queryset(self, request: HttpRequest) -> QuerySet[Employer]:
        # One query for the whole changelist, not one count per row.
        return (
            super()
            .get_queryset(request)
            .annotate(
                open_postings_count=Count("postings", filter=Q(postings__status=JobPosting.Status.OPEN))
            )
        )

    @admin.display(description=_("open postings"), ordering="open_postings_count")
    def open_postings(self, obj: Employer) -> int:
        return int(getattr(obj, "open_postings_count", 0))


@admin.register(JobPosting)
class JobPostingAdmin(admin.ModelAdmin[JobPosting]):
    list_display = (
        "title",
        "employer",
        "role",
        "status",
        "inexperienced_welcome",
        "salary_range",
        "updated_at",
    )
    list_filter = (
        "status",
        "role",
        "inexperienced_welcome",
        "experience_preferred",
        "employment_type",
        "remote",
        "weekends_holidays_off",
        "prefecture",
    )
    list_select_related = ("employer", "role")
    search_fields = ("title", "description", "employer__name", "employer__name_kana")
    autocomplete_fields = ("employer",)
    filter_horizontal = ("required_certifications", "preferred_certifications")
    readonly_fields = ("created_at", "updated_at")
    date_hierarchy = "created_at"
    fieldsets = (
        (None, {"fields": ("employer", "role", "title", "description", "teaser", "status")}),
        (
            _("Conditions"),
            {
                "fields": (
                    "employment_type",
                    "prefecture",
                    "remote",
                    ("salary_min", "salary_max"),
                    "weekends_holidays_off",
                    "annual_holidays",
                    "avg_monthly_overtime_hours",
                )
            },
        ),
        (
            _("Requirements"),
            {
                "fields": (
                    "inexperienced_welcome",
                    "experience_preferred",
                    "required_certifications",
                    "preferred_certifications",
                    "pc_skills",
                )
            },
        ),
        (
            _("Age limit (only on a legal ground)"),
            {
                "classes": ("collapse",),
                "fields": (("age_min", "age_max"), "age_limit_exception", "age_limit_reason"),
            },
        ),
        (_("Record"), {"fields": ("created_at", "updated_at")}),
    )

    @admin.display(description=_("annual salary (JPY)"), ordering="salary_min")
    def salary_range(self, obj: JobPosting) -> str:
        return _yen_range(obj.salary_min, obj.salary_max)


@admin.register(EmployerFeeTerms)
class EmployerFeeTermsAdmin(admin.ModelAdmin[EmployerFeeTerms]):
    """Fee terms are history: a change is a new version in force from a later day, never an
    edit (placements keep the version in force at their start), so there is no change or
    delete. The model's validators check the bands (ascending, 0-100%)."""

    list_display = (
        "employer",
        "effective_from",
        "rate_percent",
        "minimum_fee_jpy",
        "payment_term_days",
        "bands",
    )
    list_filter = ("effective_from",)
    list_select_related = ("employer",)
    search_fields = ("employer__name",)
    autocomplete_fields = ("employer",)
    fields = (
        "employer",
        "effective_from",
        "rate_percent",
        "minimum_fee_jpy",
        "payment_term_days",
        "refund_bands",
    )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("refund bands"))
    def bands(self, obj: EmployerFeeTerms) -> str:
        return " / ".join(
            str(
                _("up to day %(days)d: %(percent)d%%")
                % {"days": band["within_days"], "percent": band["percent"]}
            )
            for band in obj.refund_bands
        )
