"""Consumption tax on an invoice: once per invoice and rate (適格請求書: 税率ごとに1回の端数処理),
never per line, rounded to the yen as INVOICE_TAX_ROUNDING says (default: down)."""

from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_UP, Decimal

from django.conf import settings

# The standard rate; the reduced 8% (food, newspapers) never applies to placement fees.
STANDARD_RATE_PERCENT = 10

ROUNDINGS = {"down": ROUND_DOWN, "half_up": ROUND_HALF_UP, "up": ROUND_CEILING}


def tax_for(*, amount_jpy: int, rate_percent: int, rounding: str | None = None) -> int:
    mode = ROUNDINGS[rounding or settings.INVOICE_TAX_ROUNDING]
    tax = Decimal(amount_jpy) * rate_percent / Decimal(100)
    return int(tax.quantize(Decimal(1), rounding=mode))


def tax_by_rate(
    *, lines: Iterable[tuple[int, int]], rounding: str | None = None
) -> dict[int, tuple[int, int]]:
    """{rate: (amount before tax, tax)} for lines of (amount, rate): the amounts of a rate
    are added first, then taxed and rounded once."""
    totals: dict[int, int] = defaultdict(int)
    for amount, rate in lines:
        totals[rate] += amount
    return {
        rate: (amount, tax_for(amount_jpy=amount, rate_percent=rate, rounding=rounding))
        for rate, amount in sorted(totals.items())
    }
