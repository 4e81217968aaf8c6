"""Masked disclosure: a posting an advisor can share without its employer."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from accounts.models import Groups
from accounts.services import staff_user_create
from tests.roles.factories import CertificationFactory, EmployerFactory, JobPostingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def advisor_client():
    client = Client()
    client.force_login(staff_user_create(email="a@urakata.example", display_name="A", group=Groups.ADVISORS))
    return client


def test_the_teaser_shares_conditions_but_never_the_employer(advisor_client):
    employer = EmployerFactory.create(name="株式会社ひみつ商事", name_kana="ヒミツショウジ")
    certification = CertificationFactory.create(code="boki_x", name="日商簿記検定3級")
    posting = JobPostingFactory.create(
        employer=employer,
        title="株式会社ひみつ商事 経理スタッフ",
        description="株式会社ひみつ商事の本社で経理を担当",
        teaser="都内のメーカーで月次決算を支える経理スタッフ。未経験から育てます。",
        prefecture="13",
        salary_min=3_200_000,
        salary_max=4_200_000,
        inexperienced_welcome=True,
        weekends_holidays_off=True,
        annual_holidays=125,
        avg_monthly_overtime_hours=10,
    )
    posting.required_certifications.add(certification)

    response = advisor_client.get(f"/api/v1/postings/{posting.pk}/teaser/")

    assert response.status_code == 200
    body = response.json()
    assert body["teaser"] == "都内のメーカーで月次決算を支える経理スタッフ。未経験から育てます。"
    assert (body["prefecture"], body["salary_min"], body["salary_max"]) == ("13", 3_200_000, 4_200_000)
    assert body["required_certifications"][0]["code"] == "boki_x"
    text = response.content.decode()
    assert "ひみつ" not in text
    assert "ヒミツ" not in text


def test_a_teaser_naming_the_employer_is_refused_and_masked_if_stored(advisor_client):
    employer = EmployerFactory.create(name="ひみつ商事")
    posting = JobPostingFactory.create(employer=employer, teaser="ひみつ商事で働こう")

    with pytest.raises(ValidationError) as refused:
        posting.full_clean()

    assert refused.value.message_dict["teaser"] == ["ティーザーに求人企業名を含めることはできません。"]
    assert advisor_client.get(f"/api/v1/postings/{posting.pk}/teaser/").json()["teaser"] == "○○で働こう"


def test_partners_and_strangers_get_no_teaser(partner):
    posting = JobPostingFactory.create()

    assert Client().get(f"/api/v1/postings/{posting.pk}/teaser/").status_code == 403
    assert partner.get(f"/api/v1/postings/{posting.pk}/teaser/").status_code == 403
