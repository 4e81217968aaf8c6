"""POST /api/v1/leads/: every field rule of CONTRACT section 3, through HTTP."""

import json
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from core.models import OutboxMessage
from leads.intake.tokens import booking_token_lead_id
from leads.models import Candidate, Lead
from roles.selectors import certification_codes
from tests.leads.conftest import lead_body

pytestmark = pytest.mark.django_db


def _errors(response):
    body = response.json()
    return [(e["code"], e["attr"]) for e in body["errors"]]


def test_it_accepts_a_lead_and_answers_201(partner):
    response = partner.post(
        lead_body(external_id="ext-1", email="Taro.Yamada@Example.COM", phone="090-1234-5678")
    )

    assert response.status_code == 201
    body = response.json()
    lead = Lead.objects.get()
    assert body == {
        "id": str(lead.id),
        "status": "received",
        "external_id": "ext-1",
        "created_at": timezone.localtime(lead.created_at).isoformat(),
        "existing_candidate": False,
        "booking_url": f"https://urakata.test/book/{body['booking_token']}",
        "booking_token": body["booking_token"],
    }
    assert body["created_at"].endswith("+09:00")
    assert booking_token_lead_id(token=body["booking_token"]) == lead.id
    candidate = Candidate.objects.get()
    assert (candidate.email, candidate.phone) == ("taro.yamada@example.com", "+819012345678")
    assert candidate.credited_lead_id == lead.id
    assert lead.partner == partner.partner
    assert lead.raw_payload["email"] == "Taro.Yamada@Example.COM"


def _outbox_due() -> dict[str, str]:
    return {m.kind: timezone.localtime(m.due_at).isoformat() for m in OutboxMessage.objects.all()}


# What a failure between the lead and its effects leaves behind: tests/leads/intake/test_atomicity.py.
def test_it_records_the_after_effects_in_the_same_transaction(partner):
    with time_machine.travel("2026-11-24T10:00:00+09:00", tick=False):  # a Tuesday
        partner.post(lead_body())

    lead = Lead.objects.get()
    rows = OutboxMessage.objects.all()
    assert {row.kind: row.payload for row in rows} == {
        "lead.assign": {"lead_id": str(lead.id)},
        "lead.contact_sla": {"lead_id": str(lead.id)},
    }
    assert _outbox_due() == {
        "lead.assign": "2026-11-24T10:00:00+09:00",
        "lead.contact_sla": "2026-11-24T12:00:00+09:00",  # two business hours later
    }


def test_the_contact_sla_counts_business_hours_only(partner):
    with time_machine.travel("2026-11-27T17:30:00+09:00", tick=False):  # Friday evening
        partner.post(lead_body())

    due = OutboxMessage.objects.get(kind="lead.contact_sla").due_at
    assert timezone.localtime(due).isoformat() == "2026-11-30T10:30:00+09:00"  # Monday


