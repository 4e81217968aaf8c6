"""Candidates: one per person, with the profile advisors keep."""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import TimestampedModel
from core.prefectures import PREFECTURE_CODES


class Strength(models.TextChoices):
    """What floor work teaches that desk work needs (DOMAIN.md). A fixed vocabulary in code:
    advisors tick these in the hearing, and matching will compare them with postings."""

    FOLLOWING_PROCEDURES = "following_procedures", _("Following procedures exactly")
    TEAMWORK = "teamwork", _("Teamwork")
    CUSTOMER_COMMUNICATION = "customer_communication", _("Customer communication")
    STAMINA = "stamina", _("Stamina")
    ACCURACY = "accuracy", _("Accuracy")
    TIME_MANAGEMENT = "time_management", _("Time management")
    MULTITASKING = "multitasking", _("Handling several tasks at once")
    TRAINING_OTHERS = "training_others", _("Training newcomers")
    IMPROVEMENT = "improvement", _("Suggesting improvements")
    RELIABILITY = "reliability", _("Punctuality and reliability")


class SkillLevel(models.TextChoices):
    NONE = "none", _("None")
    BASIC = "basic", _("Basic")
    INTERMEDIATE = "intermediate", _("Intermediate")
    ADVANCED = "advanced", _("Advanced")


class RemoteWish(models.TextChoices):
    NONE = "none", _("Office only")
    PARTIAL = "partial", _("Partly remote")
    FULL = "full", _("Fully remote")


class ContactChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    LINE = "line", _("LINE")


class Language(models.TextChoices):
    JA = "ja", _("Japanese")
    EN = "en", _("English")


def validate_strengths(value: object) -> None:
    if not isinstance(value, list) or not set(value) <= set(Strength.values):
        raise ValidationError(_("Choose strengths from the list."), code="invalid_strengths")


def validate_prefecture_codes(value: object) -> None:
    if not isinstance(value, list) or not set(value) <= set(PREFECTURE_CODES):
        raise ValidationError(_("Enter prefecture codes from 01 to 47."), code="invalid_prefectures")


