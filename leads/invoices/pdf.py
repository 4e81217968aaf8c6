"""The invoice and credit note as an A4 PDF in Japanese (ReportLab with Debian's IPA Gothic,
installed by the Makefile): a qualified invoice (適格請求書) shows the issuer and its
registration number, the date, the number, the line, the amount before tax per rate, the
rate, the tax and the total, the recipient, and (invoices) the due date; a credit note
(適格返還請求書, 返還インボイス) names the invoice it refunds.

Rendered from the issued row only, so the same invoice always gives the same document."""

import io
from functools import cache
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table

from leads.models import Invoice

FONT = "IPAGothic"
# Debian's fonts-ipafont-gothic (the Makefile's `fonts` target installs it).
FONT_PATHS = (
    Path("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"),
    Path("/usr/share/fonts/truetype/fonts-japanese-gothic.ttf"),
)
ROUNDING_JA = {"down": "切り捨て", "half_up": "四捨五入", "up": "切り上げ"}


class FontMissing(RuntimeError):
    pass


@cache
def _font() -> str:
    for path in FONT_PATHS:
        if path.exists():
            pdfmetrics.registerFont(TTFont(FONT, str(path)))
            return FONT
    raise FontMissing("IPA Gothic is not installed: run `make fonts` (Debian's fonts-ipafont-gothic).")


def _yen(amount: int) -> str:
    return f"¥{amount:,}"


def _day(day: object) -> str:
    return f"{day:%Y年%m月%d日}" if day else ""


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=font, fontSize=10, leading=15, wordWrap="CJK")
    return {
        "base": base,
        "title": ParagraphStyle("title", parent=base, fontSize=20, leading=28, alignment=1),
        "recipient": ParagraphStyle("recipient", parent=base, fontSize=14, leading=20),
        "right": ParagraphStyle("right", parent=base, alignment=2),
        "total": ParagraphStyle("total", parent=base, fontSize=15, leading=22),
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=12, textColor=colors.grey),
    }


def invoice_pdf(*, invoice: Invoice) -> bytes:
    """The document as PDF bytes (the credit note's invoice loaded: one query, or none with
    select_related)."""
    font = _font()
    s = _styles(font)
    credit = invoice.kind == Invoice.Kind.CREDIT_NOTE

    def cell(text: str, style: str = "base") -> Paragraph:
        return Paragraph(text, s[style])

    title = "返還インボイス（適格返還請求書）" if credit else "請求書（適格請求書）"
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"{title} {invoice.number}",
        author=invoice.issuer_name,
    )
    meta = [
        [cell("番号"), cell(invoice.number)],
        [cell("発行日"), cell(_day(invoice.issued_on))],
    ]
    if credit and invoice.credited_invoice is not None:
        meta.append([cell("対象の請求書"), cell(invoice.credited_invoice.number)])
    head = Table(
        [
            [
                cell(f"{invoice.recipient_name}　御中", "recipient"),
                Table(meta, colWidths=(28 * mm, 45 * mm), style=[("ALIGN", (0, 0), (-1, -1), "LEFT")]),
            ]
        ],
        colWidths=(97 * mm, 73 * mm),
        style=[("VALIGN", (0, 0), (-1, -1), "TOP")],
    )
    issuer = [
        cell(invoice.issuer_name, "right"),
        cell(f"登録番号：{invoice.registration_number}", "right"),
    ]
    lead = "下記のとおり返還いたします。" if credit else "下記のとおりご請求申し上げます。"
    amount_label = "返還金額（税込）" if credit else "ご請求金額（税込）"
    summary_rows = [[cell(amount_label, "total"), cell(_yen(invoice.total_jpy), "total")]]
    if not credit:
        summary_rows.append([cell("お支払期日"), cell(_day(invoice.due_on))])
    summary = Table(
        summary_rows,
        colWidths=(50 * mm, 60 * mm),
        hAlign="LEFT",
        style=[
            ("LINEBELOW", (0, 0), (-1, 0), 1.2, colors.black),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
        ],
    )
    rate = f"{invoice.tax_rate_percent}%"
    lines = Table(
        [
            [
                cell("品目"),
                cell("税率"),
                cell("金額（税抜）", "right"),
            ],
            [
                cell(invoice.description),
                cell(rate),
                cell(_yen(invoice.amount_jpy), "right"),
            ],
        ],
        colWidths=(115 * mm, 20 * mm, 35 * mm),
        style=[
            ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ],
    )
    totals = Table(
        [
            [
                cell(f"{rate}対象 小計（税抜）"),
                cell(_yen(invoice.amount_jpy), "right"),
            ],
            [cell(f"消費税（{rate}）"), cell(_yen(invoice.tax_jpy), "right")],
            [cell("合計（税込）"), cell(_yen(invoice.total_jpy), "right")],
        ],
        colWidths=(55 * mm, 35 * mm),
        hAlign="RIGHT",
        style=[
            ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
            ("BACKGROUND", (0, 2), (-1, 2), colors.HexColor("#eeeeee")),
        ],
    )
    note = (
        f"消費税は{'返還インボイス' if credit else '請求書'}ごと・税率ごとに1回、"
        f"1円未満を{ROUNDING_JA[invoice.tax_rounding]}で計算しています。"
    )
    if credit:
        note += "ご入社者の早期退職により、返金規定に基づき上記請求書の手数料の一部を返還いたします。"
    else:
        note += "お振込手数料は貴社にてご負担ください。"
    story = [
        cell(title, "title"),
        Spacer(1, 8 * mm),
        head,
        Spacer(1, 4 * mm),
        *issuer,
        Spacer(1, 6 * mm),
        cell(lead),
        Spacer(1, 3 * mm),
        summary,
        Spacer(1, 8 * mm),
        lines,
        Spacer(1, 4 * mm),
        totals,
        Spacer(1, 10 * mm),
        cell(note, "small"),
    ]
    doc.build(story)
    return out.getvalue()
