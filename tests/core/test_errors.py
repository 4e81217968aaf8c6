"""CONTRACT section 2: every non-2xx /api/ response has one shape."""

import json

import pytest
from django.test import Client

pytestmark = [pytest.mark.urls("tests.core.probe_urls")]

ECHO = "/api/v1/probe/echo/"


def _error(response):
    assert response["Content-Type"].startswith("application/json")
    return response.json()


def test_it_formats_validation_errors_with_field_paths(client):
    response = client.post(ECHO, {"email": "not-an-email", "count": 0}, content_type="application/json")

    assert response.status_code == 400
    assert _error(response) == {
        "type": "validation_error",
        "errors": [
            {"code": "invalid", "detail": "有効なメールアドレスを入力してください。", "attr": "email"},
            {"code": "invalid", "detail": "この値は1以上にしてください。", "attr": "count"},
        ],
    }


def test_it_answers_in_english_when_asked(client):
    response = client.post(ECHO, {}, content_type="application/json", headers={"Accept-Language": "en"})

    assert response.status_code == 400
    assert _error(response) == {
        "type": "validation_error",
        "errors": [
            {"code": "required", "detail": "This field is required.", "attr": "email"},
            {"code": "required", "detail": "This field is required.", "attr": "count"},
        ],
    }


def test_it_formats_malformed_json(client):
    response = client.post(ECHO, "{not json", content_type="application/json")

    assert response.status_code == 400
    body = _error(response)
    assert body["type"] == "client_error"
    assert [e["code"] for e in body["errors"]] == ["parse_error"]


def test_it_formats_401_with_www_authenticate(client):
    response = client.get("/api/v1/probe/auth/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert _error(response)["type"] == "client_error"
    assert _error(response)["errors"][0]["code"] == "not_authenticated"
    assert _error(response)["errors"][0]["attr"] is None


def test_it_formats_403_without_the_internal_reason(client):
    response = client.get("/api/v1/probe/forbidden/")

    assert response.status_code == 403
    assert _error(response)["errors"][0]["code"] == "permission_denied"
    assert "secret reason" not in response.content.decode()


def test_it_formats_404_for_unknown_api_urls(client):
    response = client.get("/api/v1/does-not-exist/")

    assert response.status_code == 404
    assert _error(response) == {
        "type": "client_error",
        "errors": [{"code": "not_found", "detail": "見つかりませんでした。", "attr": None}],
    }


def test_it_keeps_django_404_pages_outside_the_api(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_it_formats_405(client):
    response = client.get(ECHO)

    assert response.status_code == 405
    assert _error(response)["errors"][0]["code"] == "method_not_allowed"


def test_it_formats_415_for_a_non_json_body(client):
    response = client.post(ECHO, "email=a@b.jp", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 415
    assert _error(response)["errors"][0]["code"] == "unsupported_media_type"


def test_it_formats_413_for_a_body_over_64_kib(client):
    body = json.dumps({"email": "a@example.com", "count": 1, "pad": "x" * (64 * 1024)})

    response = client.post(ECHO, body, content_type="application/json")

    assert response.status_code == 413
    assert _error(response)["errors"] == [
        {"code": "request_too_large", "detail": "リクエスト本文が 65536 バイトを超えています。", "attr": None}
    ]


def test_it_accepts_a_body_of_exactly_64_kib(client):
    prefix = '{"email": "a@example.com", "count": 1, "pad": "'
    body = prefix + "x" * (64 * 1024 - len(prefix) - 2) + '"}'
    assert len(body.encode()) == 64 * 1024

    response = client.post(ECHO, body, content_type="application/json")

    assert response.status_code == 201


@pytest.mark.parametrize("path", ["/api/v1/probe/crash/", "/api/v1/probe/plain-crash/"])
def test_it_hides_unhandled_exceptions_behind_a_500(path):
    client = Client(raise_request_exception=False)

    response = client.get(path)

    assert response.status_code == 500
    body = _error(response)
    assert body["type"] == "server_error"
    assert len(body["errors"]) == 1
    text = response.content.decode()
    assert "Traceback" not in text
    assert "SELECT" not in text
    assert "must never leak" not in text
