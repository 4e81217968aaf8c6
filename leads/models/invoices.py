"""Invoices to employers (適格請求書) and credit notes (返還インボイス) for placements.

Written by leads.invoices only. Once issued a row never changes but for its paid date: on
PostgreSQL and SQLite alike a trigger refuses any other update, on PostgreSQL every delete
too (migration leads 0018); the model refuses deleting everywhere. Corrections are a credit
note and a new invoice.
"""

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from leads.models.applications import Placement
from roles.models import Employer


class InvoiceCounter(models.Model):
    """The last number given in a series and year (invoices, credit notes, partner
    statements). Issuing locks the row (SELECT ... FOR
    UPDATE) and increments it in the invoice's own transaction: a rollback gives the number
    back (no gap) and two issuers wait for each other (no duplicate)."""

    series = models.CharField(_("series"), max_length=4)
    year = models.PositiveSmallIntegerField(_("year"))
    last = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("invoice counter")
        verbose_name_plural = _("invoice counters")
        constraints = [models.UniqueConstraint(fields=["series", "year"], name="invoice_counter_unique")]

    def __str__(self) -> str:
        return f"{self.series}-{self.year}: {self.last}"

    @classmethod
    def take(cls, *, series: str, year: int, count: int = 1) -> list[int]:
        """`count` consecutive sequence numbers of the series and year, to be used in the
        caller's transaction: the row is locked until it commits, and a rollback gives the
        numbers back. The row is created on first use (INSERT ... ON CONFLICT DO NOTHING),
        so two first issuers of a year do not collide either."""
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("numbers must be taken inside the issuing transaction")
        InvoiceCounter.objects.bulk_create([InvoiceCounter(series=series, year=year)], ignore_conflicts=True)
        counter = InvoiceCounter.objects.select_for_update().get(series=series, year=year)
        first = counter.last + 1
        counter.last += count
        counter.save(update_fields=["last"])
        return list(range(first, first + count))


IMMUTABLE = "an issued invoice cannot be changed"


class InvoiceQuerySet(models.QuerySet["Invoice"]):
    def delete(self) -> tuple[int, dict[str, int]]:
        raise IntegrityError(IMMUTABLE)


class Invoice(models.Model):
    class Kind(models.TextChoices):
        INVOICE = "invoice", _("Invoice")
        CREDIT_NOTE = "credit_note", _("Credit note")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.INVOICE)
    number = models.CharField(_("number"), max_length=20, unique=True)
    series = models.CharField(_("series"), max_length=4)
    year = models.PositiveSmallIntegerField(_("year"))
    sequence = models.PositiveIntegerField(_("sequence"))
    placement = models.ForeignKey(
        Placement, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("placement")
    )
    employer = models.ForeignKey(
        Employer, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("employer")
    )
    credited_invoice = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_note",
        verbose_name=_("invoice credited"),
    )
    # What the document says, copied when it is issued: a later change of the employer's
    # name or of the issuer's settings does not rewrite an issued invoice.
    recipient_name = models.CharField(_("recipient"), max_length=200)
    issuer_name = models.CharField(_("invoice issuer"), max_length=200)
    registration_number = models.CharField(_("registration number"), max_length=14)
    description = models.CharField(_("line"), max_length=300)
    issued_on = models.DateField(_("issued on"))
    due_on = models.DateField(_("due on"), null=True, blank=True)
    amount_jpy = models.PositiveIntegerField(_("amount before tax (JPY)"))
    tax_rate_percent = models.PositiveSmallIntegerField(_("tax rate (%)"))
    tax_jpy = models.PositiveIntegerField(_("consumption tax (JPY)"))
    tax_rounding = models.CharField(_("tax rounding"), max_length=8)  # INVOICE_TAX_ROUNDING when issued
    total_jpy = models.PositiveIntegerField(_("total (JPY)"))
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("issued by"),
        help_text=_("Empty when the system issued it."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ("-issued_on", "-number")
        permissions = [("mark_paid_invoice", "Can record an invoice as paid")]
        constraints = [
            models.UniqueConstraint(fields=["series", "year", "sequence"], name="invoice_sequence_unique"),
            # One invoice per placement (issuing twice, or two issuers at once, add nothing)
            # and one credit note per invoice.
            models.UniqueConstraint(
                fields=["placement"], condition=Q(kind="invoice"), name="invoice_one_per_placement"
            ),
            models.CheckConstraint(
                condition=Q(kind="invoice", credited_invoice__isnull=True, due_on__isnull=False)
                | Q(kind="credit_note", credited_invoice__isnull=False),
                name="invoice_credit_note_references_invoice",
            ),
            models.CheckConstraint(
                condition=Q(total_jpy=F("amount_jpy") + F("tax_jpy")), name="invoice_total_adds_up"
            ),
            models.CheckConstraint(
                condition=Q(paid_on__isnull=True) | Q(paid_on__gte=F("issued_on")),
                name="invoice_paid_after_issued",
            ),
        ]
        indexes = [
            # The dashboard and the daily overdue scan read unpaid invoices by due date.
            models.Index(fields=["due_on"], name="invoice_unpaid_due_idx", condition=Q(paid_on__isnull=True)),
            # The month's export and the fee ledger read by issue date.
            models.Index(fields=["issued_on"], name="invoice_issued_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    def delete(self, using: str | None = None, keep_parents: bool = False) -> tuple[int, dict[str, int]]:
        raise IntegrityError(IMMUTABLE)

    @property
    def total_yen(self) -> str:
        """The total as people read it: 1,188,000."""
        return f"{self.total_jpy:,}"