class Candidate(TimestampedModel):
    """A person, deduplicated by normalised email or E.164 phone (unique constraints)."""

    class Stage(models.TextChoices):
        NEW = "new", _("New")
        CONTACTING = "contacting", _("Contacting")
        CONTACTED = "contacted", _("Contacted")
        CONSULTATION_BOOKED = "consultation_booked", _("Consultation booked")
        CONSULTED = "consulted", _("Consulted")
        DOCUMENTS = "documents", _("Documents")
        APPLYING = "applying", _("Applying")
        INTERVIEWING = "interviewing", _("Interviewing")
        OFFERED = "offered", _("Offered")
        PLACED = "placed", _("Placed")

    class ClosedReason(models.TextChoices):
        UNREACHABLE = "unreachable", _("Unreachable")
        NOT_INTERESTED = "not_interested", _("Not interested")
        DECLINED = "declined", _("Declined")
        PLACED_ELSEWHERE = "placed_elsewhere", _("Placed elsewhere")
        DUPLICATE = "duplicate", _("Duplicate")
        CONSENT_WITHDRAWN = "consent_withdrawn", _("Consent withdrawn")
        ERASED = "erased", _("Personal data erased")

    class PartnerStatus(models.TextChoices):
        """What a partner may see (CONTRACT section 3), derived from stage and closed."""

        RECEIVED = "received", _("Received")
        CONTACTED = "contacted", _("Contacted")
        CONSULTATION_BOOKED = "consultation_booked", _("Consultation booked")
        CONSULTATION_HELD = "consultation_held", _("Consultation held")
        APPLIED = "applied", _("Applied")
        PLACED = "placed", _("Placed")
        CLOSED = "closed", _("Closed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    family_name = models.CharField(_("family name"), max_length=50)
    given_name = models.CharField(_("given name"), max_length=50)
    family_name_kana = models.CharField(_("family name (kana)"), max_length=100, blank=True)
    given_name_kana = models.CharField(_("given name (kana)"), max_length=100, blank=True)
    # NULL, not "", for a missing contact: unique constraints must ignore absent values.
    # Unique by constraints in Meta, not `unique=True`: on PostgreSQL that would add a second
    # (varchar_pattern_ops) index to each, which no query uses (the search has trigram
    # indexes) and every lead intake would pay for.
    email = models.EmailField(_("email"), null=True, blank=True)  # noqa: DJ001 - absent is NULL
    phone = models.CharField(_("phone (E.164)"), max_length=16, null=True, blank=True)  # noqa: DJ001
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    prefecture = models.CharField(_("prefecture"), max_length=2, blank=True)
    current_occupation = models.CharField(_("current occupation"), max_length=20, blank=True)
    desired_roles = models.JSONField(_("desired roles"), default=list, blank=True)
    certifications = models.JSONField(_("certifications"), default=list, blank=True)
    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="candidates",
        verbose_name=_("advisor"),
        db_index=False,  # candidate_advisor_stage_idx starts with the advisor
    )
    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices, default=Stage.NEW)
    is_closed = models.BooleanField(_("closed"), default=False)
    closed_reason = models.CharField(
        _("closed reason"), max_length=30, choices=ClosedReason.choices, blank=True
    )
    partner_status = models.CharField(
        _("partner status"), max_length=20, choices=PartnerStatus.choices, default=PartnerStatus.RECEIVED
    )
    partner_status_changed_at = models.DateTimeField(_("partner status changed at"))
    # Set on the duplicate when two records of one person are merged (leads.candidates.merge):
    # it keeps its own contacts, so lead intake follows this to the record kept.
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        db_index=False,  # candidate_merged_into_idx, over the few merged rows only
        related_name="merged_from",
        verbose_name=_("merged into"),
    )
    credited_lead = models.ForeignKey(
        "Lead",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("credited lead"),
        help_text=_("The lead whose partner is credited with this candidate's outcomes."),
    )
    last_contacted_at = models.DateTimeField(_("last contacted at"), null=True, blank=True)
    consent_withdrawn_at = models.DateTimeField(
        _("consent withdrawn at"),
        null=True,
        blank=True,
        help_text=_("Set when the person withdrew consent: no more messages are sent to them."),
    )

    # The hearing (first consultation). Every field has a default so that lead intake, which
    # knows none of this, keeps creating candidates exactly as before.
    # Strengths are a JSON list of Strength values, not a many-to-many: the vocabulary is
    # fixed in code (no table to seed or join), it is always read with the candidate (no
    # extra query on the list or the page), and PostgreSQL can still filter it with @>.
    strengths = models.JSONField(
        _("transferable strengths"), default=list, blank=True, validators=[validate_strengths]
    )
    motivation = models.TextField(_("motivation for back office"), blank=True)
    word_level = models.CharField(_("Word"), max_length=12, choices=SkillLevel.choices, blank=True)
    excel_level = models.CharField(_("Excel"), max_length=12, choices=SkillLevel.choices, blank=True)
    has_desk_experience = models.BooleanField(_("has desk experience"), default=False)
    desired_prefectures = models.JSONField(
        _("desired prefectures"),
        default=list,
        blank=True,
        validators=[validate_prefecture_codes],
        help_text=_("JIS codes, e.g. 13 for Tokyo."),
    )
    min_annual_salary = models.PositiveIntegerField(_("minimum annual salary (JPY)"), null=True, blank=True)
    wants_weekends_off = models.BooleanField(_("wants weekends and holidays off"), default=False)
    max_overtime_hours = models.PositiveSmallIntegerField(
        _("overtime tolerance (hours per month)"),
        null=True,
        blank=True,
        help_text=_("Empty: not discussed yet."),
    )
    remote_wish = models.CharField(
        _("remote work"), max_length=10, choices=RemoteWish.choices, default=RemoteWish.NONE
    )
    contact_channel = models.CharField(
        _("preferred contact channel"),
        max_length=10,
        choices=ContactChannel.choices,
        default=ContactChannel.PHONE,
    )
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.JA)
    line_user_id = models.CharField(
        _("LINE user ID"),
        max_length=64,
        blank=True,
        help_text=_(
            "Given by LINE when the person adds our official account; needed to message them on LINE."
        ),
    )
    # Set once the person's data has been erased (leads.privacy.records); the row stays
    # so that partners' counts and funnels stay right.
    erased_at = models.DateTimeField(_("personal data erased at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("candidate")
        verbose_name_plural = _("candidates")
        constraints = [
            # One person per email and per phone: lead intake's deduplication relies on them.
            models.UniqueConstraint(fields=["email"], name="candidate_email_unique"),
            models.UniqueConstraint(fields=["phone"], name="candidate_phone_unique"),
            models.CheckConstraint(
                condition=Q(email__isnull=False) | Q(phone__isnull=False), name="candidate_has_a_contact"
            ),
            models.CheckConstraint(condition=~Q(email=""), name="candidate_email_null_not_blank"),
            models.CheckConstraint(condition=~Q(phone=""), name="candidate_phone_null_not_blank"),
            # A closed candidate says why; an open one has no reason left over.
            models.CheckConstraint(
                condition=Q(is_closed=True, closed_reason__gt="") | Q(is_closed=False, closed_reason=""),
                name="candidate_closed_has_reason",
            ),
        ]
        indexes = [
            # Advisors' list filters by these every few seconds.
            models.Index(fields=["advisor", "stage"], name="candidate_advisor_stage_idx"),
            # Possible duplicates: same reading and birth date (selectors_workspace).
            models.Index(
                fields=["family_name_kana", "given_name_kana", "birth_date"], name="candidate_dup_idx"
            ),
            models.Index(
                fields=["merged_into"],
                condition=Q(merged_into__isnull=False),
                name="candidate_merged_into_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.family_name} {self.given_name}"
