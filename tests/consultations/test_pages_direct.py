"""The direct booking page (/book/), the page after it, and the confirmation page
(/consultations/confirm/<token>): the free first consultation for anyone, without
JavaScript, in Japanese first and in English, under the same abuse rules as the API."""

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.test import Client

from consultations.models import Booking
from leads.models import Candidate, Lead
from roles.models import Role
from tests.consultations.conftest import FRIDAY_MORNING, make_lead

pytestmark = pytest.mark.django_db
TEN = "2026-11-24T10:00:00+09:00"
CONFIRM_PATH = re.compile(r"https://urakata\.test(/consultations/confirm/[0-9a-f]{64})")


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(FRIDAY_MORNING, tick=False) as traveller:
        yield traveller


@pytest.fixture
def roles(db: None) -> list[Role]:
    """The catalogue loaded by migration (roles 0002)."""
    return list(Role.objects.filter(is_active=True))


def _form(**fields: Any) -> dict[str, Any]:
    return {
        "kind": "career",
        "start": TEN,
        "mode": "online",
        "family_name": "佐々木",
        "given_name": "陽菜",
        "family_name_kana": "ささき",
        "given_name_kana": "ﾋﾅ",
        "email": "Hina@Example.com",
        "phone": "",
        "current_occupation": "factory",
        "desired_roles": ["accounting"],
        "notes": "平日の夜が希望です",
        "consent": "on",
        **fields,
    }


def _confirm_path() -> str:
    (match,) = [m for mail_ in mail.outbox if (m := CONFIRM_PATH.search(str(mail_.body)))]
    return match[1]


def test_the_page_offers_times_and_the_role_asked_for_in_japanese(advisors, roles):
    page = Client().get("/book/", {"role": "accounting", "day": "2026-11-24"})

    text = page.content.decode()
    assert page.status_code == 200
    assert '<html lang="ja">' in text
    assert "無料キャリア相談" in text
    assert f'value="{TEN}"' in text
    assert "day=2026-11-23" not in text  # a public holiday
    assert re.search(r'<input type="checkbox" name="desired_roles" value="accounting"[^>]* checked', text)
    assert not re.search(r'value="general_affairs"[^>]* checked', text)
    assert '<a href="/privacy/">プライバシーポリシー</a>（版 2026-04）に同意します。' in text
    assert '<label for="id_family_name_kana">セイ（ふりがな）</label>' in text


def test_the_page_in_english(advisors, roles):
    client = Client()
    client.post("/i18n/setlang/", {"language": "en", "next": "/book/"})

    text = client.get("/book/").content.decode()

    assert '<html lang="en">' in text
    assert "Free career consultation" in text
    assert "Accounting" in text


def test_a_person_holds_a_time_confirms_it_and_lands_on_the_manage_page(advisors, roles):
    client = Client()

    held = client.post("/book/", _form())

    assert held.status_code == 302
    booking = Booking.objects.get()
    assert held["Location"] == f"/book/held/{booking.pk}"
    assert booking.status == "held"
    lead = Lead.objects.get()
    assert (lead.partner, lead.email, lead.family_name_kana, lead.given_name_kana) == (
        None,
        "hina@example.com",
        "ササキ",
        "ヒナ",
    )
    assert (lead.current_occupation, lead.desired_roles, lead.consent_policy_version) == (
        "factory",
        ["accounting"],
        "2026-04",
    )
    assert (lead.consent_agreed_at.isoformat(), lead.awaiting_confirmation) == (
        "2026-11-20T00:00:00+00:00",
        True,
    )
    after = client.get(held["Location"]).content.decode()
    assert "09:30（日本時間）までにリンクを開いて確認すると予約が確定します" in after
    assert "hina@example.com" not in after  # nothing personal on a page the id alone opens

    call_command("send_due_reminders", stdout=open("/dev/null", "w"))  # noqa: SIM115
    path = _confirm_path()
    page = client.get(path)
    assert page.status_code == 200
    assert "この内容で予約を確定する" in page.content.decode()
    assert Booking.objects.get().status == "held"  # opening the link alone confirms nothing

    confirmed = client.post(path)

    token = path.rsplit("/", 1)[1]
    assert confirmed.status_code == 302
    assert confirmed["Location"] == f"/consultations/{token}"
    assert Booking.objects.get().status == "booked"
    assert Lead.objects.get().awaiting_confirmation is False
    assert "予約済み" in client.get(confirmed["Location"]).content.decode()
    # The link again: straight to the booking.
    assert client.get(path)["Location"] == f"/consultations/{token}"


