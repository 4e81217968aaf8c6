"""The advisors' candidate list as CSV, as selected on the list page."""

from collections.abc import Iterable, Iterator
from datetime import date, datetime

from django.db.models import QuerySet
from django.utils import timezone

from core.csv_stream import csv_stream
from leads.candidates.selectors import age_on
from leads.models import Candidate

CANDIDATE_HEADER = (
    "candidate_id",
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "email",
    "phone",
    "birth_date",
    "age",
    "prefecture",
    "current_occupation",
    "desired_roles",
    "stage",
    "closed",
    "closed_reason",
    "advisor",
    "source_partner",
    "last_contacted_at",
    "next_followup_at",
    "created_at",
)


def _when(moment: datetime | None) -> str:
    return timezone.localtime(moment).isoformat() if moment else ""


def candidate_rows(candidates: Iterable[Candidate], *, today: date) -> Iterator[list[str]]:
    """The advisors' own columns only: no consent record, message or payload of a partner."""
    yield list(CANDIDATE_HEADER)
    for c in candidates:
        lead = c.credited_lead
        yield [
            str(c.pk),
            c.family_name,
            c.given_name,
            c.family_name_kana,
            c.given_name_kana,
            c.email or "",
            c.phone or "",
            c.birth_date.isoformat() if c.birth_date else "",
            str(age_on(birth_date=c.birth_date, day=today)) if c.birth_date else "",
            c.prefecture,
            c.current_occupation,
            " ".join(c.desired_roles),
            c.stage,
            "yes" if c.is_closed else "no",
            c.closed_reason,
            str(c.advisor) if c.advisor else "",
            (lead.partner.slug if lead.partner else "direct") if lead else "",
            _when(c.last_contacted_at),
            _when(getattr(c, "next_followup_at", None)),
            _when(c.created_at),
        ]


def candidate_csv(candidates: QuerySet[Candidate]) -> Iterator[str]:
    """UTF-8 with a BOM (Excel), streamed in chunks: one query per 2,000 candidates."""
    rows = candidates.select_related("advisor", "credited_lead__partner").order_by("created_at", "pk")
    yield from csv_stream(candidate_rows(rows.iterator(chunk_size=2000), today=timezone.localdate()))
