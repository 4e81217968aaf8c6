"""Partner payouts (CONTRACT section 8): effective-dated rules, the payable lines recorded
when their event happens, and the monthly statements that gather them.

Written by leads.payouts only. A line belongs to no statement until its month is issued;
from then on it never changes, and neither does the statement but for its paid date: a
trigger refuses it on PostgreSQL and SQLite alike (migration leads 0030). A clawback or a
correction is a new line (on the next statement) pointing to the line it adjusts.
"""

from django.conf import settings
from django.db import IntegrityError, models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from leads.models.leads import Lead
from leads.models.partners import Partner


class PayoutEvent(models.TextChoices):
    LEAD_ACCEPTED = "lead_accepted", _("Lead accepted")
    CONSULTATION_HELD = "consultation_held", _("Consultation held")
    PLACEMENT = "placement", _("Placement")


class PayoutRule(models.Model):
    """What a partner is paid for one event, before tax, from a JST date on. A change is a
    new rule with a later date; the rule in force on the event's JST date applies."""

    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, related_name="payout_rules", verbose_name=_("partner")
    )
    event = models.CharField(_("event"), max_length=20, choices=PayoutEvent.choices)
    amount_jpy = models.PositiveIntegerField(_("amount before tax (JPY)"))
    effective_from = models.DateField(_("effective from (JST)"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("payout rule")
        verbose_name_plural = _("payout rules")
        ordering = ("partner", "event", "-effective_from")
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "event", "effective_from"], name="payout_rule_one_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.partner} {self.get_event_display()} ¥{self.amount_jpy:,} ({self.effective_from})"


class PayoutLineQuerySet(models.QuerySet["PayoutLine"]):
    def delete(self) -> tuple[int, dict[str, int]]:
        if self.filter(statement__isnull=False).exists():
            raise IntegrityError(ISSUED_LINE)
        return super().delete()


ISSUED_LINE = "a line of an issued statement cannot be changed"
ISSUED_STATEMENT = "an issued statement cannot be changed"


class PayoutLine(models.Model):
    """One payable amount: an event as it happened (`event` kind), or a clawback or
    correction of an earlier line (negative, usually)."""

    class Kind(models.TextChoices):
        EVENT = "event", _("Event")
        CLAWBACK = "clawback", _("Clawback")
        CORRECTION = "correction", _("Correction")

    class Reason(models.TextChoices):
        NONE = "", _("—")
        MERGED = "merged", _("Merged into a candidate known before")
        INVALID = "invalid", _("Erased as invalid within 30 days")
        MANUAL = "manual", _("Corrected by the staff")

    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="payout_lines", verbose_name=_("partner")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.EVENT)
    event = models.CharField(_("event"), max_length=20, choices=PayoutEvent.choices)
    lead = models.ForeignKey(
        Lead, on_delete=models.PROTECT, related_name="payout_lines", verbose_name=_("lead")
    )
    occurred_at = models.DateTimeField(_("occurred at"))
    amount_jpy = models.IntegerField(_("amount before tax (JPY)"))
    rule = models.ForeignKey(
        PayoutRule,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lines",
        verbose_name=_("rule applied"),
    )
    adjusts = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="adjustments",
        verbose_name=_("line adjusted"),
    )
    reason = models.CharField(_("reason"), max_length=10, choices=Reason.choices, blank=True, default="")
    statement = models.ForeignKey(
        "PartnerStatement",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lines",
        verbose_name=_("statement"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = PayoutLineQuerySet.as_manager()

    class Meta:
        verbose_name = _("payout line")
        verbose_name_plural = _("payout lines")
        ordering = ("occurred_at", "pk")
        constraints = [
            # One payable event per lead and event type: recording twice adds nothing.
            models.UniqueConstraint(
                fields=["lead", "event"], condition=Q(kind="event"), name="payout_line_one_event_per_lead"
            ),
            # A line is clawed back once.
            models.UniqueConstraint(
                fields=["adjusts"], condition=Q(kind="clawback"), name="payout_line_one_clawback"
            ),
            models.CheckConstraint(
                condition=Q(kind="event", adjusts__isnull=True, amount_jpy__gt=0)
                | Q(~Q(kind="event"), adjusts__isnull=False),
                name="payout_line_adjustment_points_to_a_line",
            ),
        ]
        indexes = [
            # Issuing reads a partner's lines not on a statement yet, up to the month's end.
            models.Index(
                fields=["partner", "occurred_at"],
                name="payout_line_unissued_idx",
                condition=Q(statement__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.get_event_display()} ¥{self.amount_jpy:,}"

    def delete(self, using: str | None = None, keep_parents: bool = False) -> tuple[int, dict[str, int]]:
        if self.statement_id is not None:
            raise IntegrityError(ISSUED_LINE)
        return super().delete(using=using, keep_parents=keep_parents)


class PartnerStatementQuerySet(models.QuerySet["PartnerStatement"]):
    def delete(self) -> tuple[int, dict[str, int]]:
        raise IntegrityError(ISSUED_STATEMENT)


class PartnerStatement(models.Model):
    """A partner's issued statement for one JST month: the sum of its lines, tax computed
    once on that sum and rounded down. Numbered PS-YYYY-NNNNNN, without gaps per year."""

    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="statements", verbose_name=_("partner")
    )
    month = models.DateField(_("month"), help_text=_("The first day of the JST month."))
    number = models.CharField(_("number"), max_length=20, unique=True)
    year = models.PositiveSmallIntegerField(_("year"))
    sequence = models.PositiveIntegerField(_("sequence"))
    subtotal_jpy = models.IntegerField(_("subtotal before tax (JPY)"))
    tax_rate_percent = models.PositiveSmallIntegerField(_("tax rate (%)"))
    tax_jpy = models.IntegerField(_("consumption tax (JPY)"))
    total_jpy = models.IntegerField(_("total (JPY)"))
    line_count = models.PositiveIntegerField(_("lines"))
    issued_at = models.DateTimeField(_("issued at"))
    paid_on = models.DateField(_("paid on"), null=True, blank=True)

    objects = PartnerStatementQuerySet.as_manager()

    class Meta:
        verbose_name = _("partner statement")
        verbose_name_plural = _("partner statements")
        ordering = ("-month", "number")
        permissions = [("mark_paid_partnerstatement", "Can record a partner statement as paid")]
        constraints = [
            models.UniqueConstraint(fields=["partner", "month"], name="statement_one_per_partner_month"),
            models.UniqueConstraint(fields=["year", "sequence"], name="statement_sequence_unique"),
            models.CheckConstraint(
                condition=Q(total_jpy=F("subtotal_jpy") + F("tax_jpy")), name="statement_total_adds_up"
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def delete(self, using: str | None = None, keep_parents: bool = False) -> tuple[int, dict[str, int]]:
        raise IntegrityError(ISSUED_STATEMENT)
