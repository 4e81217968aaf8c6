"""Idempotency-Key, external_id and concurrency (CONTRACT section 3), on PostgreSQL."""

import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from core import idempotency
from core.idempotency import idempotency_purge, request_fingerprint
from core.models import IdempotencyRecord
from leads.models import Candidate, Lead
from roles.selectors import certification_codes, role_slugs_active
from tests.conftest import RACES
from tests.leads.conftest import lead_body
from tests.roles.factories import CertificationFactory, RoleFactory


def _codes(response):
    return [e["code"] for e in response.json()["errors"]]


@pytest.mark.django_db
class TestIdempotencyKey:
    def test_a_replay_returns_the_first_response_and_records_nothing(self, partner):
        body = lead_body()
        first = partner.post(body, **{"Idempotency-Key": "order-1"})
        replay = partner.post(body, **{"Idempotency-Key": "order-1"})

        assert first.status_code == replay.status_code == 201
        assert replay.json() == first.json()
        assert replay["Idempotent-Replayed"] == "true"
        assert "Idempotent-Replayed" not in first
        assert Lead.objects.count() == 1

    @pytest.mark.parametrize("known", [False, True], ids=["new person", "known person"])
    def test_the_stored_response_is_the_one_answered(self, partner, known):
        # A new person's lead and response are one statement; a known person's, one transaction.
        if known:
            partner.post(lead_body(email="same@example.com"))
        body = lead_body(email="same@example.com")
        first = partner.post(body, **{"Idempotency-Key": "k"})
        replay = partner.post(body, **{"Idempotency-Key": "k"})

        assert first.json()["existing_candidate"] is known
        assert (replay.status_code, replay.json()) == (201, first.json())
        assert IdempotencyRecord.objects.get(key="k").response_body == first.json()

    # As a request runs: in autocommit, not inside the test's transaction, so that what a
    # failure leaves behind is what the database really kept.
    @pytest.mark.django_db(transaction=True)
    @pytest.mark.parametrize("known", [False, True], ids=["new person", "known person"])
    def test_no_lead_is_kept_without_its_stored_response(self, partner, known, monkeypatch):
        if known:
            partner.post(lead_body(email="same@example.com"))
        leads_before = Lead.objects.count()

        def explode(**kwargs):
            raise RuntimeError("cannot build the response")

        monkeypatch.setattr("leads.intake.apis._created_body", explode)
        with pytest.raises(RuntimeError):
            partner.post(lead_body(email="same@example.com"), **{"Idempotency-Key": "k"})
        monkeypatch.undo()

        assert Lead.objects.count() == leads_before
        assert not IdempotencyRecord.objects.filter(key="k").exists()  # the key was given back

    def test_the_same_json_in_another_key_order_is_the_same_body(self, partner):
        body = lead_body()
        reordered = dict(reversed(list(body.items())))
        first = partner.post(body, **{"Idempotency-Key": "k"})
        replay = partner.client.post(
            "/api/v1/leads/",
            json.dumps(reordered, indent=2),
            content_type="application/json",
            headers=partner.headers(**{"Idempotency-Key": "k"}),
        )

        assert replay.json() == first.json()
        assert Lead.objects.count() == 1

    def test_the_same_key_with_another_body_is_422(self, partner):
        partner.post(lead_body(), **{"Idempotency-Key": "k"})

        response = partner.post(lead_body(), **{"Idempotency-Key": "k"})

        assert response.status_code == 422
        assert _codes(response) == ["idempotency_key_reuse"]
        assert Lead.objects.count() == 1

    def test_keys_of_different_partners_never_collide(self, partner, make_partner):
        other = make_partner("job-news")

        first = partner.post(lead_body(), **{"Idempotency-Key": "same"})
        second = other.post(lead_body(), **{"Idempotency-Key": "same"})

        assert (first.status_code, second.status_code) == (201, 201)
        assert Lead.objects.count() == 2

    def test_a_rejected_request_does_not_use_up_its_key(self, partner):
        body = lead_body()
        bad = partner.post({**body, "phone": "123", "email": None}, **{"Idempotency-Key": "k"})
        good = partner.post(body, **{"Idempotency-Key": "k"})

        assert (bad.status_code, good.status_code) == (400, 201)

    @pytest.mark.parametrize("key", ["", "x" * 256, "キー", "with space", "tab\there"])
    def test_it_rejects_a_malformed_key(self, partner, key):
        response = partner.post(lead_body(), **{"Idempotency-Key": key})

        assert response.status_code == 400
        assert response.json()["errors"][0]["attr"] == "Idempotency-Key"
        assert Lead.objects.count() == 0

    def test_it_accepts_a_255_character_key(self, partner):
        assert partner.post(lead_body(), **{"Idempotency-Key": "k" * 255}).status_code == 201

    def test_a_key_is_forgotten_after_24_hours(self, partner):
        with time_machine.travel("2026-11-24T10:00:00+09:00"):
            partner.post(lead_body(), **{"Idempotency-Key": "k"})
        with time_machine.travel("2026-11-25T09:59:00+09:00"):
            assert partner.post(lead_body(), **{"Idempotency-Key": "k"}).status_code == 422
        with time_machine.travel("2026-11-25T10:00:01+09:00"):
            assert partner.post(lead_body(), **{"Idempotency-Key": "k"}).status_code == 201

    def test_the_purge_deletes_records_past_24_hours(self, partner):
        with time_machine.travel("2026-11-24T10:00:00+09:00"):
            partner.post(lead_body(), **{"Idempotency-Key": "old"})
        with time_machine.travel("2026-11-25T09:00:00+09:00"):
            partner.post(lead_body(), **{"Idempotency-Key": "new"})
        with time_machine.travel("2026-11-25T10:00:01+09:00"):
            assert idempotency_purge() == 1
        assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.django_db