@pytest.mark.parametrize(
    ("field", "value", "stored"),
    [
        ("family_name", "  山田  ", "山田"),
        ("family_name", "ﾔﾏﾀﾞ", "ヤマダ"),  # NFKC
        ("given_name", "Ｔａｒｏ", "Taro"),
        ("family_name_kana", "やまだ", "ヤマダ"),
        ("family_name_kana", "ﾔﾏﾀﾞ", "ヤマダ"),
        ("given_name_kana", "タロウ", "タロウ"),
        ("phone", "09012345678", "+819012345678"),
        ("phone", "+81 90 1234 5678", "+819012345678"),
        ("phone", "０９０－１２３４－５６７８", "+819012345678"),
        ("phone", "03-1234-5678", "+81312345678"),
        ("email", "MiXeD@Example.JP", "mixed@example.jp"),
    ],
)
def test_it_normalises(partner, field, value, stored):
    response = partner.post(lead_body(**{field: value}))

    assert response.status_code == 201, response.json()
    assert getattr(Lead.objects.get(), field) == stored
    assert getattr(Candidate.objects.get(), field) == stored


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("東京都", "13"),
        ("大阪府", "27"),
        ("北海道", "01"),
        ("京都府", "26"),
        ("沖縄県", "47"),
        ("神奈川県", "14"),
        ("愛知県", "23"),
        ("福岡県", "40"),
        ("宮城県", "04"),
        ("広島県", "34"),
        ("13", "13"),
        ("01", "01"),
        ("27", "27"),
        ("47", "47"),
        ("１３", "13"),
        ("埼玉県", "11"),
    ],
)
def test_it_stores_prefectures_as_jis_codes(partner, value, code):
    response = partner.post(lead_body(prefecture=value))

    assert response.status_code == 201
    assert Lead.objects.get().prefecture == code


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"family_name": ""}, [("required", "family_name")]),
        ({"family_name": "   "}, [("required", "family_name")]),
        ({"family_name": "山" * 51}, [("invalid", "family_name")]),
        ({"given_name": None}, [("required", "given_name")]),
        ({"family_name_kana": "山田"}, [("invalid", "family_name_kana")]),
        ({"given_name_kana": "taro"}, [("invalid", "given_name_kana")]),
        ({"email": "not-an-email"}, [("invalid", "email")]),
        ({"phone": "12345"}, [("invalid", "phone")]),
        ({"phone": "+1 202 555 0143"}, [("invalid", "phone")]),
        ({"email": None, "phone": None}, [("required", "email")]),
        ({"birth_date": "2000/01/01"}, [("invalid", "birth_date")]),
        ({"prefecture": "東京都都"}, [("invalid", "prefecture")]),
        ({"prefecture": "48"}, [("invalid", "prefecture")]),
        ({"current_occupation": "astronaut"}, [("invalid", "current_occupation")]),
        ({"desired_roles": ["accounting", "astronaut"]}, [("invalid", "desired_roles.1")]),
        ({"desired_roles": "accounting"}, [("invalid", "desired_roles")]),
        ({"certifications": ["no_such_cert"]}, [("invalid", "certifications.0")]),
        ({"message": "あ" * 2001}, [("invalid", "message")]),
        ({"external_id": "x" * 101}, [("invalid", "external_id")]),
        ({"source_url": "x" * 501}, [("invalid", "source_url")]),
        ({"utm_campaign": "x" * 501}, [("invalid", "utm_campaign")]),
        ({"nickname": "taro"}, [("invalid", "nickname")]),
    ],
)
def test_it_rejects_bad_fields_naming_them(partner, overrides, expected):
    response = partner.post(lead_body(**overrides))

    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert _errors(response) == expected
    assert Lead.objects.count() == 0
    assert OutboxMessage.objects.count() == 0


def test_it_accepts_the_longest_allowed_values(partner):
    response = partner.post(
        lead_body(family_name="山" * 50, message="あ" * 2000, external_id="x" * 100, utm_source="u" * 500)
    )

    assert response.status_code == 201


@pytest.mark.parametrize(
    ("consent", "expected"),
    [
        (None, [("required", "consent")]),
        (
            {"privacy_policy_version": "v1", "agreed_at": "2026-11-20T10:00:00+09:00"},
            [("required", "consent.third_party_provision")],
        ),
        (
            {
                "privacy_policy_version": "v1",
                "agreed_at": "2026-11-20T10:00:00+09:00",
                "third_party_provision": False,
            },
            [("invalid", "consent.third_party_provision")],
        ),
        (
            {
                "privacy_policy_version": "v1",
                "agreed_at": "2026-11-20T10:00:00+09:00",
                "third_party_provision": "true",
            },
            [("invalid", "consent.third_party_provision")],
        ),
        (
            {"privacy_policy_version": "v1", "agreed_at": "yesterday", "third_party_provision": True},
            [("invalid", "consent.agreed_at")],
        ),
        (
            {
                "privacy_policy_version": "v1",
                "agreed_at": "2026-11-20T10:00:00",
                "third_party_provision": True,
            },
            [("invalid", "consent.agreed_at")],
        ),
        (
            {
                "privacy_policy_version": "v1",
                "agreed_at": "2099-01-01T00:00:00+09:00",
                "third_party_provision": True,
            },
            [("invalid", "consent.agreed_at")],
        ),
        (
            {"agreed_at": "2026-11-20T10:00:00+09:00", "third_party_provision": True},
            [("required", "consent.privacy_policy_version")],
        ),
        (
            {
                "privacy_policy_version": "v1",
                "agreed_at": "2026-11-20T10:00:00+09:00",
                "third_party_provision": True,
                "ip": "1.2.3.4",
            },
            [("invalid", "consent.ip")],
        ),
    ],
)
def test_it_requires_a_complete_consent(partner, consent, expected):
    body = lead_body()
    if consent is None:
        del body["consent"]
    else:
        body["consent"] = consent

    response = partner.post(body)

    assert response.status_code == 400
    assert _errors(response) == expected


