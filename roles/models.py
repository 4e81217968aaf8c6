from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.models import TimestampedModel
from core.prefectures import PREFECTURE_CHOICES, PREFECTURE_CODES


def validate_string_list(value: object) -> None:
    """JSON lists shown to people (typical tasks, PC skills) hold short non-empty strings."""
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise ValidationError(_("Enter a list of non-empty texts."), code="invalid_list")


# A blank prefecture means "not recorded"; anything else must be a JIS code.
_PREFECTURE_BLANK_OR_JIS = Q(prefecture="") | Q(prefecture__in=PREFECTURE_CODES)


class Certification(models.Model):
    """A qualification candidates can hold (CONTRACT section 4: `GET /api/v1/certifications/`).
    Leads refer to it by `code`, so a code, once published, never changes."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name (Japanese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    issuer = models.CharField(_("issuer"), max_length=100)
    family = models.SlugField(
        _("family"), max_length=30, help_text=_("Groups the levels of one qualification, e.g. boki.")
    )
    level = models.CharField(_("level"), max_length=30, blank=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("certification")
        verbose_name_plural = _("certifications")
        ordering = ("sort_order", "code")

    def __str__(self) -> str:
        return self.name


class Role(models.Model):
    """A kind of back-office job in the public catalogue (DOMAIN.md). Leads refer to it by
    `slug`; a role that is no longer offered is deactivated, not deleted."""

    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    name_ja = models.CharField(_("name (Japanese)"), max_length=50)
    name_en = models.CharField(_("name (English)"), max_length=50)
    summary = models.TextField(_("summary"))
    typical_tasks = models.JSONField(
        _("typical tasks"), default=list, blank=True, validators=[validate_string_list]
    )
    recommended_certifications = models.ManyToManyField(
        Certification,
        blank=True,
        related_name="recommended_for_roles",
        verbose_name=_("recommended certifications"),
    )
    annual_salary_min = models.PositiveIntegerField(_("annual salary from (JPY)"))
    annual_salary_max = models.PositiveIntegerField(_("annual salary up to (JPY)"))
    experience_preferred = models.BooleanField(
        _("experience preferred"), default=False, help_text=_("Most openings favour experienced people.")
    )
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        ordering = ("sort_order", "slug")
        constraints = [
            models.CheckConstraint(
                condition=Q(annual_salary_min__gt=0),
                name="role_salary_min_positive",
                violation_error_message=_("The annual salary must be more than 0."),
            ),
            models.CheckConstraint(
                condition=Q(annual_salary_min__lte=F("annual_salary_max")),
                name="role_salary_min_lte_max",
                violation_error_message=_("The lower salary must not exceed the upper salary."),
            ),
        ]

    def __str__(self) -> str:
        return self.name_ja


class Employer(TimestampedModel):
    """A client company of the agency (求人企業). Its name and terms are never public."""

    name = models.CharField(_("company name"), max_length=200)
    name_kana = models.CharField(_("company name (kana)"), max_length=200, blank=True)
    prefecture = models.CharField(_("prefecture"), max_length=2, choices=PREFECTURE_CHOICES, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    fee_rate_percent = models.DecimalField(
        _("fee rate (%)"),
        max_digits=5,
        decimal_places=2,
        help_text=_("Placement fee as a percentage of the hire's first-year annual salary."),
    )
    fee_notes = models.TextField(_("fee terms"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("employer")
        verbose_name_plural = _("employers")
        ordering = ("name",)
        constraints = [
            models.CheckConstraint(
                condition=Q(fee_rate_percent__gt=0, fee_rate_percent__lte=100),
                name="employer_fee_rate_range",
                violation_error_message=_("The fee rate must be more than 0 and at most 100."),
            ),
            models.CheckConstraint(
                condition=_PREFECTURE_BLANK_OR_JIS,
                name="employer_prefecture_jis",
                violation_error_message=_("Enter a prefecture code from 01 to 47."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


def employer_named_in(text: str, employer: "Employer") -> bool:
    names = [name for name in (employer.name, employer.name_kana) if name]
    return any(name in text for name in names)


class JobPosting(TimestampedModel):
    """An employer's non-public opening (非公開求人): only advisors ever see it.

    By design it records nothing an employer may not screen on under Japan's fair-hiring
    rules (本籍・出生地, religion or beliefs, union membership, ...): do not add such fields.
    """

    class Remote(models.TextChoices):
        NONE = "none", _("On site")
        PARTIAL = "partial", _("Partly remote")
        FULL = "full", _("Fully remote")

    class EmploymentType(models.TextChoices):
        FULL_TIME = "full_time", _("Full-time employee")
        CONTRACT = "contract", _("Contract employee")
        DISPATCH = "dispatch", _("Dispatched worker")

    class AgeLimitException(models.TextChoices):
        """The only grounds on which a posting may set an age limit (労働施策総合推進法
        施行規則 第1条の3第1項); without one, an age limit is unlawful."""

        RETIREMENT_AGE = "1", _("1: up to the retirement age, for an open-ended contract")
        LAW = "2", _("2: an age limit set by law (e.g. the Labour Standards Act)")
        YOUNG_CAREER = "3a", _("3-a: young people without experience, for long-term career building")
        SKILLS_TRANSFER = "3b", _("3-b: passing on skills to an age group that is scarce in the job")
        ARTS = "3c", _("3-c: arts and entertainment, for authenticity of expression")
        POLICY = "3d", _("3-d: 60 or over, or a group a national employment policy promotes")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        # Specific msgids: "Open" and "Closed" mean other things elsewhere in the product.
        OPEN = "open", _("Recruiting")
        PAUSED = "paused", _("Recruiting paused")
        CLOSED = "closed", _("Recruiting closed")

    employer = models.ForeignKey(
        Employer, on_delete=models.PROTECT, related_name="postings", verbose_name=_("employer")
    )
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="postings", verbose_name=_("role"))
    title = models.CharField(_("job title"), max_length=200)
    description = models.TextField(_("job description"))
    teaser = models.TextField(
        _("teaser for candidates"),
        blank=True,
        help_text=_("What an advisor may share before the employer is revealed: never the employer's name."),
    )
    prefecture = models.CharField(_("work location"), max_length=2, choices=PREFECTURE_CHOICES, blank=True)
    remote = models.CharField(_("remote work"), max_length=10, choices=Remote.choices, default=Remote.NONE)
    employment_type = models.CharField(
        _("employment type"), max_length=10, choices=EmploymentType.choices, default=EmploymentType.FULL_TIME
    )
    salary_min = models.PositiveIntegerField(_("annual salary from (JPY)"))
    salary_max = models.PositiveIntegerField(_("annual salary up to (JPY)"))
    inexperienced_welcome = models.BooleanField(_("no experience needed"), default=False)
    experience_preferred = models.BooleanField(_("experience preferred"), default=False)
    required_certifications = models.ManyToManyField(
        Certification,
        blank=True,
        related_name="postings_requiring",
        verbose_name=_("required certifications"),
    )
    preferred_certifications = models.ManyToManyField(
        Certification,
        blank=True,
        related_name="postings_preferring",
        verbose_name=_("preferred certifications"),
    )
    pc_skills = models.JSONField(
        _("PC skills"),
        default=list,
        blank=True,
        validators=[validate_string_list],
        help_text=_('A JSON list, e.g. ["Excel (VLOOKUP)", "Word"].'),
    )
    weekends_holidays_off = models.BooleanField(_("weekends and holidays off"), default=False)
    annual_holidays = models.SmallIntegerField(_("days off a year"), null=True, blank=True)
    avg_monthly_overtime_hours = models.SmallIntegerField(
        _("average overtime a month (hours)"), null=True, blank=True
    )
    age_min = models.PositiveSmallIntegerField(_("minimum age"), null=True, blank=True)
    age_max = models.PositiveSmallIntegerField(_("maximum age"), null=True, blank=True)
    age_limit_exception = models.CharField(
        _("legal ground for the age limit"),
        max_length=2,
        choices=AgeLimitException.choices,
        blank=True,
        help_text=_("An age limit is allowed only on one of these grounds, and must be recorded with it."),
    )
    age_limit_reason = models.TextField(_("why the ground applies"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)

    class Meta:
        verbose_name = _("job posting")
        verbose_name_plural = _("job postings")
        ordering = ("-created_at",)
        indexes = [
            # The public catalogue counts each role's open postings on every request, and
            # advisors filter postings by role and status all day.
            models.Index(fields=["role", "status"], name="posting_role_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(salary_min__gt=0),
                name="posting_salary_min_positive",
                violation_error_message=_("The annual salary must be more than 0."),
            ),
            models.CheckConstraint(
                condition=Q(salary_min__lte=F("salary_max")),
                name="posting_salary_min_lte_max",
                violation_error_message=_("The lower salary must not exceed the upper salary."),
            ),
            models.CheckConstraint(
                condition=Q(annual_holidays__isnull=True)
                | Q(annual_holidays__gte=0, annual_holidays__lte=366),
                name="posting_annual_holidays_range",
                violation_error_message=_("Days off a year must be between 0 and 366."),
            ),
            models.CheckConstraint(
                condition=Q(avg_monthly_overtime_hours__isnull=True) | Q(avg_monthly_overtime_hours__gte=0),
                name="posting_overtime_not_negative",
                violation_error_message=_("Overtime must not be negative."),
            ),
            # Japan's placement rules: no age limit without a recorded legal exception.
            models.CheckConstraint(
                condition=Q(age_min__isnull=True, age_max__isnull=True, age_limit_exception="")
                | (
                    (Q(age_min__isnull=False) | Q(age_max__isnull=False))
                    & ~Q(age_limit_exception="")
                    & ~Q(age_limit_reason="")
                ),
                name="posting_age_limit_needs_legal_ground",
                violation_error_message=_(
                    "An age limit needs its legal ground and the reason it applies; without an age limit, "
                    "leave the ground empty."
                ),
            ),
            models.CheckConstraint(
                condition=Q(age_min__isnull=True) | Q(age_max__isnull=True) | Q(age_min__lte=F("age_max")),
                name="posting_age_min_lte_max",
                violation_error_message=_("The minimum age must not exceed the maximum age."),
            ),
            models.CheckConstraint(
                condition=_PREFECTURE_BLANK_OR_JIS,
                name="posting_prefecture_jis",
                violation_error_message=_("Enter a prefecture code from 01 to 47."),
            ),
        ]

    def clean(self) -> None:
        super().clean()
        if self.teaser and self.employer_id and employer_named_in(self.teaser, self.employer):
            raise ValidationError({"teaser": _("The teaser must not name the employer.")})

    def __str__(self) -> str:
        return self.title


def validate_refund_bands(value: object) -> None:
    """Refund bands: a JSON list of {"within_days": N, "percent": P}, N ascending and at
    least 1 (day 1 is the start date), P from 0 to 100. An empty list: no refunds."""
    if not isinstance(value, list):
        raise ValidationError(_("Enter a list of refund bands."), code="invalid_bands")
    previous = 0
    for band in value:
        if not isinstance(band, dict) or set(band) != {"within_days", "percent"}:
            raise ValidationError(
                _('Each band is {"within_days": days, "percent": percent}.'), code="invalid_bands"
            )
        days, percent = band["within_days"], band["percent"]
        if not isinstance(days, int) or isinstance(days, bool) or days <= previous:
            raise ValidationError(
                _("The bands' days must be whole numbers, at least 1 and ascending."), code="bands_order"
            )
        if not isinstance(percent, int) or isinstance(percent, bool) or not 0 <= percent <= 100:
            raise ValidationError(
                _("A band's percentage must be a whole number from 0 to 100."), code="bands_percent"
            )
        previous = days


class EmployerFeeTerms(models.Model):
    """An employer's fee terms from a day on (history: a change is a new row with a later
    `effective_from`, never an edit). The terms in force on a placement's start date apply
    to it, whatever changed afterwards (leads.invoices.terms)."""

    employer = models.ForeignKey(
        Employer, on_delete=models.PROTECT, related_name="fee_terms", verbose_name=_("employer")
    )
    effective_from = models.DateField(_("in force from"))
    rate_percent = models.DecimalField(
        _("fee rate (%)"),
        max_digits=5,
        decimal_places=2,
        help_text=_("Of the hire's theoretical annual income (first-year annual salary)."),
    )
    minimum_fee_jpy = models.PositiveIntegerField(_("minimum fee (JPY, before tax)"), default=0)
    payment_term_days = models.PositiveSmallIntegerField(
        _("payment term (days)"), default=30, help_text=_("Days from the invoice date to the due date.")
    )
    refund_bands = models.JSONField(
        _("refund bands"),
        default=list,
        blank=True,
        validators=[validate_refund_bands],
        help_text=_(
            "Leaving on day N of employment (the start date is day 1) refunds the first band "
            'with N within its days, e.g. [{"within_days": 30, "percent": 80}, '
            '{"within_days": 90, "percent": 50}].'
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("employer fee terms")
        verbose_name_plural = _("employer fee terms")
        ordering = ("employer", "-effective_from")
        constraints = [
            models.UniqueConstraint(
                fields=["employer", "effective_from"],
                name="fee_terms_one_per_day",
                violation_error_message=_("These terms already have a version in force from that day."),
            ),
            models.CheckConstraint(
                condition=Q(rate_percent__gt=0, rate_percent__lte=100),
                name="fee_terms_rate_range",
                violation_error_message=_("The fee rate must be more than 0 and at most 100."),
            ),
            models.CheckConstraint(
                condition=Q(payment_term_days__gte=1),
                name="fee_terms_payment_term_positive",
                violation_error_message=_("The payment term must be at least 1 day."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.employer} ({self.effective_from:%Y-%m-%d}~)"