class TestExternalId:
    @pytest.mark.django_db(transaction=True)  # as a request runs: in autocommit
    def test_the_same_external_id_again_is_200_with_the_existing_lead(self, partner):
        first = partner.post(lead_body(external_id="A-1"))
        again = partner.post(lead_body(external_id="A-1"))

        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json()["id"] == first.json()["id"]
        assert again.json()["external_id"] == "A-1"
        assert Lead.objects.count() == 1
        # The repeat's other person was rolled back with it: no stray candidate.
        assert Candidate.objects.count() == 1

    def test_external_ids_are_unique_per_partner_only(self, partner, make_partner):
        other = make_partner("job-news")

        assert partner.post(lead_body(external_id="A-1")).status_code == 201
        assert other.post(lead_body(external_id="A-1")).status_code == 201


def _twin_in_flight(partner, key: str, body: dict[str, Any]) -> IdempotencyRecord:
    """What a request still running with this key looks like: a claim without a response."""
    return IdempotencyRecord.objects.create(
        scope=f"partner:{partner.partner.pk}",
        key=key,
        claim=uuid.uuid4(),
        request_hash=request_fingerprint(body),
        created_at=timezone.now(),
    )


class _SteppedClock:
    """core.idempotency's `time`: monotonic() moves only when the code sleeps, so the wait
    is measured exactly, whatever the machine's load."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps = 0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        self.now += seconds


@pytest.mark.django_db
def test_a_key_still_in_flight_after_the_wait_is_409(partner, monkeypatch):
    body = lead_body()
    _twin_in_flight(partner, "busy", body)
    clock = _SteppedClock()
    monkeypatch.setattr(idempotency, "time", clock)

    response = partner.post(body, **{"Idempotency-Key": "busy"})

    assert response.status_code == 409
    assert _codes(response) == ["idempotency_key_in_flight"]
    # It waited the whole IN_FLIGHT_WAIT (3 s), polling every 50 ms, and gave up then (sixty
    # steps of 0.05 add up to a hair under 3.0 in floating point: one more poll).
    assert clock.sleeps == 61
    assert idempotency.IN_FLIGHT_WAIT <= clock.now < idempotency.IN_FLIGHT_WAIT + idempotency.POLL_INTERVAL
    assert Lead.objects.count() == 0


@pytest.mark.django_db
def test_another_body_while_in_flight_is_422_at_once(partner):
    _twin_in_flight(partner, "busy", lead_body())

    response = partner.post(lead_body(), **{"Idempotency-Key": "busy"})

    assert response.status_code == 422


@pytest.mark.django_db
def test_a_claim_abandoned_by_a_dead_process_is_taken_over_after_a_minute(partner):
    body = lead_body()
    with time_machine.travel("2026-11-24T10:00:00+09:00", tick=False):
        _twin_in_flight(partner, "orphan", body)
    with time_machine.travel("2026-11-24T10:01:01+09:00"):
        response = partner.post(body, **{"Idempotency-Key": "orphan"})

    assert response.status_code == 201
    assert Lead.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_twin_waits_for_the_first_request_and_replays_it(partner):
    body = lead_body()
    twin = _twin_in_flight(partner, "k", body)

    def finish_first():
        time.sleep(0.5)
        IdempotencyRecord.objects.filter(pk=twin.pk).update(
            response_status=201, response_body={"id": "first"}
        )
        connection.close()

    finisher = threading.Thread(target=finish_first)
    finisher.start()
    response = partner.post(body, **{"Idempotency-Key": "k"})
    finisher.join()

    assert response.status_code == 201
    assert response.json() == {"id": "first"}
    assert response["Idempotent-Replayed"] == "true"
    assert Lead.objects.count() == 0


@pytest.mark.django_db
def test_a_failed_request_gives_its_key_back(partner, monkeypatch):
    body = lead_body()

    def explode(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("leads.intake.apis.lead_ingest", explode)
    with pytest.raises(RuntimeError):
        partner.post(body, **{"Idempotency-Key": "k"})
    monkeypatch.undo()

    assert IdempotencyRecord.objects.count() == 0
    assert partner.post(body, **{"Idempotency-Key": "k"}).status_code == 201


def _post_json(url: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **headers},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), dict(error.headers)


@pytest.mark.postgresql(RACES)
@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_requests_with_one_key_make_one_lead(live_server, partner):
    body = lead_body()
    barrier = threading.Barrier(20)

    def send(_: int):
        barrier.wait()
        return _post_json(
            f"{live_server.url}/api/v1/leads/",
            body,
            {"Authorization": f"Bearer {partner.key}", "Idempotency-Key": "k-20"},
        )

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(send, range(20)))

    assert {status for status, _, _ in results} == {201}
    assert len({json.dumps(payload, sort_keys=True) for _, payload, _ in results}) == 1
    assert sum(1 for _, _, headers in results if headers.get("Idempotent-Replayed") == "true") == 19
    assert Lead.objects.count() == 1
    assert Candidate.objects.count() == 1


@pytest.mark.postgresql(RACES)
@pytest.mark.django_db(transaction=True)
def test_twenty_partners_sending_one_new_person_at_once_make_one_candidate(live_server, make_partner):
    partners = [make_partner(f"site-{i}") for i in range(20)]
    barrier = threading.Barrier(20)

    def send(i: int):
        body = lead_body(email="same.person@example.com", phone="070-1234-5678")
        barrier.wait()
        return _post_json(
            f"{live_server.url}/api/v1/leads/", body, {"Authorization": f"Bearer {partners[i].key}"}
        )

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(send, range(20)))

    assert [status for status, _, _ in results] == [201] * 20
    assert sorted(payload["existing_candidate"] for _, payload, _ in results) == [False] + [True] * 19
    assert Candidate.objects.count() == 1
    assert Lead.objects.count() == 20
    assert Candidate.objects.get().credited_lead_id is not None


@pytest.mark.django_db(transaction=True)
def test_a_new_lead_costs_at_most_9_queries_and_a_replay_3(partner, django_assert_max_num_queries):
    # Transactional tests empty the tables, catalogue included: bring what the body names.
    role, certification = RoleFactory(), CertificationFactory()
    body = lead_body(desired_roles=[role.slug], certifications=[certification.code])
    role_slugs_active(), certification_codes()  # warm the catalogue cache, as on a running server

    # PostgreSQL: 1 API key + partner; 2 claim the key; 3 the new candidate, the lead, its
    # payout line (none here: no rule), its outbox rows and the response stored on the key,
    # in one autocommitted statement.
    # SQLite (the general path): 1 key, 2 claim, then BEGIN, 4 the candidate, 5 the lead, 6 the
    # partner's payout rule, 7 its outbox rows, 8 the response stored on the key, 9 COMMIT.
    budget = 3 if connection.vendor == "postgresql" else 9
    with django_assert_max_num_queries(budget):
        first = partner.post(body, **{"Idempotency-Key": "budget"})
    assert first.status_code == 201
    assert IdempotencyRecord.objects.get().response_body == first.json()

    # 1 API key + partner; 2 claim the key, which returns the stored response.
    with django_assert_max_num_queries(2):
        replay = partner.post(body, **{"Idempotency-Key": "budget"})
    assert (replay.status_code, replay.json()) == (201, first.json())


@pytest.mark.postgresql(RACES)
@pytest.mark.django_db(transaction=True)
def test_parallel_leads_with_one_external_id_make_one_lead_and_leave_no_stray_candidate(live_server, partner):
    # Without an Idempotency-Key a new person is one autocommitted statement: the one that
    # loses the external_id race must fail whole, its candidate included, and answer 200.
    barrier = threading.Barrier(10)

    def send(i: int):
        body = lead_body(external_id="ext-race", email=f"person{i}@example.com", phone=None)
        barrier.wait()
        return _post_json(
            f"{live_server.url}/api/v1/leads/", body, {"Authorization": f"Bearer {partner.key}"}
        )

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(send, range(10)))

    assert sorted(status for status, _, _ in results) == [200] * 9 + [201]
    lead = Lead.objects.get()
    assert {body["id"] for _, body, _ in results} == {str(lead.id)}
    assert Candidate.objects.count() == 1
    assert Candidate.objects.get().pk == lead.candidate_id
