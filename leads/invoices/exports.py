"""The month's invoices and credit notes for the accounting software, as journal entries in
弥生インポート形式 (Yayoi's import format for 仕訳, 25 columns, no header, Shift_JIS, CRLF):
the format Yayoi documents for importing journal entries from other products, which Yayoi
会計 reads as it is and which other Japanese accounting software also takes in as
"弥生会計形式". One row per document:

- invoice: 売掛金 (the employer as sub-account) / 売上高, tax-inclusive amount, with its tax;
- credit note (返還インボイス): 売上高 / 売掛金, the reverse, for the refund.

The tax columns carry the invoice's own tax (rounded once per invoice), so the software
does not recompute it line by line. Account and tax-category names are Yayoi's defaults
(README: an accountant may rename them in the software's matching list).
"""

import csv
import io
from datetime import date

from leads.models import Invoice

RECEIVABLE, SALES = "売掛金", "売上高"
TAXABLE_SALES_10, NOT_TAXABLE = "課税売上10%", "対象外"
ENCODING = "cp932"  # Shift_JIS as Windows writes it, what Yayoi reads


def month_range(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return first, following


def invoices_of_month(*, year: int, month: int) -> list[Invoice]:
    first, following = month_range(year, month)
    return list(
        Invoice.objects.filter(issued_on__gte=first, issued_on__lt=following)
        .select_related("credited_invoice")
        .order_by("issued_on", "series", "sequence")
    )


def _row(invoice: Invoice) -> list[str]:
    credit = invoice.kind == Invoice.Kind.CREDIT_NOTE
    total, tax = str(invoice.total_jpy), str(invoice.tax_jpy)
    receivable = [RECEIVABLE, invoice.recipient_name[:24], "", NOT_TAXABLE, total, "0"]
    sales = [SALES, "", "", TAXABLE_SALES_10, total, tax]
    debit, credit_side = (sales, receivable) if credit else (receivable, sales)
    what = f"返還 {invoice.number}（{invoice.credited_invoice}）" if credit else f"請求 {invoice.number}"
    return [
        "2000",  # 識別フラグ: a journal entry of one line
        "",  # 伝票No. (Yayoi numbers them)
        "",  # 決算: an ordinary entry
        f"{invoice.issued_on:%Y/%m/%d}",
        *debit,
        *credit_side,
        f"{what} {invoice.recipient_name}"[:64],  # 摘要
        invoice.number,  # 番号
        f"{invoice.due_on:%Y/%m/%d}" if invoice.due_on else "",  # 期日
        "0",  # タイプ: 仕訳データ
        "",  # 生成元
        "",  # 仕訳メモ
        "0",  # 付箋1
        "0",  # 付箋2
        "no",  # 調整
    ]


def invoices_journal_csv(*, invoices: list[Invoice]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(_row(invoice) for invoice in invoices)
    return out.getvalue().encode(ENCODING, errors="replace")
