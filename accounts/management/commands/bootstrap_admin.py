import secrets
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from accounts.models import User


class Command(BaseCommand):
    help = (
        "Create the first superuser with a random password and print it once. "
        "Does nothing when a superuser already exists."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", default="admin@localhost")

    def handle(self, *args: Any, email: str, **options: Any) -> None:
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write("An admin login already exists (its password was printed when it was created;")
            self.stdout.write("reset it with: .venv/bin/python manage.py changepassword <email>).")
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(email=email, password=password, display_name="Admin")
        self.stdout.write(self.style.SUCCESS("Admin login created. It is shown only this once:"))
        self.stdout.write(
            f"  URL:      http://127.0.0.1:8000/admin/\n  email:    {email}\n  password: {password}"
        )
