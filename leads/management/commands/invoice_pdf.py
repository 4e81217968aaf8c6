"""`python manage.py invoice_pdf NUMBER [-o FILE]`: an issued invoice or credit note as the
same PDF the admin downloads (to FILE, or NUMBER.pdf in the current folder)."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from leads.invoices.pdf import invoice_pdf
from leads.invoices.selectors import invoice_by_number


class Command(BaseCommand):
    help = "Write an issued invoice or credit note (by its number) as a PDF."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("number", help="e.g. INV-2027-000001 or CN-2027-000001")
        parser.add_argument("-o", "--output", help="the file to write (default: NUMBER.pdf)")

    def handle(self, *args: Any, **options: Any) -> None:
        invoice = invoice_by_number(number=options["number"])
        if invoice is None:
            raise CommandError(f"No invoice or credit note numbered {options['number']!r}.")
        path = Path(options["output"] or f"{invoice.number}.pdf")
        path.write_bytes(invoice_pdf(invoice=invoice))
        self.stdout.write(f"{invoice.number}: {path}")
