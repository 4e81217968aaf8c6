"""The API document tells the truth for advisors and managers too: every operation fuzzed
(schemathesis) with a logged-in session and its CSRF token, every response checked against
its schema (a strict client generated from /api/schema/ must accept it), invalid input
refused. Path ids are real rows made by the fixture, so the detail operations are reached,
not only answered 404."""

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from django.contrib.auth.models import Group
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, settings

from accounts.models import Groups, User
from accounts.services import staff_user_create
from config.wsgi import application
from consultations.selectors import slots_for_range
from consultations.services import advisor_onboard, booking_create
from leads.candidates.pipeline import candidate_close
from leads.intake.inputs import LeadInput
from leads.intake.services import lead_ingest
from leads.placements.services import application_create, application_transition
from tests.roles.factories import JobPostingFactory, RoleFactory

CSRF = "x" * 32  # a CSRF secret of the right length: cookie and header carry the same one

staff_schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
staff_schema.config.generation.update(allow_extra_parameters=False)
# The rows the path parameters name, per path prefix (filled by the fixture, read by the hook).
REAL: dict[str, Any] = {}
# Per role and operation, the statuses answered: proof that the fuzzing got past the door
# (authentication, permission, an unknown id) of every operation.
SEEN: dict[tuple[str, str], set[int]] = {}


@staff_schema.hook
def map_path_parameters(
    context: schemathesis.HookContext, path_parameters: dict[str, Any] | None
) -> dict[str, Any] | None:
    path = context.operation.path if context.operation is not None else ""
    if not path_parameters:
        return path_parameters
    for prefix, value in REAL.items():
        if path.startswith(prefix):
            name = "token" if prefix.endswith("manage/") else "id"
            # Only a well-formed id is swapped for a real one: a malformed one is the negative
            # case schemathesis means to send (and must be refused).
            if name in path_parameters and _well_formed(path_parameters[name], like=value):
                path_parameters[name] = value
    return path_parameters


def _well_formed(generated: Any, *, like: Any) -> bool:
    if isinstance(like, int):
        return isinstance(generated, int) and not isinstance(generated, bool)
    try:
        return (
            str(uuid.UUID(str(generated))) == str(generated) if _is_uuid(like) else isinstance(generated, str)
        )
    except ValueError:
        return False


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _person(n: int) -> LeadInput:
    return LeadInput(
        family_name="山田",
        given_name=f"太郎{n}",
        email=f"fuzz{n}@example.com",
        consent_policy_version="2026-04",
        consent_agreed_at=timezone.now(),
        consent_third_party_provision=True,
        raw_payload={},
    )


@pytest.fixture(params=[Groups.ADVISORS, Groups.MANAGERS])
def staff_headers(request: pytest.FixtureRequest, db: None) -> Iterator[tuple[str, dict[str, str]]]:
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    for name in (Groups.ADVISORS, Groups.MANAGERS):
        Group.objects.get_or_create(name=name)
    user: User = staff_user_create(email="fuzz@urakata.example", display_name="Fuzz", group=request.param)
    advisor_onboard(email="booker@urakata.example", display_name="Booker")
    candidate = lead_ingest(partner=None, data=_person(1)).lead.candidate
    candidate.advisor = user
    candidate.save(update_fields=["advisor"])
    closed = lead_ingest(partner=None, data=_person(2)).lead.candidate
    candidate_close(candidate_id=closed.pk, reason="unreachable", by=None)
    posting = JobPostingFactory.create(role=RoleFactory.create())
    app = application_create(candidate=candidate, posting=posting, by=user, note="fuzz")
    application_transition(application_id=app.pk, to="submitted", by=user)
    lead = lead_ingest(partner=None, data=_person(3)).lead
    today = timezone.localdate()
    free = slots_for_range(
        date_from=today, date_to=today + timedelta(days=40), kind="career", now=timezone.now()
    )
    booked = booking_create(start=free[0].start, kind="career", mode="online", lead_id=lead.pk)
    REAL.update(
        {
            "/api/v1/candidates/": str(candidate.pk),
            "/api/v1/applications/": app.pk,
            "/api/v1/postings/": posting.pk,
            "/api/v1/consultations/manage/": booked.manage_token,
        }
    )
    client = Client()
    client.force_login(user)
    session = client.cookies["sessionid"].value
    # Cookies as the case's own (the WSGI test client replaces a Cookie header with its jar).
    yield request.param, {"sessionid": session, "csrftoken": CSRF}
    REAL.clear()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@staff_schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_operation_conforms_to_the_schema_for_staff(case, staff_headers):
    # positive_data_acceptance is left out as for partners (tests/test_openapi.py): the API's
    # rules are stricter than JSON Schema can say.
    role, cookies = staff_headers
    # The session replaces the cookie schemathesis drew for the document's cookie auth; a case
    # drawn without it (a negative one: no credentials) is sent without it.
    if case.cookies and "sessionid" in case.cookies:
        case.cookies = {**case.cookies, **cookies}
    response = case.call_and_validate(
        headers={"X-CSRFToken": CSRF},
        # ignored_auth replays the case with other credentials but keeps the case's cookies,
        # the real session among them: it would always "succeed". Refusing anonymous and
        # partner callers is tested per endpoint (tests/leads/candidates/test_apis_advisor.py,
        # tests/leads/placements/test_applications_api.py, tests/roles/test_posting_apis.py).
        excluded_checks=[schemathesis.checks.positive_data_acceptance, schemathesis.checks.ignored_auth],
    )
    SEEN.setdefault((role, case.operation.label), set()).add(response.status_code)


# Public or partner-only operations: a staff session is no credential there.
NOT_FOR_STAFF = {
    "POST /api/v1/leads/",
    "GET /api/v1/leads/",
    "GET /api/v1/leads/{lead_id}/",
    "GET /api/v1/partner/stats/",
    "GET /api/v1/partner/statements/",
    "GET /api/v1/partner/statements/{number}/",
    "GET /api/v1/partner/webhook-endpoints/",
    "POST /api/v1/partner/webhook-endpoints/",
    "GET /api/v1/partner/webhook-endpoints/{endpoint_id}/",
    "DELETE /api/v1/partner/webhook-endpoints/{endpoint_id}/",
    "GET /api/v1/partner/webhook-endpoints/{endpoint_id}/deliveries/",
    "POST /api/v1/partner/webhook-endpoints/{endpoint_id}/replay/",
}


def test_the_fuzzing_got_past_the_door_of_every_staff_operation():
    """Runs after the fuzzing above (same module, in order): every operation answered each
    role at least once with something other than 401, 403 or 404."""
    assert SEEN, "run with the fuzzing test above"
    door = {401, 403, 404}
    stuck = sorted(key for key, statuses in SEEN.items() if statuses <= door and key[1] not in NOT_FOR_STAFF)
    assert stuck == []
