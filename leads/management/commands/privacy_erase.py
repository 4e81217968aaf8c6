from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from core.business_time import BUSINESS_TZ
from leads.audit import Channel
from leads.management.commands.privacy_export import add_person_arguments
from leads.models import Candidate
from leads.privacy.records import person_erase, person_find


class Command(BaseCommand):
    help = (
        "Erase a person's personal data for good (an APPI deletion request), keeping the "
        "anonymous rows that partners' counts and funnels need; pending messages are "
        "cancelled. Prints what was erased. Exit 1 if nobody is found."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_person_arguments(parser)
        parser.add_argument(
            "--requested-by",
            dest="requested_by",
            help=(
                "Whose request this is, how and when (kept in the erasure record), e.g. "
                "'本人からの請求 2026-11-20'. Default: 'request by the person, <today JST>'."
            ),
        )

    def handle(
        self, *args: Any, email: str | None, phone: str | None, requested_by: str | None, **options: Any
    ) -> None:
        requested_by = (requested_by or "").strip()
        if not requested_by:
            today = timezone.localdate(timezone=BUSINESS_TZ)
            requested_by = f"request by the person, {today.isoformat()}"
        candidate = person_find(email=email, phone=phone)
        if candidate is None:
            raise CommandError("Nobody with this email or phone is known.", returncode=1)
        record = person_erase(
            candidate=candidate, requested_by=requested_by, by=None, channel=Channel.COMMAND
        )
        self.stdout.write(f"Erased the personal data of candidate {record.candidate_id}.")
        for merged in Candidate.objects.filter(merged_into=record.candidate_id).values_list("pk", flat=True):
            self.stdout.write(f"Also erased candidate {merged}, a record of the same person merged into it.")
        for name, count in record.counts.items():
            self.stdout.write(f"{name}={count}")
