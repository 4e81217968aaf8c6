"""Reads of partner statements (a partner's own only) and of what partners cost."""

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from leads.models import Candidate, Partner, PartnerStatement, PayoutLine


def statements_for_partner(*, partner: Partner) -> QuerySet[PartnerStatement]:
    return PartnerStatement.objects.filter(partner=partner)


def statement_for_partner(*, partner: Partner, number: str) -> PartnerStatement | None:
    return PartnerStatement.objects.filter(partner=partner, number=number).first()


# What a partner reads of a line (the API and the CSV): plain rows, no model instances, since
# a statement may have thousands (bench.payouts: 5,000 lines under 300 ms).
LINE_FIELDS = ("id", "kind", "event", "lead_id", "external_id", "date", "amount_jpy", "adjusts", "reason")


def statement_line_rows(*, statement: PartnerStatement) -> list[dict[str, Any]]:
    """Its lines in the order they happened, as the partner sees them: the lead by id and
    external_id, the JST date."""
    rows = (
        PayoutLine.objects.filter(statement=statement)
        .order_by("occurred_at", "pk")
        .annotate(
            day=TruncDate("occurred_at", tzinfo=timezone.get_default_timezone()),
            external_id=F("lead__external_id"),
        )
        .values_list(
            "pk", "kind", "event", "lead_id", "external_id", "day", "amount_jpy", "adjusts_id", "reason"
        )
    )
    return [
        {
            "id": pk, "kind": kind, "event": event, "lead_id": str(lead_id), "external_id": external_id,
            "date": day.isoformat(), "amount_jpy": amount, "adjusts": adjusts, "reason": reason,
        }
        for pk, kind, event, lead_id, external_id, day, amount, adjusts, reason in rows
    ]  # fmt: skip


@dataclass(frozen=True)
class PartnerRoi:
    """What a partner cost (its payout lines, issued or not, clawbacks included) against its
    funnel (candidates it is credited with, and how far they got)."""

    partner_id: int
    name: str
    paid_jpy: int
    credited: int
    held: int
    placed: int

    @staticmethod
    def _per(paid: int, count: int) -> int | None:
        return paid // count if count else None

    @property
    def per_credited_lead(self) -> int | None:
        return self._per(self.paid_jpy, self.credited)

    @property
    def per_consultation_held(self) -> int | None:
        return self._per(self.paid_jpy, self.held)

    @property
    def per_placement(self) -> int | None:
        return self._per(self.paid_jpy, self.placed)


# The stages at or after a held consultation (a closed candidate keeps the last one reached).
HELD_OR_LATER = [
    Candidate.Stage.CONSULTED,
    Candidate.Stage.DOCUMENTS,
    Candidate.Stage.APPLYING,
    Candidate.Stage.INTERVIEWING,
    Candidate.Stage.OFFERED,
    Candidate.Stage.PLACED,
]


def partner_roi(*, limit: int) -> list[PartnerRoi]:
    """The partners that cost the most, most first: two aggregate queries."""
    paid = dict(
        PayoutLine.objects.values("partner_id")
        .annotate(total=Sum("amount_jpy"))
        .values_list("partner_id", "total")
    )
    funnels = {
        row["credited_lead__partner_id"]: row
        for row in Candidate.objects.filter(credited_lead__partner__isnull=False, merged_into__isnull=True)
        .values("credited_lead__partner_id", "credited_lead__partner__name")
        .annotate(
            credited=Count("pk"),
            held=Count("pk", filter=Q(stage__in=HELD_OR_LATER)),
            placed=Count("pk", filter=Q(stage=Candidate.Stage.PLACED)),
        )
    }
    rows = [
        PartnerRoi(
            partner_id=partner_id,
            name=funnel["credited_lead__partner__name"],
            paid_jpy=int(paid.get(partner_id) or 0),
            credited=funnel["credited"],
            held=funnel["held"],
            placed=funnel["placed"],
        )
        for partner_id, funnel in funnels.items()
        if paid.get(partner_id)
    ]
    rows.sort(key=lambda row: (-row.paid_jpy, row.name))
    return rows[:limit]
