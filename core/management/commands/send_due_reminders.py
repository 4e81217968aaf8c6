from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.outbox_sweep import outbox_sweep


class Command(BaseCommand):
    help = (
        "Send every reminder due at an instant (default: now) exactly once; same code path as beat's sweep."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--as-of", dest="as_of", help="ISO 8601 datetime with offset, e.g. 2026-11-24T10:00:00+09:00"
        )

    def handle(self, *args: Any, as_of: str | None, **options: Any) -> None:
        now: datetime | None = None
        if as_of:
            now = parse_datetime(as_of)
            if now is None:
                raise CommandError(f"--as-of {as_of!r} is not an ISO 8601 datetime.")
            if timezone.is_naive(now):
                raise CommandError(f"--as-of {as_of!r} needs an offset, e.g. +09:00.")
        self.stdout.write(str(outbox_sweep(now=now)))