def test_it_accepts_consent_times_in_any_offset(partner):
    body = lead_body()
    body["consent"]["agreed_at"] = "2026-11-19T20:00:00-05:00"

    assert partner.post(body).status_code == 201
    assert timezone.localtime(Lead.objects.get().consent_agreed_at).isoformat() == "2026-11-20T10:00:00+09:00"


@pytest.mark.parametrize(
    ("birth_date", "status"),
    [("2011-11-24", 201), ("2011-11-25", 400), ("1945-11-25", 201), ("1945-11-24", 400)],
)
def test_it_checks_age_15_to_80_on_the_day_received(partner, birth_date, status):
    with time_machine.travel("2026-11-24T12:00:00+09:00"):
        response = partner.post(lead_body(birth_date=birth_date))

    assert response.status_code == status
    if status == 400:
        assert _errors(response) == [("invalid", "birth_date")]


def test_it_rejects_a_non_json_content_type_with_415(partner):
    response = partner.client.post(
        "/api/v1/leads/",
        "family_name=x",
        content_type="application/x-www-form-urlencoded",
        headers=partner.headers(),
    )

    assert response.status_code == 415
    assert _errors(response) == [("unsupported_media_type", None)]


def test_it_rejects_a_body_over_64_kib_with_413(partner):
    body = json.dumps(lead_body(message="x" * (65 * 1024)))

    response = partner.client.post(
        "/api/v1/leads/", body, content_type="application/json", headers=partner.headers()
    )

    assert response.status_code == 413
    assert _errors(response) == [("request_too_large", None)]
    assert Lead.objects.count() == 0


def test_it_rejects_malformed_json(partner):
    response = partner.client.post(
        "/api/v1/leads/", "{", content_type="application/json", headers=partner.headers()
    )

    assert response.status_code == 400
    assert response.json()["type"] == "client_error"


def test_it_rejects_a_json_array(partner):
    response = partner.client.post(
        "/api/v1/leads/", "[]", content_type="application/json", headers=partner.headers()
    )

    assert response.status_code == 400
    assert _errors(response) == [("invalid", None)]


def test_it_records_a_known_person_against_the_same_candidate(partner, make_partner):
    other = make_partner("job-news")
    first = partner.post(lead_body(email="hanako@example.com", phone="080-1111-2222"))
    by_phone = other.post(lead_body(email="hanako.work@example.com", phone="+81 80 1111 2222"))
    by_email = partner.post(lead_body(email="HANAKO@example.com", phone=None))

    assert first.json()["existing_candidate"] is False
    assert by_phone.status_code == 201
    assert by_phone.json()["existing_candidate"] is True
    assert by_email.json()["existing_candidate"] is True
    assert Candidate.objects.count() == 1
    candidate = Candidate.objects.get()
    assert candidate.leads.count() == 3
    assert (candidate.email, candidate.phone) == ("hanako@example.com", "+818011112222")


def test_a_new_lead_fills_blanks_and_adds_wishes_but_never_overwrites(partner):
    partner.post(lead_body(email="a@example.com", given_name_kana="タロウ", desired_roles=["accounting"]))
    partner.post(
        lead_body(
            email="a@example.com",
            given_name_kana="ジロウ",
            family_name_kana="ヤマダ",
            prefecture="13",
            desired_roles=["hr", "accounting"],
        )
    )

    candidate = Candidate.objects.get()
    assert candidate.given_name_kana == "タロウ"
    assert candidate.family_name_kana == "ヤマダ"
    assert candidate.prefecture == "13"
    assert candidate.desired_roles == ["accounting", "hr"]


