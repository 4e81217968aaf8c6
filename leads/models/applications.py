"""Applications (推薦): a candidate put forward for a posting, through to placement.

Every stage change goes through leads.placements.services and is recorded as an
ApplicationEvent (actor and time); the candidate's own stage follows from there.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.models import TimestampedModel
from leads.models.candidates import Candidate
from roles.models import EmployerFeeTerms, JobPosting


class Application(TimestampedModel):
    """One per candidate and posting (a unique constraint): recommending the same person
    twice for one opening is refused by the database."""

    class Stage(models.TextChoices):
        RECOMMENDED = "recommended", _("Recommended")
        SUBMITTED = "submitted", _("Submitted to the employer")
        DOCUMENT_SCREENING = "document_screening", _("Document screening")
        INTERVIEW = "interview", _("Interview")
        OFFER = "offer", _("Offer")
        ACCEPTED = "accepted", _("Offer accepted")
        DECLINED = "declined", _("Declined by the candidate")
        REJECTED = "rejected", _("Rejected by the employer")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    candidate = models.ForeignKey(
        Candidate, on_delete=models.CASCADE, related_name="applications", verbose_name=_("candidate")
    )
    posting = models.ForeignKey(
        JobPosting, on_delete=models.PROTECT, related_name="applications", verbose_name=_("job posting")
    )
    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="applications",
        verbose_name=_("advisor"),
        help_text=_("Who recommended the candidate and follows the application."),
    )
    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices, default=Stage.RECOMMENDED)
    stage_changed_at = models.DateTimeField(_("stage changed at"))
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ("-stage_changed_at", "-pk")
        constraints = [
            models.UniqueConstraint(
                fields=["candidate", "posting"],
                name="application_one_per_candidate_posting",
                violation_error_message=_("This candidate has already been recommended for this posting."),
            ),
        ]
        indexes = [
            # The pipeline list filters by stage (and counts per stage) all day.
            models.Index(fields=["stage", "-stage_changed_at"], name="application_stage_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.candidate} / {self.posting}"


class ApplicationEvent(models.Model):
    """One change of an application, with who and when; the candidate's timeline reads
    these rows by `candidate` (kept on the row so that needs no join)."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Recommended")
        STAGE_CHANGED = "stage_changed", _("Application stage changed")
        INTERVIEW_SCHEDULED = "interview_scheduled", _("Interview scheduled")
        PLACED = "placed", _("Placement recorded")
        LEFT_EARLY = "left_early", _("Leaving recorded")
        MERGED = "merged", _("Moved from a merged duplicate")
        OWN_REQUEST = "own_request", _("Two-year rule: the person's own request recorded")
        SIX_MONTH_CHECK = "six_month_check", _("Six-month follow-up recorded")

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="events", verbose_name=_("application")
    )
    candidate = models.ForeignKey(
        Candidate, on_delete=models.CASCADE, related_name="application_events", verbose_name=_("candidate")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    from_stage = models.CharField(_("from"), max_length=20, choices=Application.Stage.choices, blank=True)
    to_stage = models.CharField(_("to"), max_length=20, choices=Application.Stage.choices, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
        help_text=_("Empty when the system made the change."),
    )
    data = models.JSONField(_("details"), default=dict, blank=True)
    note = models.TextField(_("note"), blank=True)
    occurred_at = models.DateTimeField(_("occurred at"))

    class Meta:
        verbose_name = _("application event")
        verbose_name_plural = _("application events")
        ordering = ("-occurred_at", "-pk")
        indexes = [
            # The candidate's timeline reads one candidate's events newest first.
            models.Index(fields=["candidate", "-occurred_at"], name="appevent_candidate_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d %H:%M}"


class InterviewRound(models.Model):
    """An interview with the employer: rounds are numbered 1, 2, ... per application."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="interview_rounds", verbose_name=_("application")
    )
    number = models.PositiveSmallIntegerField(_("round"))
    scheduled_at = models.DateTimeField(_("date and time"))
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("interview round")
        verbose_name_plural = _("interview rounds")
        ordering = ("application", "number")
        constraints = [
            models.UniqueConstraint(fields=["application", "number"], name="interview_round_unique_number"),
            models.CheckConstraint(condition=Q(number__gte=1), name="interview_round_number_positive"),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.scheduled_at:%Y-%m-%d %H:%M}"


class Placement(TimestampedModel):
    """The hire behind an accepted application (one per application), with what the
    agency bills and what the placement statistics (職業安定法: hires and those who left
    within 6 months) need."""

    application = models.OneToOneField(
        Application, on_delete=models.PROTECT, related_name="placement", verbose_name=_("application")
    )
    placed_on = models.DateField(_("placement date"), help_text=_("The day the offer was accepted."))
    start_date = models.DateField(_("start date"))
    annual_salary_jpy = models.PositiveIntegerField(_("first-year annual salary (JPY)"))
    fee_rate_percent = models.DecimalField(
        _("fee rate (%)"),
        max_digits=5,
        decimal_places=2,
        help_text=_("Copied from the employer's fee terms."),
    )
    fee_jpy = models.PositiveIntegerField(_("fee (JPY)"))
    employment_type = models.CharField(
        _("employment type"),
        max_length=10,
        choices=JobPosting.EmploymentType.choices,
        help_text=_("Copied from the posting when the offer was accepted."),
    )
    guarantee_until = models.DateField(
        _("guarantee period ends"), help_text=_("A hire leaving before this day may entitle a refund.")
    )
    fee_terms = models.ForeignKey(
        EmployerFeeTerms,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="placements",
        verbose_name=_("fee terms applied"),
        help_text=_("The employer's terms in force on the start date; empty when the employer had none."),
    )
    left_on = models.DateField(_("left on"), null=True, blank=True)
    refund_jpy = models.PositiveIntegerField(
        _("refund (JPY)"),
        null=True,
        blank=True,
        help_text=_("Computed from the refund bands in force at the start (before tax)."),
    )
    # The six-month follow-up (職業安定法: the yearly disclosure counts hires into indefinite
    # employment and those of them who left within six months).
    six_month_checked_on = models.DateField(_("six-month follow-up recorded on"), null=True, blank=True)
    six_month_still_employed = models.BooleanField(_("still employed at six months"), null=True, blank=True)
    six_month_indefinite = models.BooleanField(_("on an indefinite contract"), null=True, blank=True)

    class Meta:
        verbose_name = _("placement")
        verbose_name_plural = _("placements")
        ordering = ("-placed_on", "-pk")
        constraints = [
            models.CheckConstraint(
                condition=Q(start_date__gte=F("placed_on")),
                name="placement_start_after_placed",
                violation_error_message=_("The start date must not be before the placement date."),
            ),
            models.CheckConstraint(
                condition=Q(guarantee_until__gte=F("start_date")),
                name="placement_guarantee_after_start",
                violation_error_message=_("The guarantee period must not end before the start date."),
            ),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=F("start_date")),
                name="placement_left_after_start",
                violation_error_message=_("The leaving date must not be before the start date."),
            ),
            models.CheckConstraint(
                condition=Q(refund_jpy__isnull=True) | Q(left_on__isnull=False, refund_jpy__lte=F("fee_jpy")),
                name="placement_refund_needs_leaving",
                violation_error_message=_("A refund needs a leaving date and cannot exceed the fee."),
            ),
        ]

    @property
    def is_permanent(self) -> bool:
        """無期雇用 for the statistics: a full-time employee (正社員)."""
        return self.employment_type == JobPosting.EmploymentType.FULL_TIME

    def __str__(self) -> str:
        return f"{self.application} ({self.start_date:%Y-%m-%d})"


class EmployerReveal(models.Model):
    """An advisor told a candidate which employer is behind a posting (after the teaser).
    Revealing is a fact recorded once per candidate and posting, with who and when."""

    candidate = models.ForeignKey(
        Candidate, on_delete=models.CASCADE, related_name="employer_reveals", verbose_name=_("candidate")
    )
    posting = models.ForeignKey(
        JobPosting, on_delete=models.PROTECT, related_name="employer_reveals", verbose_name=_("job posting")
    )
    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("advisor"),
    )
    revealed_at = models.DateTimeField(_("revealed at"))

    class Meta:
        verbose_name = _("employer reveal")
        verbose_name_plural = _("employer reveals")
        ordering = ("-revealed_at", "-pk")
        constraints = [
            models.UniqueConstraint(fields=["candidate", "posting"], name="employer_reveal_once"),
        ]

    def __str__(self) -> str:
        return f"{self.candidate} / {self.posting}"


# For drf-spectacular's ENUM_NAME_OVERRIDES, which needs a module-level path.
ApplicationStage = Application.Stage
