"""The tables every lead writes to carry no index that nothing reads: each one is paid for
on every INSERT of lead intake (a candidate, a lead and two outbox rows)."""

import pytest
from django.db import connection

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.postgresql("reads the pg_indexes catalogue: the index design is PostgreSQL's"),
]


def _indexes(table: str) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
        return dict(cursor.fetchall())


@pytest.mark.parametrize("table", ["core_outboxmessage", "leads_candidate", "leads_lead"])
def test_it_has_no_pattern_ops_index_nothing_queries(table):
    # Django adds a varchar_pattern_ops twin to every unique or db_index CharField on
    # PostgreSQL, for LIKE 'prefix%'; our searches use trigram indexes instead.
    assert [name for name, sql in _indexes(table).items() if "pattern_ops" in sql] == []


def test_the_outbox_keeps_its_unique_key_and_the_indexes_it_reads():
    assert sorted(_indexes("core_outboxmessage")) == [
        "core_outboxmessage_pkey",
        "outbox_key_unique",
        "outbox_live_due_idx",
        "outbox_subject_idx",
    ]


def test_foreign_keys_covered_by_a_composite_index_have_no_index_of_their_own():
    assert "leads_candidate_advisor_id_ebbe901b" not in _indexes("leads_candidate")
    assert "leads_lead_partner_id_0fa90f5e" not in _indexes("leads_lead")
    assert {"candidate_advisor_stage_idx", "candidate_email_unique", "candidate_phone_unique"} <= set(
        _indexes("leads_candidate")
    )
