import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import TimestampedModel
from core.prefectures import PREFECTURE_CODES
from leads.normalize import Occupation


class Partner(TimestampedModel):
    """A partner site (提携メディア) that sends leads through the API."""

    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)
    rate_limit_per_minute = models.PositiveIntegerField(
        _("rate limit (requests per minute)"), default=120, help_text=_("0 means unlimited.")
    )
    signing_secret = models.CharField(
        _("signing secret"),
        max_length=128,
        blank=True,
        help_text=_("When set, every request must carry a valid X-Signature header."),
    )

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class ApiKey(models.Model):
    """A partner's API key. Only a SHA-256 hash is stored (keys are 256-bit random, so a
    fast hash is enough); the prefix is kept in clear so people can tell keys apart."""

    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, related_name="api_keys", verbose_name=_("partner")
    )
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.prefix}…"


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
    email = models.EmailField(_("email"), null=True, blank=True, unique=True)
    phone = models.CharField(_("phone (E.164)"), max_length=16, null=True, blank=True, unique=True)
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

    class Meta:
        verbose_name = _("candidate")
        verbose_name_plural = _("candidates")
        constraints = [
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
        ]

    def __str__(self) -> str:
        return f"{self.family_name} {self.given_name}"


class Lead(models.Model):
    """One sign-up from one source (a partner, or direct when partner is null) at one time,
    with its consent record and the payload as received."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partner = models.ForeignKey(
        Partner,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="leads",
        verbose_name=_("partner"),
    )
    candidate = models.ForeignKey(
        Candidate, on_delete=models.CASCADE, related_name="leads", verbose_name=_("candidate")
    )
    external_id = models.CharField(_("external id"), max_length=100, null=True, blank=True)  # noqa: DJ001
    existing_candidate = models.BooleanField(_("existing candidate"), default=False)
    family_name = models.CharField(_("family name"), max_length=50)
    given_name = models.CharField(_("given name"), max_length=50)
    family_name_kana = models.CharField(_("family name (kana)"), max_length=100, blank=True)
    given_name_kana = models.CharField(_("given name (kana)"), max_length=100, blank=True)
    email = models.EmailField(_("email"), null=True, blank=True)  # noqa: DJ001 - as sent: absent is NULL
    phone = models.CharField(_("phone (E.164)"), max_length=16, null=True, blank=True)  # noqa: DJ001
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    prefecture = models.CharField(_("prefecture"), max_length=2, blank=True)
    current_occupation = models.CharField(_("current occupation"), max_length=20, blank=True)
    desired_roles = models.JSONField(_("desired roles"), default=list, blank=True)
    certifications = models.JSONField(_("certifications"), default=list, blank=True)
    message = models.TextField(_("message"), max_length=2000, blank=True)
    consent_policy_version = models.CharField(_("privacy policy version"), max_length=50)
    consent_agreed_at = models.DateTimeField(_("consent agreed at"))
    consent_third_party_provision = models.BooleanField(_("third-party provision consented"))
    source_url = models.CharField(_("source URL"), max_length=500, blank=True)
    utm_source = models.CharField("utm_source", max_length=500, blank=True)
    utm_medium = models.CharField("utm_medium", max_length=500, blank=True)
    utm_campaign = models.CharField("utm_campaign", max_length=500, blank=True)
    raw_payload = models.JSONField(_("payload as received"), default=dict)
    created_at = models.DateTimeField(_("received at"), db_index=True)

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "external_id"],
                condition=Q(external_id__isnull=False),
                name="lead_external_id_unique_per_partner",
            ),
            # A partner may only pass on data with the person's consent to third-party provision.
            models.CheckConstraint(
                condition=Q(partner__isnull=True) | Q(consent_third_party_provision=True),
                name="lead_partner_requires_provision_consent",
            ),
            models.CheckConstraint(
                condition=Q(email__isnull=False) | Q(phone__isnull=False), name="lead_has_a_contact"
            ),
        ]
        indexes = [
            # The partner read API lists a partner's leads newest first.
            models.Index(fields=["partner", "-created_at"], name="lead_partner_created_idx"),
        ]

    def __str__(self) -> str:
        return str(self.id)


class TimelineEvent(models.Model):
    """One entry of a candidate's history written by the system or an advisor: stage
    changes, calls, notes, messages. Leads (and later consultations and applications) are
    read from their own tables and merged in when the timeline is shown."""

    class Kind(models.TextChoices):
        STAGE_CHANGED = "stage_changed", _("Stage changed")
        CLOSED = "closed", _("Closed")
        REOPENED = "reopened", _("Reopened")
        CALL = "call", _("Call")
        NOTE = "note", _("Note")
        MESSAGE = "message", _("Message sent")
        ASSIGNED = "assigned", _("Advisor assigned")
        TASK_DONE = "task_done", _("Follow-up done")
        MERGED = "merged", _("Merged")

    candidate = models.ForeignKey(
        Candidate, on_delete=models.CASCADE, related_name="timeline", verbose_name=_("candidate")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
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
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")
        indexes = [
            # The candidate page reads one candidate's history newest first.
            models.Index(fields=["candidate", "-occurred_at"], name="timeline_candidate_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d %H:%M}"


class WorkHistoryEntry(models.Model):
    """One current or past job of a candidate, usually on the floor (factory, shop, care)."""

    candidate = models.ForeignKey(
        Candidate, on_delete=models.CASCADE, related_name="work_history", verbose_name=_("candidate")
    )
    occupation = models.CharField(_("kind of workplace"), max_length=20, choices=Occupation.choices)
    employer_name = models.CharField(_("employer"), max_length=200, blank=True)
    job_title = models.CharField(_("role"), max_length=100, blank=True)
    years = models.PositiveSmallIntegerField(_("years"), default=0)
    months = models.PositiveSmallIntegerField(_("months"), default=0)
    is_current = models.BooleanField(_("current job"), default=False)
    description = models.TextField(_("what the work was"), blank=True)

    class Meta:
        verbose_name = _("work history entry")
        verbose_name_plural = _("work history")
        ordering = ("-is_current", "id")
        constraints = [
            models.CheckConstraint(condition=Q(months__lte=11), name="work_history_months_0_11"),
        ]

    def __str__(self) -> str:
        return f"{self.get_occupation_display()} {self.job_title}".strip()


class CandidateCertification(models.Model):
    """A certification a candidate holds, is studying for, or has an exam booked for. The
    raw `Candidate.certifications` list (codes as the partner sent them) stays as received."""

    class Status(models.TextChoices):
        HELD = "held", _("Already held")  # not "Held": that msgid is a held consultation
        STUDYING = "studying", _("Studying")
        EXAM_BOOKED = "exam_booked", _("Exam booked")

    candidate = models.ForeignKey(
        Candidate, on_delete=models.CASCADE, related_name="certification_records", verbose_name=_("candidate")
    )
    certification = models.ForeignKey(
        "roles.Certification", on_delete=models.PROTECT, related_name="+", verbose_name=_("certification")
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    exam_date = models.DateField(_("exam date"), null=True, blank=True)

    class Meta:
        verbose_name = _("candidate certification")
        verbose_name_plural = _("certifications")
        ordering = ("certification__sort_order", "id")
        constraints = [
            models.UniqueConstraint(
                fields=["candidate", "certification"], name="candidate_certification_once"
            ),
            # The exam date belongs to a booked exam, and a booked exam has one.
            models.CheckConstraint(
                condition=Q(status="exam_booked", exam_date__isnull=False)
                | (~Q(status="exam_booked") & Q(exam_date__isnull=True)),
                name="candidate_certification_exam_date_iff_booked",
                violation_error_message=_("Give an exam date exactly when the exam is booked."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.certification} ({self.get_status_display()})"


class FollowUpTask(models.Model):
    """Something an advisor must do for a candidate by a time: call back, send postings.
    Written by services.followups only; the reminders will create them automatically."""

    class Source(models.TextChoices):
        MANUAL = "manual", _("Added by an advisor")
        CONTACT_SLA = "contact_sla", _("Lead not contacted in time")
        POST_CONSULTATION = "post_consultation", _("After a consultation")
        NO_SHOW = "no_show", _("No-show")
        QUIET_CANDIDATE = "quiet_candidate", _("Quiet candidate")
        MERGE = "merge", _("Duplicate merged")

    candidate = models.ForeignKey(
        Candidate, on_delete=models.CASCADE, related_name="followup_tasks", verbose_name=_("candidate")
    )
    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="followup_tasks",
        verbose_name=_("advisor"),
    )
    title = models.CharField(_("title"), max_length=200)
    due_at = models.DateTimeField(_("due at"))
    snoozed_until = models.DateTimeField(
        _("snoozed until"), null=True, blank=True, help_text=_("Hidden from the day's list until then.")
    )
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, default=Source.MANUAL)
    # Automatic creators pass a key (e.g. "contact_sla:<lead id>") so that running twice
    # creates one task; advisors' tasks have none.
    key = models.CharField(_("key"), max_length=200, null=True, blank=True, editable=False)  # noqa: DJ001
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
        help_text=_("Empty when the system created it."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("follow-up task")
        verbose_name_plural = _("follow-up tasks")
        constraints = [
            models.UniqueConstraint(
                fields=["key"], condition=Q(key__isnull=False), name="followup_key_unique"
            ),
            models.CheckConstraint(
                condition=Q(snoozed_until__isnull=True) | Q(snoozed_until__gt=models.F("due_at")),
                name="followup_snooze_after_due",
            ),
        ]
        indexes = [
            # "My day" and the overdue filter read one advisor's open tasks by time; done
            # tasks (most of them, over time) stay out of the index.
            models.Index(
                fields=["advisor", "due_at"], name="followup_open_due_idx", condition=Q(done_at__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return self.title


# For drf-spectacular's ENUM_NAME_OVERRIDES, which needs a module-level path.
PARTNER_STATUS_CHOICES = Candidate.PartnerStatus.choices
