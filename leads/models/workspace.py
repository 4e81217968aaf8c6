"""The advisors' workspace around a candidate: timeline, work history, certifications, follow-ups."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.normalize import Occupation
from leads.models.candidates import Candidate


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
        CHANNEL_CHANGED = "channel_changed", _("Contact channel changed")

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
        PLACEMENT_CHECK = "placement_check", _("Six-month placement follow-up")
        INVOICE_OVERDUE = "invoice_overdue", _("Invoice overdue")

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
