"""Property-based conformance of every /api/ operation to the published OpenAPI document
(schemathesis): no 5xx, every status documented, every body matching its schema. New
endpoints are covered as soon as they appear in /api/schema/."""

from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from config.wsgi import application
from leads.services.partners import api_key_issue, partner_create


@pytest.fixture
def partner_key(db: None) -> Iterator[str]:
    # The WSGI app runs inside the test's transaction: keep Django from closing the
    # connection at the end of each request, as its own test client does.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    partner = partner_create(slug="schemathesis", name="Schemathesis", rate_limit_per_minute=0)
    _, key = api_key_issue(partner=partner)
    yield key
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# Loaded at collection through the WSGI app (no database needed to build the document).
# (schemathesis.pytest.from_fixture would defer it, but does not work with pytest 9.)
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
# Undocumented query parameters are ignored, as most HTTP APIs do (cache busters, tracking
# tags); everything documented is checked strictly.
schema.config.generation.update(allow_extra_parameters=False)


@schema.parametrize()
# derandomize: the same examples every run, so CI is repeatable; raise max_examples or drop
# derandomize locally to hunt for new failures (that is how the -19:18 offset was found).
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_operation_conforms_to_the_schema(case, partner_key):
    # positive_data_acceptance is left out: the API's rules (a real Japanese phone number,
    # a known prefecture, consent agreed in the past) are stricter than JSON Schema can say,
    # so schema-valid bodies are rightly refused with a documented 400.
    case.call_and_validate(
        headers={"Authorization": f"Bearer {partner_key}"},
        excluded_checks=[schemathesis.checks.positive_data_acceptance],
    )


def test_the_schema_lists_every_public_operation(client):
    paths = client.get("/api/schema/", headers={"Accept": "application/json"}).json()["paths"]

    assert {"/api/v1/leads/", "/api/v1/leads/{lead_id}/", "/api/v1/partner/stats/"} <= set(paths)


def test_the_docs_page_is_served_without_a_cdn(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert "cdn.jsdelivr.net" not in response.content.decode()
