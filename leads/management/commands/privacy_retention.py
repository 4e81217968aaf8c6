from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.business_time import BUSINESS_TZ
from leads.audit import Channel
from leads.privacy.retention import retention_anonymise, retention_cutoff, retention_report


class Command(BaseCommand):
    help = (
        "Anonymise the candidates closed, or never reached, for longer than RETENTION_PERIOD, "
        "as the daily task does. Prints ids and counts only. --dry-run lists who would be "
        "anonymised and changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="List who is due; change nothing.")
        parser.add_argument(
            "--as-of",
            dest="as_of",
            help="ISO 8601 datetime with offset (default: now), e.g. 2029-12-01T00:00:00+09:00",
        )
        parser.add_argument("--batch-size", type=int, default=100, help="Progress line every N candidates.")

    def handle(self, *args: Any, dry_run: bool, as_of: str | None, batch_size: int, **options: Any) -> None:
        moment = self._instant(as_of)
        cutoff = timezone.localtime(retention_cutoff(as_of=moment), BUSINESS_TZ)
        self.stdout.write(
            f"as of {timezone.localtime(moment, BUSINESS_TZ).isoformat()}: "
            f"RETENTION_PERIOD={settings.RETENTION_PERIOD.days}d, cutoff {cutoff.isoformat()}"
        )
        if dry_run:
            due = retention_report(as_of=moment)
            for row in due:
                self.stdout.write(
                    f"{row.id} {row.why} since {timezone.localtime(row.since, BUSINESS_TZ).date()}"
                )
            closed = sum(1 for row in due if row.why == "closed")
            self.stdout.write(
                f"would anonymise {len(due)} (closed={closed} never_reached={len(due) - closed}); "
                "dry run, nothing changed"
            )
            return
        result = retention_anonymise(
            as_of=moment, channel=Channel.COMMAND, batch_size=max(batch_size, 1), progress=self.stdout.write
        )
        self.stdout.write(f"anonymised={result.anonymised} skipped={result.skipped}")

    @staticmethod
    def _instant(as_of: str | None) -> datetime:
        if not as_of:
            return timezone.now()
        moment = parse_datetime(as_of)
        if moment is None:
            raise CommandError(f"--as-of {as_of!r} is not an ISO 8601 datetime.")
        if timezone.is_naive(moment):
            raise CommandError(f"--as-of {as_of!r} needs an offset, e.g. +09:00.")
        return moment
