from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email
from django.db import IntegrityError

from accounts.models import User
from consultations.services import advisor_onboard


class Command(BaseCommand):
    help = "Create a staff user in the Advisors group with the default weekly availability."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--name", required=True, help="Display name shown to candidates.")
        parser.add_argument("--password", help="Without it the password is unusable until reset.")

    def handle(self, *args: Any, email: str, name: str, password: str | None, **options: Any) -> None:
        email = email.strip().lower()
        try:
            validate_email(email)
        except ValidationError as exc:
            raise CommandError(f"{email!r} is not a valid email address.") from exc
        if not name.strip():
            raise CommandError("--name must not be empty.")
        if User.objects.filter(email__iexact=email).exists():
            raise CommandError(f"A staff user with email {email} already exists.")
        try:
            advisor = advisor_onboard(email=email, display_name=name.strip(), password=password)
        except IntegrityError as exc:  # created by someone else since the check above
            raise CommandError(f"A staff user with email {email} already exists.") from exc
        windows = advisor.weekly_availability.count()
        self.stdout.write(f"Created advisor {advisor.email} (id {advisor.pk}) with {windows} weekly windows.")
