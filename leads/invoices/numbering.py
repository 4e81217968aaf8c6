"""Invoice numbers: sequential per series and year, with no gap and no duplicate.

`numbers_take` locks the year's counter row (SELECT ... FOR UPDATE) and moves it forward in
the caller's transaction, so a rollback gives the numbers back and a concurrent issuer waits
until this one commits. The row is created on first use with INSERT ... ON CONFLICT DO
NOTHING, so two first issuers of a year do not collide either.
"""

from leads.models import InvoiceCounter

INVOICE_SERIES = "INV"
CREDIT_NOTE_SERIES = "CN"


def invoice_number(*, series: str, year: int, sequence: int) -> str:
    return f"{series}-{year}-{sequence:06d}"


def numbers_take(*, series: str, year: int, count: int = 1) -> list[int]:
    """`count` consecutive sequence numbers of the series and year (to be used in the same
    transaction)."""
    return InvoiceCounter.take(series=series, year=year, count=count)