def test_the_first_partner_keeps_the_credit_within_the_window(partner, make_partner):
    other = make_partner("job-news")
    with time_machine.travel("2026-08-01T10:00:00+09:00"):
        first = partner.post(lead_body(email="c@example.com"))
    with time_machine.travel("2026-10-29T10:00:00+09:00"):  # 89 days later
        other.post(lead_body(email="c@example.com"))

    assert str(Candidate.objects.get().credited_lead_id) == first.json()["id"]


def test_a_later_partner_takes_the_credit_once_the_window_has_passed(partner, make_partner):
    other = make_partner("job-news")
    with time_machine.travel("2026-08-01T10:00:00+09:00"):
        partner.post(lead_body(email="c@example.com"))
    with time_machine.travel("2026-10-31T10:00:00+09:00"):  # 91 days later
        later = other.post(lead_body(email="c@example.com"))

    assert str(Candidate.objects.get().credited_lead_id) == later.json()["id"]


def test_the_lead_id_in_the_booking_token_expires_after_14_days(partner):
    with time_machine.travel("2026-11-01T10:00:00+09:00"):
        token = partner.post(lead_body()).json()["booking_token"]
    lead_id = Lead.objects.get().id

    with time_machine.travel("2026-11-14T10:00:00+09:00"):
        assert booking_token_lead_id(token=token) == lead_id
    with time_machine.travel("2026-11-15T10:00:01+09:00"):
        assert booking_token_lead_id(token=token) is None
    assert booking_token_lead_id(token=token[:-2] + "xx") is None
    assert booking_token_lead_id(token=str(uuid.uuid4())) is None


def test_the_lead_keeps_its_own_copy_when_the_contacts_differ(partner):
    partner.post(lead_body(email="a@example.com", phone="090-1000-0001"))
    partner.post(lead_body(email="a@example.com", phone="090-1000-0002"))

    assert sorted(Lead.objects.values_list("phone", flat=True), key=str) == ["+819010000001", "+819010000002"]
    assert Candidate.objects.get().phone == "+819010000001"


def test_the_outbox_row_due_time_is_in_the_future_of_the_lead(partner):
    partner.post(lead_body())
    lead = Lead.objects.get()
    sla = OutboxMessage.objects.get(kind="lead.contact_sla")
    assert sla.due_at - lead.created_at >= timedelta(hours=2)


def test_an_impossible_consent_time_is_a_400_not_a_500(partner):
    body = lead_body()
    body["consent"]["agreed_at"] = "2024-01-01T12:99:00Z"

    response = partner.post(body)

    assert response.status_code == 400
    assert _errors(response) == [("invalid", "consent.agreed_at")]


def _row(obj, *, leave_out):
    return {
        f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields if f.attname not in leave_out
    }


