"""`python manage.py issue_partner_statements [--month YYYY-MM]`: issue the partners'
statements of a JST month (default: the month before this one). Safe to run again: a
partner's statement of a month is issued once."""

from datetime import date, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from leads.models import PartnerStatement
from leads.payouts.services import previous_month, statements_issue


def _month(value: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m").date()  # noqa: DTZ007 - a calendar month, no instant
    except ValueError:
        raise CommandError(f"--month must be YYYY-MM, not {value!r}.") from None


class Command(BaseCommand):
    help = "Issue the partners' payout statements of a JST month (default: the previous month)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", help="YYYY-MM (JST); default: the month before this one")

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        month = _month(options["month"]) if options["month"] else previous_month(now)

        def progress(statement: PartnerStatement) -> None:
            self.stdout.write(
                f"{statement.number}  partner {statement.partner_id}  "
                f"{statement.line_count} lines  ¥{statement.total_jpy:,}"
            )

        try:
            result = statements_issue(month=month, now=now, progress=progress)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"{month:%Y-%m}: {len(result.issued)} statements issued, "
                f"{result.skipped} partners already issued or with nothing to pay."
            )
        )
