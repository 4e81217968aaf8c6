import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from leads.audit import Action, Channel, audit_record
from leads.privacy.disclosure import person_export
from leads.privacy.records import person_find


def add_person_arguments(parser: CommandParser) -> None:
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--email", help="The person's email address, in any case.")
    who.add_argument("--phone", help="The person's phone number, in any usual form.")


class Command(BaseCommand):
    help = (
        "Print as JSON everything held about a person (an APPI disclosure request), found by "
        "email or phone. Exit 1 if nobody is found."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_person_arguments(parser)

    def handle(self, *args: Any, email: str | None, phone: str | None, **options: Any) -> None:
        candidate = person_find(email=email, phone=phone)
        if candidate is None:
            raise CommandError("Nobody with this email or phone is known.", returncode=1)
        exported = person_export(candidate=candidate)
        audit_record(
            candidate_id=candidate.pk,
            action=Action.EXPORT,
            by=None,
            channel=Channel.COMMAND,
            fields=sorted(exported),
        )
        self.stdout.write(json.dumps(exported, ensure_ascii=False, indent=2))