def test_the_one_statement_intake_stores_what_the_orm_path_stores(partner, monkeypatch):
    # A new person is written by one hand-written statement (candidate, lead and outbox rows
    # in CTEs, leads.intake.fast_path.ingest_new_person); a known one by the ORM. Every
    # column of every model must come out the same either way, defaults and timestamps too.
    from dataclasses import replace

    from leads.intake.inputs import LeadInput
    from leads.intake.services import lead_ingest

    data = LeadInput(
        family_name="山田",
        given_name="太郎",
        family_name_kana="ヤマダ",
        consent_policy_version="2026-04",
        consent_agreed_at=timezone.now() - timedelta(days=1),
        consent_third_party_provision=True,
        raw_payload={"family_name": "山田", "nested": {"a": [1, 2.5, None, True]}},
        email="one@example.com",
        birth_date=timezone.now().date() - timedelta(days=365 * 30),
        prefecture="13",
        current_occupation="factory",
        desired_roles=["accounting"],
        certifications=["boki-3"],
        message="よろしくお願いします。",
        external_id="same-row-1",
        source_url="https://partner.example/lp",
        utm_source="partner",
    )
    with time_machine.travel("2026-11-24T10:00:00+09:00", tick=False):
        fast = lead_ingest(partner=partner.partner, data=data)
        monkeypatch.setattr("leads.intake.services.ingest_new_person", lambda **_: None)
        orm = lead_ingest(
            partner=partner.partner, data=replace(data, email="two@example.com", external_id="same-row-2")
        )

    assert (fast.existing_candidate, orm.existing_candidate) == (False, False)
    assert fast.status == orm.status == "received"
    different = {"id", "candidate_id", "credited_lead_id", "email", "external_id"}
    leads = {lead.email: lead for lead in Lead.objects.all()}
    assert _row(leads["one@example.com"], leave_out=different) == _row(
        leads["two@example.com"], leave_out=different
    )
    candidates = {c.email: c for c in Candidate.objects.all()}
    one, two = candidates["one@example.com"], candidates["two@example.com"]
    assert _row(one, leave_out=different) == _row(two, leave_out=different)
    assert (one.credited_lead_id, two.credited_lead_id) == (fast.lead.id, orm.lead.id)
    assert Lead.objects.get(pk=fast.lead.id).candidate_id == one.id
    outbox: dict[str, dict[str, object]] = {}
    for message in OutboxMessage.objects.all():
        outbox.setdefault(message.subject, {})[message.kind] = _row(
            message, leave_out={"id", "key", "subject", "payload"}
        )
    assert outbox[f"lead:{fast.lead.id}"] == outbox[f"lead:{orm.lead.id}"]
    assert len(outbox[f"lead:{fast.lead.id}"]) == 2


# The view checks a valid body with plain code (leads.intake.serializers.lead_create_input_quick)
# and runs the serializer only for what that code declines. Both must agree exactly.
QUICK_ACCEPTS = [
    {},
    {"family_name": "  山田  ", "given_name": "ﾀﾛｳ"},
    {"family_name_kana": "やまだ", "given_name_kana": "ﾀﾛｳ", "birth_date": "1990-4-1"},
    {"email": " Taro.Yamada@Example.COM ", "phone": None},
    {"email": None, "phone": "＋81 90-1234-5678"},
    {"prefecture": "東京都", "current_occupation": "care"},
    {"prefecture": "13"},
    {"prefecture": "Tokyo-to", "message": "   "},
    {"desired_roles": ["accounting", "hr", "accounting"], "certifications": []},
    {"desired_roles": None, "certifications": None, "message": None, "external_id": " ext-1 "},
    {"source_url": "https://partner.example/lp", "utm_source": "", "utm_medium": None, "utm_campaign": "c"},
    {
        "consent": {
            "privacy_policy_version": " 2026-04 ",
            "agreed_at": "2026-01-10T01:00:00Z",
            "third_party_provision": True,
        }
    },
]
QUICK_DECLINES_SERIALIZER_ACCEPTS = [
    {"message": 123},  # DRF reads a number as text; the quick check leaves that to it
    {"utm_source": 1.5},
]
QUICK_DECLINES_SERIALIZER_REJECTS = [
    {"family_name": ""},
    {"family_name": "   "},
    {"family_name": 5},
    {"given_name": None},
    {"family_name": "あ" * 51},
    {"given_name": "太\x00郎"},
    {"unknown": 1},
    {"email": "not-an-email"},
    {"email": None, "phone": None},
    {"email": ""},
    {"phone": "0120-123-456"},
    {"phone": "090-1234-567a"},
    {"birth_date": "2020-01-01"},
    {"birth_date": "1990/01/01"},
    {"birth_date": 19900101},
    {"prefecture": "Atlantis"},
    {"current_occupation": "pilot"},
    {"current_occupation": ""},
    {"desired_roles": ["accounting", "astronaut"]},
    {"desired_roles": "accounting"},
    {"desired_roles": [""]},
    {"certifications": [1]},
    {"family_name_kana": "yamada"},
    {"message": "x" * 2001},
    {"external_id": ""},
    {"source_url": "\ud800"},
    {"consent": None},
    {"consent": []},
    {"consent": {"privacy_policy_version": "2026-04", "agreed_at": "2026-02-30T10:00:00+09:00", "x": 1}},
    {
        "consent": {
            "privacy_policy_version": "v",
            "agreed_at": "2026-02-30T10:00:00+09:00",
            "third_party_provision": True,
        }
    },
    {
        "consent": {
            "privacy_policy_version": "v",
            "agreed_at": "2026-01-10T10:00+09:00",
            "third_party_provision": False,
        }
    },
    {"consent": {"privacy_policy_version": "2026-04", "agreed_at": "2026-01-10T10:00:00+09:00"}},
    {
        "consent": {
            "privacy_policy_version": "2026-04",
            "agreed_at": "2026-01-10T10:00:00+09:00",
            "third_party_provision": True,
            "extra": 1,
        }
    },
    {
        "consent": {
            "privacy_policy_version": "2026-04",
            "agreed_at": "2026-01-10T10:00:00",
            "third_party_provision": True,
        }
    },
    {
        "consent": {
            "privacy_policy_version": "2026-04",
            "agreed_at": "2099-01-10T10:00:00+09:00",
            "third_party_provision": True,
        }
    },
    {
        "consent": {
            "privacy_policy_version": "2026-04",
            "agreed_at": "2026-01-10T10:00:00+09:00",
            "third_party_provision": 1,
        }
    },
    {
        "consent": {
            "privacy_policy_version": "",
            "agreed_at": "2026-01-10T10:00:00+09:00",
            "third_party_provision": True,
        }
    },
]


