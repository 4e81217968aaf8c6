from typing import Any

from django.core.management.base import BaseCommand

from demo.services import demo_seed


class Command(BaseCommand):
    help = "Load demo data (idempotent: a second run adds nothing)."

    def handle(self, *args: Any, **options: Any) -> None:
        report = demo_seed()
        self.stdout.write(f"seed_demo: {report}")
