"""CSV of third-party provision records: which partner provided whose data, when, which
items, on which consent (APPI: the receiving side's record of a provision)."""

import csv
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet
from django.utils import timezone

from leads.models import Lead

BOM = "\ufeff"  # Excel opens UTF-8 CSV correctly only with it
ITEM_FIELDS = (
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "email",
    "phone",
    "birth_date",
    "prefecture",
    "current_occupation",
    "desired_roles",
    "certifications",
    "message",
)
HEADER = (
    "received_at",
    "lead_id",
    "partner_slug",
    "partner_name",
    "person",
    "items_received",
    "privacy_policy_version",
    "consent_agreed_at",
    "third_party_provision",
)


class _Echo:
    def write(self, value: str) -> str:
        return value


def provision_rows(leads: Iterable[Lead]) -> Iterator[list[str]]:
    yield list(HEADER)
    for lead in leads:
        items = [name for name in ITEM_FIELDS if getattr(lead, name) not in (None, "", [])]
        yield [
            timezone.localtime(lead.created_at).isoformat(),
            str(lead.id),
            lead.partner.slug if lead.partner else "direct",
            lead.partner.name if lead.partner else "",
            f"{lead.family_name} {lead.given_name}",
            " ".join(items),
            lead.consent_policy_version,
            timezone.localtime(lead.consent_agreed_at).isoformat(),
            "yes" if lead.consent_third_party_provision else "no",
        ]


def provision_csv(leads: QuerySet[Lead]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield BOM
    for row in provision_rows(
        leads.select_related("partner").order_by("created_at").iterator(chunk_size=2000)
    ):
        yield writer.writerow(row)