def _both(body):
    from leads.intake.quick_check import lead_create_input_quick
    from leads.intake.serializers import LeadCreateInputSerializer

    serializer = LeadCreateInputSerializer(data=body)
    return lead_create_input_quick(body), (serializer.validated_data if serializer.is_valid() else None)


@pytest.mark.parametrize("overrides", QUICK_ACCEPTS)
def test_the_quick_check_reads_a_valid_body_as_the_serializer_does(overrides):
    body = lead_body(**overrides)
    if "certifications" not in overrides:
        body["certifications"] = sorted(certification_codes())[:2]
    quick, validated = _both(body)
    assert validated is not None
    assert quick == validated


@pytest.mark.parametrize("overrides", QUICK_DECLINES_SERIALIZER_ACCEPTS)
def test_the_quick_check_leaves_what_it_does_not_vouch_for_to_the_serializer(overrides):
    quick, validated = _both(lead_body(**overrides))
    assert quick is None
    assert validated is not None


@pytest.mark.parametrize("overrides", QUICK_DECLINES_SERIALIZER_REJECTS)
def test_the_quick_check_accepts_nothing_the_serializer_rejects(overrides):
    assert _both(lead_body(**overrides)) == (None, None)


@pytest.mark.postgresql("counts the statements of intake's PostgreSQL fast path (one data-modifying CTE)")
def test_a_new_person_costs_two_statements_and_a_known_one_the_general_path(
    partner, django_assert_num_queries
):
    # 1 API key + partner (a prepared statement); 2 the candidate, the lead and its two
    # outbox rows in one statement, committed on its own (no BEGIN/COMMIT around it).
    with django_assert_num_queries(2):
        first = partner.post(lead_body(email="known@example.com"))
    assert first.status_code == 201
    # The same person again: 1 API key; 2 the one statement, which writes nothing (the email is
    # taken); then in a transaction 3 find and lock the candidate, 4 the lead, 5 the outbox.
    with django_assert_num_queries(5):
        again = partner.post(lead_body(email="known@example.com"))
    assert (again.status_code, again.json()["existing_candidate"]) == (201, True)
    assert Candidate.objects.count() == 1
    assert OutboxMessage.objects.count() == 4


@pytest.mark.parametrize(
    ("accept", "status"),
    [(None, 201), ("*/*", 201), ("application/json", 201), ("text/html, */*;q=0.1", 201), ("text/html", 406)],
)
def test_content_negotiation_answers_json_or_406(partner, accept, status):
    headers = {} if accept is None else {"Accept": accept}
    response = partner.post(lead_body(), **headers)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"


def test_a_format_override_still_goes_through_negotiation(partner):
    response = partner.client.get("/api/v1/leads/?format=xml", headers=partner.headers())
    assert response.status_code == 404
