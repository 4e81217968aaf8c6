from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError

from leads.models import Partner
from leads.partners.keys import api_key_issue, api_key_rotate, partner_create


class Command(BaseCommand):
    help = (
        "Create an active partner and print a new API key alone on the last line of stdout. "
        "With --rotate on an existing SLUG: issue a new key and revoke the old ones."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--name", help="Display name (required when creating).")
        parser.add_argument(
            "--rate-limit", type=int, dest="rate_limit", help="Requests per minute; 0: unlimited."
        )
        parser.add_argument("--rotate", action="store_true", help="Rotate the key of an existing partner.")

    def handle(
        self, *args: Any, slug: str, name: str | None, rate_limit: int | None, rotate: bool, **options: Any
    ) -> None:
        if rate_limit is not None and rate_limit < 0:
            raise CommandError("--rate-limit must be 0 (unlimited) or more.")
        if rotate:
            partner = Partner.objects.filter(slug=slug).first()
            if partner is None:
                raise CommandError(f"No partner with slug {slug!r}.")
            _, raw_key = api_key_rotate(
                partner=partner, name=name.strip() if name else None, rate_limit_per_minute=rate_limit
            )
            self.stdout.write(f"Rotated the API key of {partner.slug}; the previous keys are revoked.")
            self.stdout.write(raw_key)
            return
        if not name or not name.strip():
            raise CommandError("--name is required to create a partner.")
        if Partner.objects.filter(slug=slug).exists():
            raise CommandError(f"Partner {slug!r} already exists (use --rotate for a new key).")
        try:
            partner = partner_create(slug=slug, name=name.strip(), rate_limit_per_minute=rate_limit)
        except ValidationError as exc:  # full_clean: a bad slug, or one taken meanwhile
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc
        except IntegrityError as exc:
            raise CommandError(f"Partner {slug!r} already exists (use --rotate for a new key).") from exc
        _, raw_key = api_key_issue(partner=partner)
        limit = "unlimited" if partner.rate_limit_per_minute == 0 else f"{partner.rate_limit_per_minute}/min"
        self.stdout.write(f"Created partner {partner.slug} ({partner.name}), rate limit {limit}. API key:")
        self.stdout.write(raw_key)
