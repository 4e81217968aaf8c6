"""Integrity lives in the database: each rule is proved by an IntegrityError from PostgreSQL."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from roles.models import Employer, JobPosting, Role
from roles.services import employer_create
from tests.roles.factories import CertificationFactory, EmployerFactory, JobPostingFactory, RoleFactory

pytestmark = pytest.mark.django_db


def _rejected(factory, constraint, **fields):
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        factory(**fields)


def test_it_rejects_a_role_salary_range_upside_down():
    _rejected(
        RoleFactory, "role_salary_min_lte_max", annual_salary_min=4_000_001, annual_salary_max=4_000_000
    )


def test_it_rejects_a_role_salary_of_zero():
    _rejected(RoleFactory, "role_salary_min_positive", annual_salary_min=0, annual_salary_max=3_000_000)


def test_it_accepts_a_role_with_equal_bounds():
    role = RoleFactory.create(annual_salary_min=3_000_000, annual_salary_max=3_000_000)

    assert Role.objects.filter(pk=role.pk).exists()


def test_it_rejects_a_duplicate_role_slug():
    _rejected(RoleFactory, "slug", slug="accounting")  # migrated by 0002_catalogue


def test_it_rejects_a_duplicate_certification_code():
    _rejected(CertificationFactory, "code", code="boki_2")


@pytest.mark.parametrize(
    ("fee", "constraint"),
    [(Decimal("0"), "employer_fee_rate_range"), (Decimal("100.01"), "employer_fee_rate_range")],
)
def test_it_rejects_a_fee_rate_out_of_range(fee, constraint):
    _rejected(EmployerFactory, constraint, fee_rate_percent=fee)


def test_it_accepts_a_fee_rate_of_100():
    assert EmployerFactory.create(fee_rate_percent=Decimal("100.00")).fee_rate_percent == Decimal("100.00")


@pytest.mark.parametrize("prefecture", ["00", "48", "1", "tk"])
def test_it_rejects_a_prefecture_that_is_not_a_jis_code(prefecture):
    _rejected(EmployerFactory, "employer_prefecture_jis", prefecture=prefecture)
    _rejected(JobPostingFactory, "posting_prefecture_jis", prefecture=prefecture)


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"salary_min": 4_000_001, "salary_max": 4_000_000}, "posting_salary_min_lte_max"),
        ({"salary_min": 0}, "posting_salary_min_positive"),
        ({"annual_holidays": 367}, "posting_annual_holidays_range"),
        ({"annual_holidays": -1}, "posting_annual_holidays_range"),
        ({"avg_monthly_overtime_hours": -1}, "posting_overtime_not_negative"),
    ],
)
def test_it_rejects_posting_conditions_out_of_range(fields, constraint):
    _rejected(JobPostingFactory, constraint, **fields)


def test_it_accepts_posting_conditions_at_the_edges():
    posting = JobPostingFactory.create(
        prefecture="47", annual_holidays=366, avg_monthly_overtime_hours=0, salary_min=1, salary_max=1
    )
    other = JobPostingFactory.create(prefecture="", annual_holidays=None, avg_monthly_overtime_hours=None)

    assert JobPosting.objects.filter(pk__in=[posting.pk, other.pk]).count() == 2


def test_it_reports_a_broken_constraint_as_a_translated_form_error():
    role = RoleFactory.build(annual_salary_min=5_000_000, annual_salary_max=4_000_000)

    with translation.override("en"), pytest.raises(ValidationError) as excinfo:
        role.full_clean()

    with translation.override("en"):
        assert excinfo.value.messages == ["The lower salary must not exceed the upper salary."]


@pytest.mark.parametrize(
    "tasks", [["データ入力", ""], ["データ入力", 3], {"task": "データ入力"}, "データ入力"]
)
def test_it_requires_typical_tasks_to_be_a_list_of_texts(tasks):
    role = RoleFactory.build(typical_tasks=tasks)

    with translation.override("en"), pytest.raises(ValidationError) as excinfo:
        role.full_clean()

    with translation.override("en"):
        assert excinfo.value.message_dict == {"typical_tasks": ["Enter a list of non-empty texts."]}


def test_it_validates_an_employer_before_saving_it():
    with translation.override("en"), pytest.raises(ValidationError) as excinfo:
        employer_create(name="テスト商事株式会社", fee_rate_percent=Decimal("0"))

    with translation.override("en"):
        assert excinfo.value.messages == ["The fee rate must be more than 0 and at most 100."]
    assert Employer.objects.count() == 0


@pytest.mark.parametrize("model", [Employer, JobPosting])
def test_it_records_nothing_employers_may_not_screen_on(model):
    # 公正な採用選考: birthplace / 本籍, beliefs, union membership never become fields.
    forbidden = ("birth", "honseki", "domicile", "religio", "belief", "union", "ideolog", "politic")

    names = [field.name for field in model._meta.get_fields()]

    assert [name for name in names if any(word in name for word in forbidden)] == []
