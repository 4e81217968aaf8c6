"""Reads of partner statements: a partner's own only."""

from django.db.models import QuerySet

from leads.models import Partner, PartnerStatement, PayoutLine


def statements_for_partner(*, partner: Partner) -> QuerySet[PartnerStatement]:
    return PartnerStatement.objects.filter(partner=partner)


def statement_for_partner(*, partner: Partner, number: str) -> PartnerStatement | None:
    return PartnerStatement.objects.filter(partner=partner, number=number).first()


def statement_lines(*, statement: PartnerStatement) -> QuerySet[PayoutLine]:
    """Its lines in the order they happened, with what a partner may see of their lead."""
    return (
        PayoutLine.objects.filter(statement=statement)
        .select_related("lead")
        .only(
            "pk", "kind", "event", "occurred_at", "amount_jpy", "adjusts_id", "reason",
            "lead__id", "lead__external_id",
        )
        .order_by("occurred_at", "pk")
    )  # fmt: skip
