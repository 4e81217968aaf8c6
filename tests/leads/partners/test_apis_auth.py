"""Partner authentication, request signing and rate limits (CONTRACT section 3)."""

import hashlib
import hmac
import json
import time

import pytest
import time_machine
from django.test import Client

from leads.models import ApiKey, Lead
from leads.partners.keys import api_key_revoke, api_key_rotate, api_key_usage_flush
from tests.leads.conftest import lead_body

pytestmark = pytest.mark.django_db
SECRET = "whsec-0123456789abcdef"


def _signature(body: bytes, t: int, secret: str = SECRET) -> str:
    return f"t={t},v1=" + hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()


def _codes(response):
    return [e["code"] for e in response.json()["errors"]]


@pytest.mark.parametrize("path", ["/api/v1/leads/", "/api/v1/partner/stats/"])
def test_it_answers_401_with_www_authenticate_without_a_key(path):
    response = Client().get(path)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert _codes(response) == ["not_authenticated"]


@pytest.mark.parametrize("header", ["Bearer urk_nope_nope", "Bearer", "Bearer a b", "Basic dXNlcjpwYXNz"])
def test_it_answers_401_for_an_unknown_or_malformed_key(header):
    response = Client().post(
        "/api/v1/leads/", lead_body(), content_type="application/json", headers={"Authorization": header}
    )

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert Lead.objects.count() == 0


def test_a_revoked_key_fails_at_once(partner):
    assert partner.get("/api/v1/leads/").status_code == 200

    api_key_revoke(api_key=ApiKey.objects.get())

    response = partner.get("/api/v1/leads/")
    assert response.status_code == 401
    assert _codes(response) == ["authentication_failed"]


def test_rotation_revokes_the_old_key(partner):
    new_key, raw = api_key_rotate(partner=partner.partner)

    assert partner.get("/api/v1/leads/").status_code == 401
    assert Client().get("/api/v1/leads/", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    assert ApiKey.objects.filter(revoked_at__isnull=True).get() == new_key


def test_a_disabled_partner_gets_403(partner):
    partner.partner.is_active = False
    partner.partner.save()

    response = partner.post(lead_body())

    assert response.status_code == 403
    assert _codes(response) == ["permission_denied"]
    assert Lead.objects.count() == 0


def test_keys_are_stored_only_as_hashes(partner):
    api_key = ApiKey.objects.get()

    assert api_key.key_hash == hashlib.sha256(partner.key.encode()).hexdigest()
    assert partner.key.startswith(f"urk_{api_key.prefix}_")
    assert len(partner.key) > 40


def test_last_use_reaches_the_database_through_the_flush(partner):
    with time_machine.travel("2026-11-24T10:00:00+09:00", tick=False):
        partner.get("/api/v1/leads/")
        assert ApiKey.objects.get().last_used_at is None
        assert api_key_usage_flush() == 1

    last_used_at = ApiKey.objects.get().last_used_at
    assert last_used_at is not None
    assert last_used_at.isoformat() == "2026-11-24T01:00:00+00:00"


class TestSignedPartner:
    @pytest.fixture(autouse=True)
    def _clock_stands_still(self):
        # The signature's age is computed from time.time() on both sides: a slow request
        # must not age a 299-second-old signature past the 300 s window.
        with time_machine.travel(time.time(), tick=False):
            yield

    @pytest.fixture
    def signed(self, make_partner):
        return make_partner("signed-media", signing_secret=SECRET)

    def _post(self, signed, body: bytes, signature: str | None):
        headers = signed.headers()
        if signature is not None:
            headers["X-Signature"] = signature
        return signed.client.post("/api/v1/leads/", body, content_type="application/json", headers=headers)

    def test_it_accepts_a_valid_signature(self, signed):
        body = json.dumps(lead_body()).encode()

        response = self._post(signed, body, _signature(body, int(time.time())))

        assert response.status_code == 201

    def test_it_accepts_one_valid_signature_among_several(self, signed):
        body = json.dumps(lead_body()).encode()
        t = int(time.time())
        header = _signature(body, t, "old-secret") + "," + _signature(body, t).split(",")[1]

        assert self._post(signed, body, header).status_code == 201

    @pytest.mark.parametrize("age", [301, -301, 3600])
    def test_it_rejects_a_stale_signature(self, signed, age):
        body = json.dumps(lead_body()).encode()

        response = self._post(signed, body, _signature(body, int(time.time()) - age))

        assert response.status_code == 401
        assert _codes(response) == ["authentication_failed"]

    def test_it_accepts_a_signature_299_seconds_old(self, signed):
        body = json.dumps(lead_body()).encode()

        assert self._post(signed, body, _signature(body, int(time.time()) - 299)).status_code == 201

    def test_it_rejects_a_tampered_body(self, signed):
        body = json.dumps(lead_body()).encode()
        signature = _signature(body, int(time.time()))

        response = self._post(signed, body.replace(b"taro", b"jiro"), signature)

        assert response.status_code == 401
        assert Lead.objects.count() == 0

    @pytest.mark.parametrize("header", [None, "", "v1=abc", "t=abc,v1=abc", "t=1,t=2,v1=abc"])
    def test_it_rejects_a_missing_or_malformed_signature(self, signed, header):
        body = json.dumps(lead_body()).encode()

        assert self._post(signed, body, header).status_code == 401

    def test_it_signs_reads_too(self, signed):
        t = int(time.time())
        ok = signed.get("/api/v1/leads/", **{"X-Signature": _signature(b"", t)})
        unsigned = signed.get("/api/v1/leads/")

        assert ok.status_code == 200
        assert unsigned.status_code == 401


def test_it_throttles_per_partner_with_retry_after(make_partner):
    limited = make_partner("small-site", rate_limit_per_minute=3)
    other = make_partner("big-site")

    with time_machine.travel("2026-11-24T10:00:10+09:00", tick=False):
        statuses = [limited.get("/api/v1/leads/").status_code for _ in range(4)]
        throttled = limited.get("/api/v1/leads/")
        other_status = other.get("/api/v1/leads/").status_code

    assert statuses == [200, 200, 200, 429]
    assert throttled.status_code == 429
    assert throttled["Retry-After"] == "50"
    assert _codes(throttled) == ["throttled"]
    assert other_status == 200


def test_the_next_minute_opens_a_new_window(make_partner):
    limited = make_partner("small-site", rate_limit_per_minute=1)
    with time_machine.travel("2026-11-24T10:00:59+09:00", tick=False):
        assert limited.get("/api/v1/leads/").status_code == 200
        assert limited.get("/api/v1/leads/").status_code == 429
    with time_machine.travel("2026-11-24T10:01:00+09:00", tick=False):
        assert limited.get("/api/v1/leads/").status_code == 200


def test_a_zero_rate_limit_means_unlimited(make_partner):
    unlimited = make_partner("huge-site", rate_limit_per_minute=0)

    assert {unlimited.get("/api/v1/leads/").status_code for _ in range(130)} == {200}


def test_the_default_limit_is_120_a_minute(partner):
    with time_machine.travel("2026-11-24T10:00:00+09:00", tick=False):
        statuses = [partner.get("/api/v1/leads/").status_code for _ in range(121)]

    assert statuses.count(200) == 120
    assert statuses[-1] == 429
