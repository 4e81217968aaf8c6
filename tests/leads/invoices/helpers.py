"""Placements made through the real services, for the invoicing tests."""

from datetime import date
from decimal import Decimal

from django.utils import timezone
from factory.declarations import LazyFunction, Sequence
from factory.django import DjangoModelFactory

from accounts.models import User
from leads.models import Application, Candidate, Placement
from leads.placements.services import application_accept, application_create
from roles.models import Employer, EmployerFeeTerms, JobPosting
from tests.roles.factories import EmployerFactory, JobPostingFactory

BANDS = [
    {"within_days": 30, "percent": 80},
    {"within_days": 90, "percent": 50},
    {"within_days": 180, "percent": 10},
]


class CandidateFactory(DjangoModelFactory[Candidate]):
    class Meta:
        model = Candidate

    family_name = "鈴木"
    given_name = Sequence(lambda n: f"一郎{n}")
    email = Sequence(lambda n: f"invoice{n}@example.com")
    partner_status_changed_at = LazyFunction(timezone.now)


def terms(
    employer: Employer,
    *,
    effective_from: date = date(2026, 1, 1),
    rate: str = "30",
    minimum: int = 0,
    payment_term_days: int = 30,
    bands: list[dict[str, int]] | None = None,
) -> EmployerFeeTerms:
    version = EmployerFeeTerms(
        employer=employer,
        effective_from=effective_from,
        rate_percent=Decimal(rate),
        minimum_fee_jpy=minimum,
        payment_term_days=payment_term_days,
        refund_bands=BANDS if bands is None else bands,
    )
    version.full_clean()
    version.save()
    return version


def employer_with_terms(**kwargs: object) -> Employer:
    employer = EmployerFactory.create(name="株式会社テスト商事")
    terms(employer, **kwargs)  # type: ignore[arg-type]
    return employer


def place(
    *,
    by: User,
    start_date: date,
    annual_salary_jpy: int = 3_600_000,
    employer: Employer | None = None,
    posting: JobPosting | None = None,
    candidate: Candidate | None = None,
    placed_on: date | None = None,
) -> Placement:
    """An accepted offer: recommended, moved to `offer`, then accepted through the service."""
    posting = posting or JobPostingFactory.create(
        employer=employer or EmployerFactory.create(), title="経理アシスタント"
    )
    application = application_create(candidate=candidate or CandidateFactory.create(), posting=posting, by=by)
    Application.objects.filter(pk=application.pk).update(stage=Application.Stage.OFFER)
    return application_accept(
        application_id=application.pk,
        by=by,
        start_date=start_date,
        annual_salary_jpy=annual_salary_jpy,
        placed_on=placed_on,
    )