def test_errors_are_shown_next_to_their_fields(advisors, roles):
    page = Client().post(
        "/book/", _form(family_name=" ", given_name_kana="hina", email="", phone="123", consent="")
    )

    text = page.content.decode()
    assert page.status_code == 400
    assert '<p class="field-error" id="id_family_name_error">この項目は必須です。</p>' in text
    kana_error = "ひらがなまたはカタカナのみで入力してください。"
    assert f'<p class="field-error" id="id_given_name_kana_error">{kana_error}</p>' in text
    assert "日本の電話番号を入力してください（例: 090-1234-5678）。" in text
    assert "予約にはプライバシーポリシーへの同意が必要です。" in text
    assert 'aria-invalid="true"' in text
    assert 'value="佐々木"' not in text  # the blank name is not kept as what was typed
    assert Booking.objects.count() == Lead.objects.count() == 0


def test_an_email_or_a_phone_is_needed(advisors, roles):
    page = Client().post("/book/", _form(email="", phone=""))

    assert page.status_code == 400
    assert "メールアドレスまたは電話番号を指定してください。" in page.content.decode()


def test_a_known_person_is_recognised_not_doubled(advisors, roles):
    known = make_lead(email="hina@example.com")

    Client().post("/book/", _form())

    assert Candidate.objects.count() == 1
    assert Booking.objects.get().candidate_id == known.candidate_id


def test_a_taken_time_is_a_clear_message(advisors, roles):
    client = Client()
    client.post("/book/", _form(email="a@example.com"), REMOTE_ADDR="198.51.100.1")
    client.post("/book/", _form(email="b@example.com"), REMOTE_ADDR="198.51.100.2")

    page = client.post("/book/", _form(email="c@example.com"), REMOTE_ADDR="198.51.100.3")

    assert page.status_code == 409
    assert "その時間はちょうど埋まりました" in page.content.decode()


def test_the_fourth_hold_from_one_address_is_asked_to_wait(advisors, roles):
    client = Client()
    for i in range(3):
        start = f"2026-11-24T1{i}:00:00+09:00"
        assert client.post("/book/", _form(email=f"p{i}@example.com", start=start)).status_code == 302

    page = client.post("/book/", _form(email="p3@example.com", start="2026-11-24T14:00:00+09:00"))

    assert page.status_code == 429
    assert page["Retry-After"] == "1801"
    assert "31 分ほどしてからもう一度お試しください" in page.content.decode()
    assert Booking.objects.count() == 3


def test_confirming_after_the_deadline_says_pick_another_time(advisors, roles, clock):
    client = Client()
    client.post("/book/", _form())
    call_command("send_due_reminders", stdout=open("/dev/null", "w"))  # noqa: SIM115
    path = _confirm_path()
    clock.shift(timedelta(minutes=30))

    page = client.post(path)

    assert page.status_code == 409
    text = page.content.decode()
    assert "確認の期限を過ぎたため、この時間枠は解放されました。別の時間をお選びください。" in text
    assert 'href="/book/?kind=career"' in text
    assert Booking.objects.get().status == "released"


def test_a_wrong_confirmation_link_says_so(advisors):
    page = Client().get("/consultations/confirm/" + "0" * 64)

    assert page.status_code == 404


def test_the_held_page_of_an_unknown_booking_is_404(advisors):
    assert Client().get("/book/held/00000000-0000-0000-0000-000000000000").status_code == 404


def test_the_page_is_throttled_like_the_slots(advisors, roles):
    client = Client()
    statuses = [client.get("/book/").status_code for _ in range(61)]

    assert statuses == [200] * 60 + [429]
