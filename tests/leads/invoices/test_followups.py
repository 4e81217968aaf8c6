"""The six-month follow-up (due date, the advisor's task, the answer feeding the yearly
figures) and receivables (overdue invoices on the managers' dashboard, the managers'
follow-up through the outbox, once)."""

from datetime import date
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import Groups
from accounts.services import staff_user_create
from core.models import OutboxMessage
from core.outbox_sweep import outbox_sweep
from leads.invoices.overdue import KIND_OVERDUE, invoices_overdue_scan
from leads.models import FollowUpTask, Invoice
from leads.placements.fees import placement_record_leaving
from leads.placements.followups import KIND_SIX_MONTH_CHECK, placement_record_six_month_check
from leads.placements.yearly_report import yearly_figures
from leads.tasks import invoices_daily_task
from tests.clock import clock_at
from tests.leads.invoices.helpers import CandidateFactory, employer_with_terms, place

pytestmark = pytest.mark.django_db

_clock = clock_at("2027-03-01T10:00:00+09:00")


@pytest.fixture
def advisor():
    return staff_user_create(email="six@urakata.example", display_name="Six", group=Groups.ADVISORS)


@pytest.fixture
def managers():
    return [
        staff_user_create(email=f"m{n}@urakata.example", display_name=f"M{n}", group=Groups.MANAGERS)
        for n in (1, 2)
    ]


def _sweep(at: str) -> Any:
    mail.outbox.clear()
    with time_machine.travel(at, tick=False):
        return outbox_sweep()


def _answer(placement, **answers) -> None:
    placement_record_six_month_check(placement_id=placement.pk, **answers)


def _rows(kind: str) -> list[tuple[str, str]]:
    return [
        (timezone.localtime(row.due_at).isoformat(), row.state)
        for row in OutboxMessage.objects.filter(kind=kind).order_by("due_at")
    ]


# --- the six-month follow-up -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "due"),
    [
        (date(2027, 3, 1), "2027-09-01T09:00:00+09:00"),
        (date(2027, 8, 31), "2028-02-29T09:00:00+09:00"),  # the month's last day (a leap year)
        (date(2027, 3, 31), "2027-09-30T09:00:00+09:00"),
    ],
)
def test_the_six_month_follow_up_is_due_six_months_after_the_start(advisor, start, due):
    place(by=advisor, employer=employer_with_terms(), start_date=start)

    assert _rows(KIND_SIX_MONTH_CHECK) == [(due, "pending")]


def test_the_advisor_gets_a_task_on_the_day(advisor):
    candidate = CandidateFactory.create(advisor=advisor)
    placement = place(
        by=advisor, candidate=candidate, employer=employer_with_terms(), start_date=date(2027, 3, 1)
    )

    _sweep("2027-09-01T08:59:00+09:00")
    assert not FollowUpTask.objects.exists()
    _sweep("2027-09-01T09:00:00+09:00")

    task = FollowUpTask.objects.get()
    assert (task.advisor, task.candidate, task.source) == (advisor, candidate, "placement_check")
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["six@urakata.example"], "【フォローアップ】入社から6か月が経ちました：定着状況を記録してください")
    ]
    assert f"/admin/leads/placement/{placement.pk}/change/" in mail.outbox[0].body


def test_no_task_once_the_answer_is_recorded_or_the_hire_left(advisor):
    answered = place(by=advisor, employer=employer_with_terms(), start_date=date(2027, 3, 1))
    left = place(by=advisor, employer=employer_with_terms(), start_date=date(2027, 3, 1))
    placement_record_six_month_check(
        placement_id=answered.pk, still_employed=True, indefinite=True, by=advisor
    )
    placement_record_leaving(placement_id=left.pk, left_on=date(2027, 5, 1), by=advisor)

    _sweep("2027-09-01T09:00:00+09:00")

    assert not FollowUpTask.objects.exists()
    assert _rows(KIND_SIX_MONTH_CHECK) == [("2027-09-01T09:00:00+09:00", "skipped")] * 2


def test_the_answers_feed_the_yearly_figures(advisor):
    employer = employer_with_terms(bands=[])
    stayed = place(by=advisor, employer=employer, start_date=date(2027, 4, 1))
    gone = place(by=advisor, employer=employer, start_date=date(2027, 4, 1))
    contract = place(by=advisor, employer=employer, start_date=date(2027, 4, 1))  # hired full-time
    with time_machine.travel("2027-10-01T10:00:00+09:00", tick=False):
        placement_record_six_month_check(
            placement_id=stayed.pk, still_employed=True, indefinite=True, by=advisor
        )
        placement_record_six_month_check(
            placement_id=gone.pk, still_employed=False, indefinite=True, by=advisor
        )
        # Hired full-time, but the follow-up found a fixed-term contract: not permanent.
        _answer(contract, still_employed=True, indefinite=False, by=advisor)

    figures = yearly_figures(fiscal_year=2027)

    assert (figures.placements, figures.permanent_placements, figures.permanent_left_within_six_months) == (
        3,
        2,
        1,
    )
    stayed.refresh_from_db()
    assert (stayed.six_month_checked_on, stayed.six_month_still_employed, stayed.six_month_indefinite) == (
        date(2027, 10, 1),
        True,
        True,
    )


