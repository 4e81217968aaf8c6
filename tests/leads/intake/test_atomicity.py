"""A lead and its after-effects are written in one transaction (CONTRACT section 3: "recorded
in the same transaction"), proven by making the database refuse the outbox row, the second
write, and finding nothing of the first one left.

The failure is injected in the database (a trigger), not in Python: intake writes its outbox
rows in two ways, through `outbox_enqueue` on the general path and inside its one statement on
PostgreSQL's fast path for a new person, and the trigger reaches both the same way. The tests
run as requests do, in autocommit (`transaction=True`), so that what is left is what the
database really kept."""

from typing import Any

import pytest
from django.test import Client

from core.models import IdempotencyRecord, OutboxMessage
from leads.models import Candidate, Lead
from tests.db_faults import assert_refused, outbox_insert_fails
from tests.leads.conftest import lead_body
from tests.partners import PartnerClient

pytestmark = pytest.mark.django_db(transaction=True)


def _post(partner: PartnerClient, body: dict[str, Any], key: str | None) -> Any:
    # As a partner's server sees it: the exception ends as a 500, not in the test.
    headers = partner.headers(**({"Idempotency-Key": key} if key else {}))
    return Client(raise_request_exception=False).post(
        "/api/v1/leads/", body, content_type="application/json", headers=headers
    )


KEYS = pytest.mark.parametrize("key", [None, "retry-1"], ids=["no key", "with an idempotency key"])


@KEYS
def test_a_new_persons_lead_whose_after_effects_fail_leaves_no_candidate_lead_or_outbox_row(partner, key):
    # PostgreSQL: the fast path's one statement (candidate, lead, outbox rows, stored answer);
    # SQLite: the general path's transaction. The refused row is the second of the two effects.
    body = lead_body(email="new@example.com")
    with outbox_insert_fails("lead.contact_sla"):
        response = _post(partner, body, key)

    assert_refused(response)
    assert Candidate.objects.count() == Lead.objects.count() == OutboxMessage.objects.count() == 0
    assert IdempotencyRecord.objects.count() == 0  # no stored answer; the key was given back
    # The partner's retry is recorded afresh, not replayed and not refused.
    retry = _post(partner, body, key)
    assert (retry.status_code, retry.json()["existing_candidate"]) == (201, False)
    assert "Idempotent-Replayed" not in retry
    assert OutboxMessage.objects.filter(subject=f"lead:{retry.json()['id']}").count() == 2


@KEYS
def test_a_known_persons_lead_whose_after_effects_fail_leaves_the_person_as_they_were(partner, key):
    # The general path on both databases (on PostgreSQL the fast path writes nothing for a
    # known email and hands over): find and lock the person, insert the lead, fold it into
    # the person, then the outbox rows.
    first = partner.post(lead_body(email="known@example.com"))
    assert first.status_code == 201
    candidate = Candidate.objects.get()
    assert (candidate.prefecture, candidate.current_occupation) == ("", "")
    body = lead_body(email="known@example.com", prefecture="13", current_occupation="retail")

    with outbox_insert_fails("lead.contact_sla"):
        response = _post(partner, body, key)

    assert_refused(response)
    assert list(Lead.objects.values_list("id", flat=True)) == [candidate.credited_lead_id]
    candidate.refresh_from_db()
    assert (candidate.prefecture, candidate.current_occupation) == ("", "")  # nothing absorbed
    assert set(OutboxMessage.objects.values_list("subject", flat=True)) == {f"lead:{first.json()['id']}"}
    assert IdempotencyRecord.objects.count() == 0
    retry = _post(partner, body, key)
    assert (retry.status_code, retry.json()["existing_candidate"]) == (201, True)
    assert Candidate.objects.count() == 1
    candidate.refresh_from_db()
    assert (candidate.prefecture, candidate.current_occupation) == ("13", "retail")
    assert OutboxMessage.objects.count() == 4
