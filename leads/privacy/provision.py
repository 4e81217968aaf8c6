"""Third-party provision records as CSV: which partner provided whose data, when, which
items, on which consent (APPI: the receiving side's record of a provision)."""

from collections.abc import Iterable, Iterator

from django.db.models import QuerySet
from django.utils import timezone

from core.csv_stream import csv_stream
from leads.models import Lead
from leads.privacy.records import provision_items

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


def provision_rows(leads: Iterable[Lead]) -> Iterator[list[str]]:
    yield list(HEADER)
    for lead in leads:
        items = provision_items(lead=lead)
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
    yield from csv_stream(
        provision_rows(leads.select_related("partner").order_by("created_at").iterator(chunk_size=2000))
    )
