"""Someone else's tooling can use the API: a typed Python client generated from /api/schema/
with openapi-python-client (in a temporary folder, never committed) drives a whole scenario
against a live server, and every answer parses into the generated models. A partner posts a
lead, reads it and its funnel; an advisor lists candidates, opens one, moves its stage, logs
a call, recommends it for a posting and records the placement; the candidate books from the
lead's link, moves the booking and cancels it."""

import importlib
import json
import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from accounts.models import Groups
from accounts.services import staff_user_create
from consultations.services import advisor_onboard
from tests.partners import lead_body
from tests.roles.factories import JobPostingFactory

pytestmark = pytest.mark.django_db(transaction=True)

GENERATOR = Path(sys.executable).with_name("openapi-python-client")


@pytest.fixture
def generated(live_server: Any, tmp_path: Path) -> Iterator[ModuleType]:
    """The client package, generated from the live server's document."""
    request = urllib.request.Request(f"{live_server.url}/api/schema/", headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        (tmp_path / "schema.json").write_text(json.dumps(json.load(answer)))
    # The generator formats its output with ruff, found on PATH (the venv's).
    env = {**os.environ, "PATH": f"{GENERATOR.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            "schema.json",
            "--output-path",
            "urakata_client",
            "--meta",
            "none",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr  # nothing skipped
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module("urakata_client")
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n == "urakata_client" or n.startswith("urakata_client.")]:
            del sys.modules[name]
        shutil.rmtree(tmp_path / "urakata_client", ignore_errors=True)


def _api(package: ModuleType, name: str) -> ModuleType:
    return importlib.import_module(f"{package.__name__}.api.{name}")


def _model(package: ModuleType, name: str) -> Any:
    return getattr(importlib.import_module(f"{package.__name__}.models"), name)


def _ok(response: Any, status: int, model: Any) -> Any:
    assert response.status_code == status, response.content
    assert isinstance(response.parsed, model), response.parsed
    return response.parsed


def test_a_generated_client_drives_partner_advisor_and_candidate(generated, live_server, make_partner):
    client_module = importlib.import_module(f"{generated.__name__}.client")
    for name in (Groups.ADVISORS, Groups.MANAGERS):
        Group.objects.get_or_create(name=name)
    advisor = staff_user_create(email="aoki@urakata.example", display_name="Aoki", group=Groups.ADVISORS)
    advisor_onboard(email="sato@urakata.example", display_name="佐藤 美咲")
    posting = JobPostingFactory.create()
    partner_key = make_partner("generated").key

    # The partner: its key as the bearer token.
    partner = client_module.AuthenticatedClient(base_url=live_server.url, token=partner_key)
    body = _model(generated, "LeadCreateInputRequest").from_dict(lead_body(external_id="gen-1"))
    created = _ok(
        _api(generated, "leads.leads_create").sync_detailed(client=partner, body=body),
        201,
        _model(generated, "LeadCreated"),
    )
    lead = _ok(
        _api(generated, "leads.leads_retrieve").sync_detailed(created.id, client=partner),
        200,
        _model(generated, "LeadStatus"),
    )
    assert (lead.external_id, str(lead.status)) == ("gen-1", "received")
    stats = _ok(
        _api(generated, "partner.partner_stats").sync_detailed(client=partner),
        200,
        _model(generated, "PartnerStats"),
    )
    assert stats.leads == 1

    # The advisor: a session cookie and its CSRF token (no bearer token is read there).
    session = Client()
    session.force_login(advisor)
    csrf = "c" * 32
    staff = client_module.AuthenticatedClient(
        base_url=live_server.url,
        token="-",  # the generated client always sends a token: here in a header nobody reads
        prefix="",
        auth_header_name="X-Unused",
        cookies={"sessionid": session.cookies["sessionid"].value, "csrftoken": csrf},
        headers={"X-CSRFToken": csrf, "Accept-Language": "en"},
    )
    page = _ok(
        _api(generated, "advisor_candidates.candidates_list").sync_detailed(client=staff),
        200,
        _model(generated, "PaginatedCandidateListOutputList"),
    )
    (listed,) = page.results
    candidate = _ok(
        _api(generated, "advisor_candidates.candidates_retrieve").sync_detailed(listed.id, client=staff),
        200,
        _model(generated, "CandidateDetailOutput"),
    )
    assert candidate.closed_reason is None  # blank choices are null, as the document says
    mine = _model(generated, "CandidateAssignInputRequest").from_dict({"advisor": "me"})
    assigned = _ok(
        _api(generated, "advisor_candidates.candidates_assign").sync_detailed(
            candidate.id, client=staff, body=mine
        ),
        200,
        _model(generated, "CandidateDetailOutput"),
    )
    assert assigned.advisor.display_name == "Aoki"
    stage = _model(generated, "CandidateStageInputRequest").from_dict({"stage": "contacting"})
    moved = _ok(
        _api(generated, "advisor_candidates.candidates_stage_update").sync_detailed(
            candidate.id, client=staff, body=stage
        ),
        200,
        _model(generated, "CandidateDetailOutput"),
    )
    assert str(moved.stage) == "contacting"
    call = _model(generated, "CandidateCallInputRequest").from_dict(
        {"outcome": "reached", "note": "電話した"}
    )
    called = _ok(
        _api(generated, "advisor_candidates.candidates_calls_create").sync_detailed(
            candidate.id, client=staff, body=call
        ),
        200,
        _model(generated, "CandidateDetailOutput"),
    )
    assert str(called.stage) == "contacted"

    applications = _api(generated, "applications.applications_create")
    application = _ok(
        applications.sync_detailed(
            client=staff,
            body=_model(generated, "ApplicationCreateInputRequest").from_dict(
                {"candidate": str(candidate.id), "posting": posting.pk}
            ),
        ),
        201,
        _model(generated, "ApplicationDetailOutput"),
    )
    transition = _api(generated, "applications.applications_transition")
    for to in ("submitted", "interview", "offer"):
        step = _model(generated, "ApplicationTransitionInputRequest").from_dict({"to": to})
        application = _ok(
            transition.sync_detailed(application.id, client=staff, body=step),
            200,
            _model(generated, "ApplicationDetailOutput"),
        )
    start = timezone.localdate() + timedelta(days=30)
    placement = _model(generated, "PlacementInputRequest").from_dict(
        {"start_date": start.isoformat(), "annual_salary_jpy": 3_600_000}
    )
    placed = _ok(
        _api(generated, "applications.applications_placement_create").sync_detailed(
            application.id, client=staff, body=placement
        ),
        201,
        _model(generated, "PlacementOutput"),
    )
    accepted = _ok(
        _api(generated, "applications.applications_retrieve").sync_detailed(application.id, client=staff),
        200,
        _model(generated, "ApplicationDetailOutput"),
    )
    assert (placed.start_date, str(accepted.stage), accepted.placement.id) == (start, "accepted", placed.id)

    # The candidate: the lead's booking link is the only credential.
    public = client_module.AuthenticatedClient(
        base_url=live_server.url, token="-", prefix="", auth_header_name="X-Unused"
    )
    today = timezone.localdate()
    slots = _ok(
        _api(generated, "consultations.consultation_slots_list").sync_detailed(
            client=public, from_=today, to=today + timedelta(days=27)
        ),
        200,
        _model(generated, "SlotListOutput"),
    )
    first, later = slots.slots[0], slots.slots[-1]
    booking_body = _model(generated, "BookingCreateInputRequest").from_dict(
        {"booking_token": created.booking_token, "start": first.start.isoformat(), "mode": "online"}
    )
    booked = _ok(
        _api(generated, "consultations.consultation_bookings_create").sync_detailed(
            client=public, body=booking_body
        ),
        201,
        _model(generated, "BookingCreatedOutput"),
    )
    reschedule = _model(generated, "BookingRescheduleInputRequest").from_dict(
        {"start": later.start.isoformat()}
    )
    rescheduled = _ok(
        _api(generated, "consultations.consultation_manage_reschedule").sync_detailed(
            booked.manage_token, client=public, body=reschedule
        ),
        200,
        _model(generated, "BookingOutput"),
    )
    assert rescheduled.start == later.start
    cancel = _model(generated, "BookingCancelInputRequest").from_dict({"reason": "都合が悪くなった"})
    cancelled = _ok(
        _api(generated, "consultations.consultation_manage_cancel").sync_detailed(
            booked.manage_token, client=public, body=cancel
        ),
        200,
        _model(generated, "BookingOutput"),
    )
    assert str(cancelled.status) == "cancelled"
    # Keep-alive connections would keep the live server's threads, and their database
    # connections, open past the test.
    for used in (partner, staff, public):
        used.get_httpx_client().close()
