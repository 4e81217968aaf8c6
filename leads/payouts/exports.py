"""A statement as CSV for Excel (UTF-8 with a BOM, CRLF): one row per line, then the
subtotal, the tax and the total. What the partner API and the admin download."""

from collections.abc import Iterable

from django.utils import timezone

from core.csv_stream import csv_stream
from leads.models import PartnerStatement, PayoutLine

CSV_HEADER = ["line", "kind", "event", "lead_id", "external_id", "date", "amount_jpy", "adjusts", "reason"]


def statement_csv(*, statement: PartnerStatement, lines: Iterable[PayoutLine]) -> str:
    rows = [
        [
            str(line.pk), line.kind, line.event, str(line.lead.id), line.lead.external_id or "",
            timezone.localdate(line.occurred_at).isoformat(), str(line.amount_jpy),
            "" if line.adjusts_id is None else str(line.adjusts_id), line.reason,
        ]
        for line in lines
    ]  # fmt: skip
    blank = [""] * 5
    totals = [
        ["subtotal_jpy", *blank, str(statement.subtotal_jpy), "", ""],
        ["tax_jpy", *blank, str(statement.tax_jpy), "", ""],
        ["total_jpy", *blank, str(statement.total_jpy), "", ""],
    ]
    return "".join(csv_stream([CSV_HEADER, *rows, *totals]))


def statement_csv_filename(statement: PartnerStatement) -> str:
    return f"{statement.number}.csv"