OVERDUE_TITLE = "請求書 INV-2027-000001 の入金期日が過ぎています：入金状況を確認してください"


# --- receivables -----------------------------------------------------------------------------


@pytest.fixture
def invoice(advisor):
    place(by=advisor, employer=employer_with_terms(), start_date=date(2027, 3, 1))
    return Invoice.objects.get()  # due 2027-03-31


def test_an_overdue_invoice_is_followed_up_with_the_managers_once(advisor, managers, invoice):
    with time_machine.travel("2027-03-31T23:00:00+09:00", tick=False):
        assert invoices_overdue_scan() == 0  # due today: not overdue yet
    with time_machine.travel("2027-04-01T00:10:00+09:00", tick=False):
        assert invoices_daily_task() == "issued=0 overdue=1"
        assert invoices_daily_task() == "issued=0 overdue=1"  # one row per invoice: keyed

    _sweep("2027-04-01T09:00:00+09:00")
    _sweep("2027-04-02T09:00:00+09:00")  # nothing left to deliver

    assert _rows(KIND_OVERDUE) == [("2027-04-01T00:10:00+09:00", "sent")]
    tasks = FollowUpTask.objects.order_by("advisor_id")
    assert [(t.advisor, t.source, t.title) for t in tasks] == [
        (
            manager,
            "invoice_overdue",
            "請求書 INV-2027-000001 の入金期日が過ぎています：入金状況を確認してください",
        )
        for manager in managers
    ]
    assert mail.outbox == []  # cleared by the second sweep, which sent nothing


def test_the_managers_email_names_the_invoice(advisor, managers, invoice):
    with time_machine.travel("2027-04-01T00:10:00+09:00", tick=False):
        invoices_overdue_scan()

    _sweep("2027-04-01T09:00:00+09:00")

    (message,) = mail.outbox
    assert message.to == ["m1@urakata.example", "m2@urakata.example"]
    assert message.subject == "【入金管理】請求書 INV-2027-000001 の入金期日が過ぎています"
    assert "株式会社テスト商事" in message.body
    assert "1188000" in message.body
    assert f"/admin/leads/invoice/{invoice.pk}/change/" in message.body


def test_a_paid_invoice_is_not_followed_up(advisor, managers, invoice):
    with time_machine.travel("2027-04-01T00:10:00+09:00", tick=False):
        invoices_overdue_scan()
    Invoice.objects.filter(pk=invoice.pk).update(paid_on=date(2027, 3, 31))

    _sweep("2027-04-01T09:00:00+09:00")

    assert _rows(KIND_OVERDUE) == [("2027-04-01T00:10:00+09:00", "skipped")]
    assert not FollowUpTask.objects.exists()


def test_overdue_invoices_are_on_the_managers_dashboard(advisor, managers, invoice):
    client = Client()
    with time_machine.travel("2027-04-05T10:00:00+09:00", tick=False):
        client.force_login(managers[0])
        page = client.get("/admin/leads/candidate/dashboard/").content.decode()
        client.force_login(advisor)
        advisors = client.get("/admin/leads/candidate/dashboard/").content.decode()

    assert 'id="dashboard-invoices"' in page
    assert f'<a href="/admin/leads/invoice/{invoice.pk}/change/">INV-2027-000001</a>' in page
    assert "2027-03-31" in page
    assert 'id="dashboard-invoices"' not in advisors


def test_the_advisor_records_the_answer_on_the_placement_page(advisor):
    placement = place(by=advisor, employer=employer_with_terms(), start_date=date(2027, 3, 1))
    client = Client(headers={"Accept-Language": "en"})
    url = f"/admin/leads/placement/{placement.pk}/change/"
    management = {"invoices-TOTAL_FORMS": "1", "invoices-INITIAL_FORMS": "1"}
    invoice = Invoice.objects.get()
    management["invoices-0-id"] = str(invoice.pk)
    management["invoices-0-placement"] = str(placement.pk)

    with time_machine.travel("2027-09-02T10:00:00+09:00", tick=False):
        client.force_login(advisor)
        half = client.post(url, {**management, "six_month_still_employed": "true"})
        done = client.post(
            url, {**management, "six_month_still_employed": "true", "six_month_indefinite": "false"}
        )

    assert half.status_code == 200
    assert "Answer both six-month questions." in half.content.decode()
    assert done.status_code == 302
    placement.refresh_from_db()
    assert (
        placement.six_month_checked_on,
        placement.six_month_still_employed,
        placement.six_month_indefinite,
    ) == (date(2027, 9, 2), True, False)
    event = placement.application.events.get(kind="six_month_check")
    assert (event.actor, event.data) == (advisor, {"still_employed": True, "indefinite": False})
