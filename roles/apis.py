"""The public catalogue (CONTRACT section 4) and the advisors' read-only posting API.

Public serializers name every field they output: nothing about employers or postings may
reach them, whatever is later added to the models.
"""

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, generics, serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from core.serializers import ModelSerializer
from roles.filters import JobPostingFilter
from roles.models import Certification, Employer, JobPosting, Role
from roles.permissions import IsAdvisor
from roles.selectors import certification_list, job_posting_list, job_posting_teaser, role_get, role_list


def share_round(value: float) -> float:
    """A ratio 0..1 rounded half-up to two decimals (2/3 -> 0.67, 1/8 -> 0.13)."""
    return float(Decimal(repr(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


# --- Public catalogue ---------------------------------------------------------------------


class RoleCertificationOutputSerializer(ModelSerializer[Certification]):
    class Meta:
        model = Certification
        fields = ("code", "name", "issuer")
        read_only_fields = fields


class RoleOutputSerializer(ModelSerializer[Role]):
    typical_tasks = serializers.ListField(child=serializers.CharField(), read_only=True)
    recommended_certifications = RoleCertificationOutputSerializer(many=True, read_only=True)
    inexperienced_welcome_share = serializers.SerializerMethodField(
        help_text="Share of the role's open postings that welcome people without experience "
        "(未経験歓迎), rounded to 2 decimals; null when the role has no open posting."
    )

    class Meta:
        model = Role
        fields = (
            "slug",
            "name_ja",
            "name_en",
            "summary",
            "typical_tasks",
            "recommended_certifications",
            "annual_salary_min",
            "annual_salary_max",
            "experience_preferred",
            "inexperienced_welcome_share",
        )
        read_only_fields = fields

    @extend_schema_field(serializers.FloatField(allow_null=True, min_value=0, max_value=1))
    def get_inexperienced_welcome_share(self, role: Role) -> float | None:
        share: float | None = getattr(role, "inexperienced_welcome_share", None)  # role_list's annotation
        return None if share is None else share_round(share)


class CertificationOutputSerializer(ModelSerializer[Certification]):
    level = serializers.SerializerMethodField()

    class Meta:
        model = Certification
        fields = ("code", "name", "name_en", "issuer", "level")
        read_only_fields = fields

    def get_level(self, certification: Certification) -> str | None:
        return certification.level or None  # stored as "" (Django's convention), published as null


class RoleListApi(generics.ListAPIView[Role]):
    authentication_classes = ()  # public: no session lookup, no CSRF, one answer for everyone
    permission_classes = (AllowAny,)
    serializer_class = RoleOutputSerializer
    pagination_class = None  # a short, fixed catalogue: one page
    filter_backends = ()

    def get_queryset(self) -> Any:
        return role_list()

    @extend_schema(operation_id="roles_list", responses={200: RoleOutputSerializer(many=True)})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)


class RoleDetailApi(generics.GenericAPIView[Role]):
    authentication_classes = ()  # public: no session lookup, no CSRF, one answer for everyone
    permission_classes = (AllowAny,)
    serializer_class = RoleOutputSerializer

    @extend_schema(operation_id="roles_retrieve", responses={200: RoleOutputSerializer})
    def get(self, request: Request, slug: str) -> Response:
        role = role_get(slug=slug)
        if role is None:  # unknown and inactive roles look the same
            raise exceptions.NotFound()
        return Response(RoleOutputSerializer(role).data)


class CertificationListApi(generics.ListAPIView[Certification]):
    authentication_classes = ()  # public: no session lookup, no CSRF, one answer for everyone
    permission_classes = (AllowAny,)
    serializer_class = CertificationOutputSerializer
    pagination_class = None
    filter_backends = ()

    def get_queryset(self) -> Any:
        return certification_list()

    @extend_schema(
        operation_id="certifications_list", responses={200: CertificationOutputSerializer(many=True)}
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)


# --- Advisors only: non-public postings (非公開求人) -----------------------------------------


class PostingEmployerOutputSerializer(ModelSerializer[Employer]):
    class Meta:
        model = Employer
        fields = ("id", "name", "prefecture", "industry")
        read_only_fields = fields


class PostingRoleOutputSerializer(ModelSerializer[Role]):
    class Meta:
        model = Role
        fields = ("slug", "name_ja")
        read_only_fields = fields


class PostingCertificationOutputSerializer(ModelSerializer[Certification]):
    class Meta:
        model = Certification
        fields = ("code", "name")
        read_only_fields = fields


class JobPostingOutputSerializer(ModelSerializer[JobPosting]):
    employer = PostingEmployerOutputSerializer(read_only=True)
    role = PostingRoleOutputSerializer(read_only=True)
    required_certifications = PostingCertificationOutputSerializer(many=True, read_only=True)
    preferred_certifications = PostingCertificationOutputSerializer(many=True, read_only=True)
    pc_skills = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = JobPosting
        fields = (
            "id",
            "employer",
            "role",
            "title",
            "description",
            "prefecture",
            "remote",
            "employment_type",
            "salary_min",
            "salary_max",
            "inexperienced_welcome",
            "experience_preferred",
            "required_certifications",
            "preferred_certifications",
            "pc_skills",
            "weekends_holidays_off",
            "annual_holidays",
            "avg_monthly_overtime_hours",
            "status",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class JobPostingListApi(generics.ListAPIView[JobPosting]):
    # The admin's session login. An anonymous caller gets 403, not 401: SessionAuthentication
    # offers no WWW-Authenticate challenge.
    permission_classes = (IsAdvisor,)
    serializer_class = JobPostingOutputSerializer
    filterset_class = JobPostingFilter

    def get_queryset(self) -> Any:
        return job_posting_list()

    @extend_schema(operation_id="postings_list", responses={200: JobPostingOutputSerializer(many=True)})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)


class JobPostingDetailApi(generics.RetrieveAPIView[JobPosting]):
    # The admin's session login. An anonymous caller gets 403, not 401: SessionAuthentication
    # offers no WWW-Authenticate challenge.
    permission_classes = (IsAdvisor,)
    serializer_class = JobPostingOutputSerializer
    filter_backends = ()

    def get_queryset(self) -> Any:
        return job_posting_list()

    @extend_schema(operation_id="postings_retrieve", responses={200: JobPostingOutputSerializer})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.retrieve(request, *args, **kwargs)


class JobPostingTeaserSerializer(serializers.Serializer[Any]):
    """What may be shared with a candidate before the employer is revealed."""

    id = serializers.IntegerField()
    role = PostingRoleOutputSerializer()
    prefecture = serializers.CharField()
    remote = serializers.CharField()
    employment_type = serializers.CharField()
    salary_min = serializers.IntegerField()
    salary_max = serializers.IntegerField()
    inexperienced_welcome = serializers.BooleanField()
    experience_preferred = serializers.BooleanField()
    weekends_holidays_off = serializers.BooleanField()
    annual_holidays = serializers.IntegerField(allow_null=True)
    avg_monthly_overtime_hours = serializers.IntegerField(allow_null=True)
    required_certifications = PostingCertificationOutputSerializer(many=True)
    teaser = serializers.CharField()


class JobPostingTeaserApi(generics.GenericAPIView[JobPosting]):
    """A posting without its employer (masked disclosure), for an advisor to share."""

    permission_classes = (IsAdvisor,)
    filter_backends = ()

    def get_queryset(self) -> Any:
        return job_posting_list()

    @extend_schema(operation_id="postings_teaser", responses={200: JobPostingTeaserSerializer})
    def get(self, request: Request, pk: int) -> Response:
        posting = self.get_object()
        return Response(JobPostingTeaserSerializer(job_posting_teaser(posting=posting)).data)
