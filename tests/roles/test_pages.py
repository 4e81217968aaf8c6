"""The public catalogue as pages (/roles/, /roles/<slug>/): what the work is, pay, the
certifications that help, the share of open postings welcoming newcomers, and the way to
book; never an employer's name or a posting's text."""

import pytest
from django.test import Client

from roles.models import JobPosting, Role
from tests.roles.factories import EmployerFactory, JobPostingFactory

pytestmark = pytest.mark.django_db


def test_the_index_lists_the_catalogue_in_japanese(client):
    page = client.get("/roles/")

    text = page.content.decode()
    assert page.status_code == 200
    assert '<html lang="ja">' in text
    assert '<meta name="robots" content="index">' in text
    assert '<a href="/roles/accounting/"><strong>経理</strong><br>' in text
    assert "年収 320〜550 万円" in text
    assert text.index("経理") < text.index("一般事務")  # the catalogue's order
    assert '<a class="button" href="/book/">無料相談を予約する</a>' in text


def test_a_role_page_tells_the_work_the_pay_and_the_certifications(client):
    page = client.get("/roles/accounting/")

    text = page.content.decode()
    assert page.status_code == 200
    assert "<h1>経理</h1>" in text
    assert "<li>請求書の発行</li>" in text
    assert "年収 320〜550 万円ほど" in text
    assert "売上や支払いを記録し" in text  # the catalogue's summary
    assert "<li>日商簿記検定3級</li>" in text
    assert "この職種の募集中の求人は今はありません" in text  # none open in this database
    assert '<a class="button" href="/book/?role=accounting">相談を予約する</a>' in text


def test_the_share_of_postings_welcoming_newcomers_is_shown_without_the_postings(client):
    employer = EmployerFactory(name="秘密商事株式会社")
    role = Role.objects.get(slug="accounting")
    JobPostingFactory(employer=employer, role=role, title="極秘の経理求人", inexperienced_welcome=True)
    JobPostingFactory(employer=employer, role=role, title="別の経理求人", inexperienced_welcome=False)
    JobPostingFactory(
        employer=employer, role=role, inexperienced_welcome=True, status=JobPosting.Status.CLOSED
    )

    text = client.get("/roles/accounting/").content.decode()

    assert "当社が扱うこの職種の募集中の求人のうち 50% が未経験歓迎です。" in text
    assert "募集中の求人の 50% が未経験歓迎" in client.get("/roles/").content.decode()
    for secret in ("秘密商事", "極秘の経理求人", "別の経理求人", "受発注データの入力を担当します。"):
        assert secret not in text


def test_the_pages_in_english(client: Client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/roles/"})

    index = client.get("/roles/").content.decode()
    page = client.get("/roles/accounting/").content.decode()

    assert '<html lang="en">' in index
    assert "<strong>Accounting</strong>" in index
    assert "320-550 (10,000 yen) a year" in index
    assert "<h1>Accounting</h1>" in page
    assert '<a class="button" href="/book/?role=accounting">Book a consultation</a>' in page


def test_an_unknown_or_inactive_role_is_404(client):
    Role.objects.filter(slug="legal").update(is_active=False)

    assert client.get("/roles/no-such-role/").status_code == 404
    assert client.get("/roles/legal/").status_code == 404
    assert "/roles/legal/" not in client.get("/roles/").content.decode()


def test_the_index_takes_a_constant_number_of_queries(client, django_assert_num_queries):
    # 1 the roles with their counts, 2 their certifications (role_list).
    with django_assert_num_queries(2):
        client.get("/roles/")
