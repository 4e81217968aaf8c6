"""A statement as CSV for Excel (UTF-8 with a BOM, CRLF): one row per line, then the
subtotal, the tax and the total. What the partner API and the admin download."""

from collections.abc import Iterable
from typing import Any

from core.csv_stream import csv_stream
from leads.models import PartnerStatement
from leads.payouts.selectors import LINE_FIELDS

CSV_HEADER = ["line", *LINE_FIELDS[1:]]


def statement_csv(*, statement: PartnerStatement, lines: Iterable[dict[str, Any]]) -> str:
    """`lines`: leads.payouts.selectors.statement_line_rows."""
    rows = [["" if line[name] is None else str(line[name]) for name in LINE_FIELDS] for line in lines]
    blank = [""] * 5
    totals = [
        ["subtotal_jpy", *blank, str(statement.subtotal_jpy), "", ""],
        ["tax_jpy", *blank, str(statement.tax_jpy), "", ""],
        ["total_jpy", *blank, str(statement.total_jpy), "", ""],
    ]
    return "".join(csv_stream([CSV_HEADER, *rows, *totals]))


def statement_csv_filename(statement: PartnerStatement) -> str:
    return f"{statement.number}.csv"
