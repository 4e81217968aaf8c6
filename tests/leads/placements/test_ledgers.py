"""Placement ledgers (求職管理簿, 求人管理簿, 手数料管理簿) and the yearly figures: a known data set
gives exactly the expected CSV, downloaded by a manager from the placement admin."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from accounts.models import Groups
from accounts.services import staff_user_create
from leads.models import Application, AuditEntry, Candidate
from leads.placements.fees import placement_record_leaving
from leads.placements.ledgers import Ledger, ledger_rows
from leads.placements.services import application_accept, application_create, application_transition
from leads.placements.yearly_report import fiscal_year_range, yearly_figures
from roles.models import EmployerFeeTerms, JobPosting, Role
from tests.leads.conftest import lead_body
from tests.roles.factories import EmployerFactory, JobPostingFactory

pytestmark = pytest.mark.django_db
JST = ZoneInfo("Asia/Tokyo")
URL = "/admin/leads/placement/ledgers/"
S = Application.Stage


def at(text: str) -> time_machine.travel:
    return time_machine.travel(datetime.fromisoformat(text).replace(tzinfo=JST), tick=False)


@pytest.fixture
def manager():
    return staff_user_create(email="boss@urakata.example", display_name="Boss", group=Groups.MANAGERS)


@pytest.fixture
def advisor():
    return staff_user_create(email="adv@urakata.example", display_name="Adviser", group=Groups.ADVISORS)


def _sign_up(partner, **fields) -> Candidate:
    response = partner.post(lead_body(**fields))
    assert response.status_code == 201, response.content
    return Candidate.objects.get(leads__id=response.json()["id"])


@pytest.fixture
def data(make_partner, advisor):
    """Two job-seekers received in April-May 2026 (one referred and placed, then left early),
    one received on 31 March (outside the range), one posting received in April."""
    partner = make_partner("career-media", name="キャリアメディア")
    with at("2026-03-31T23:30:00"):
        early = _sign_up(partner, family_name="早川", given_name="一郎")
    with at("2026-04-01T00:10:00"):
        employer = EmployerFactory.create(
            name="株式会社テスト商事", prefecture="13", fee_rate_percent=Decimal("30")
        )
        EmployerFeeTerms.objects.create(
            employer=employer,
            effective_from=date(2026, 4, 1),
            rate_percent=Decimal("30"),
            refund_bands=[{"within_days": 30, "percent": 80}, {"within_days": 180, "percent": 50}],
        )
        posting = JobPostingFactory.create(
            employer=employer,
            role=Role.objects.get(slug="accounting"),
            title="経理アシスタント",
            employment_type=JobPosting.EmploymentType.FULL_TIME,
            prefecture="13",
            remote=JobPosting.Remote.PARTIAL,
            salary_min=3_000_000,
            salary_max=4_000_000,
        )
    with at("2026-05-10T10:00:00"):
        taro = _sign_up(
            partner,
            family_name="山田",
            given_name="太郎",
            family_name_kana="やまだ",
            given_name_kana="たろう",
            birth_date="1999-04-01",
            prefecture="東京都",
            desired_roles=["accounting", "general_admin"],
        )
        Candidate.objects.filter(pk=taro.pk).update(
            desired_prefectures=["13", "14"], min_annual_salary=3_200_000
        )
    with at("2026-05-11T09:00:00"):
        hanako = _sign_up(partner, family_name="佐藤", given_name="花子", prefecture="大阪府")
    with at("2026-05-12T15:00:00"):
        application = application_create(candidate=taro, posting=posting, by=advisor)
        application_transition(application_id=application.pk, to=S.SUBMITTED, by=advisor)
        application_transition(application_id=application.pk, to=S.INTERVIEW, by=advisor)
        application_transition(application_id=application.pk, to=S.OFFER, by=advisor)
    with at("2026-05-20T18:00:00"):
        placement = application_accept(
            application_id=application.pk,
            by=advisor,
            placed_on=date(2026, 5, 20),
            start_date=date(2026, 6, 1),
            annual_salary_jpy=3_600_000,
        )
    with at("2026-09-30T12:00:00"):
        placement_record_leaving(placement_id=placement.pk, left_on=date(2026, 9, 30), by=advisor)
    return {"early": early, "taro": taro, "hanako": hanako, "posting": posting, "placement": placement}


def _download(client, user, ledger: str, date_from: str = "2026-04-01", date_to: str = "2026-05-31"):
    client.force_login(user)
    return client.get(URL, {"ledger": ledger, "date_from": date_from, "date_to": date_to})


def test_it_writes_the_job_seekers_ledger(client, manager, data):
    response = _download(client, manager, "job_seekers")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="job_seekers_2026-04-01_2026-05-31.csv"'
    taro, hanako, posting = data["taro"], data["hanako"], data["posting"]
    assert response.content.decode("utf-8") == (
        "\ufeff求職者番号,求職受付日,氏名,フリガナ,生年月日,住所（都道府県）,希望職種,希望就業地,希望年収（円）,"
        "求職の経路,紹介日,紹介先,求人番号,紹介の結果,就職日\r\n"
        f"{taro.pk},2026-05-10,山田 太郎,ヤマダ タロウ,1999-04-01,東京都,経理・一般事務,"
        f"東京都・神奈川県,3200000,キャリアメディア,2026-05-12,株式会社テスト商事,{posting.pk},採用,2026-06-01\r\n"
        f"{hanako.pk},2026-05-11,佐藤 花子,,,大阪府,,,,キャリアメディア,,,,,\r\n"
    )


def test_it_writes_the_job_orders_ledger(client, manager, data):
    response = _download(client, manager, "job_orders")

    taro, posting = data["taro"], data["posting"]
    assert response.content.decode("utf-8") == (
        "\ufeff求人番号,求人受付日,求人者の名称,求人者の所在地,職種,求人名,雇用形態,就業場所,賃金（年収・円）,"
        "求人の状態,紹介日,紹介した求職者番号,紹介した求職者の氏名,紹介の結果,就職日\r\n"
        f"{posting.pk},2026-04-01,株式会社テスト商事,東京都,経理,経理アシスタント,正社員,東京都（一部リモート）,"
        f"3000000〜4000000,募集中,2026-05-12,{taro.pk},山田 太郎,採用,2026-06-01\r\n"
    )


def test_it_writes_the_fees_ledger(client, manager, data):
    response = _download(client, manager, "fees")

    assert response.content.decode("utf-8") == (
        "\ufeff成立日,求人者の名称,求職者番号,求職者の氏名,就職日,雇用形態,年収（円）,手数料率（%）,手数料（円）,"
        "離職日,返戻金（円）,差引手数料（円）,請求書番号,返還インボイス番号\r\n"
        f"2026-05-20,株式会社テスト商事,{data['taro'].pk},山田 太郎,2026-06-01,正社員,3600000,30.00,1080000,"
        "2026-09-30,540000,540000,INV-2026-000001,CN-2026-000001\r\n"
    )


def test_the_range_is_whole_days_in_japan_time(data):
    # 31 March 23:30 JST is 14:30 UTC on the 31st: in March's ledger, not April's.
    march = ledger_rows(ledger=Ledger.JOB_SEEKERS, date_from=date(2026, 3, 31), date_to=date(2026, 3, 31))
    april = ledger_rows(ledger=Ledger.JOB_SEEKERS, date_from=date(2026, 4, 1), date_to=date(2026, 4, 30))

    assert [row[0] for row in march] == [str(data["early"].pk)]
    assert april == []


def test_a_referral_in_progress_reads_as_such(data, advisor):
    with at("2026-05-13T10:00:00"):
        application_create(candidate=data["hanako"], posting=data["posting"], by=advisor)

    rows = ledger_rows(ledger=Ledger.JOB_ORDERS, date_from=date(2026, 4, 1), date_to=date(2026, 4, 1))

    assert [(row[11], row[13]) for row in rows] == [
        (str(data["taro"].pk), "採用"),
        (str(data["hanako"].pk), "選考中"),
    ]


def test_every_download_is_in_the_audit_log(client, manager, data):
    _download(client, manager, "job_seekers")

    entries = AuditEntry.objects.order_by("candidate_id")
    assert sorted(
        (str(e.candidate_id), e.action, e.channel, e.fields, e.actor_id) for e in entries
    ) == sorted(
        (str(c.pk), "export", "ledger", ["job_seekers"], manager.pk) for c in (data["taro"], data["hanako"])
    )


def test_yearly_figures_count_hires_by_start_and_early_leavers(data):
    figures = yearly_figures(fiscal_year=2026)

    assert figures.period == (date(2026, 4, 1), date(2027, 3, 31))
    assert (
        figures.placements,
        figures.permanent_placements,
        figures.permanent_left_within_six_months,
        figures.fees_jpy,
        figures.refunds_jpy,
    ) == (1, 1, 1, 1_080_000, 540_000)
    assert yearly_figures(fiscal_year=2025).placements == 0


def test_leaving_on_the_six_month_day_is_not_early(data):
    placement = data["placement"]
    type(placement).objects.filter(pk=placement.pk).update(left_on=date(2026, 12, 1), refund_jpy=None)

    assert yearly_figures(fiscal_year=2026).permanent_left_within_six_months == 0


def test_the_page_shows_the_figures_to_a_manager(client, manager, data):
    client.force_login(manager)
    with at("2026-10-01T09:00:00"):
        response = client.get(URL, headers={"accept-language": "en"})

    assert response.status_code == 200
    figures = response.context["figures"]
    assert [f.fiscal_year for f in figures] == [2026, 2025, 2024]
    assert figures[0].fees_jpy == 1_080_000
    assert response.context["form"].initial["date_from"] == fiscal_year_range(2026)[0]


def test_advisors_cannot_download_a_ledger(client, advisor, data):
    response = _download(client, advisor, "fees")

    assert response.status_code == 403
    assert AuditEntry.objects.count() == 0


def test_a_reversed_range_is_refused(client, manager, data):
    response = _download(client, manager, "fees", date_from="2026-05-31", date_to="2026-04-01")

    assert response.status_code == 400
    assert [e.code for e in response.context["form"].errors.as_data()["__all__"]] == ["invalid"]
