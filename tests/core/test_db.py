"""core.db.joined_read: the hot paths' hand-written read must give what the ORM gives."""

import uuid
from datetime import UTC, datetime

import pytest
from django.core.exceptions import FieldDoesNotExist

from core.db import joined_read, joined_read_new
from leads.intake.inputs import LeadInput
from leads.intake.services import lead_ingest
from leads.models import Candidate, Lead
from leads.partners.keys import partner_create

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.postgresql("prepared statements (psycopg): the ORM path they mirror runs on SQLite"),
]


@pytest.fixture
def lead() -> Lead:
    partner = partner_create(slug="media", name="Media")
    data = LeadInput(
        family_name="山田",
        given_name="太郎",
        email="taro@example.com",
        phone="+819012345678",
        consent_policy_version="2026-04",
        consent_agreed_at=datetime(2026, 1, 10, tzinfo=UTC),
        consent_third_party_provision=True,
        raw_payload={"name": "山田 太郎", "nested": {"n": 1}},
    )
    lead = lead_ingest(partner=partner, data=data).lead
    Lead.objects.filter(pk=lead.pk).update(desired_roles=["accounting", "general_affairs"])
    return lead


READ = joined_read_new(
    Lead,
    fields=["family_name", "desired_roles", "raw_payload", "created_at", "candidate"],
    related={"candidate": ["email", "phone", "consent_withdrawn_at"]},
    where="t.id = %s",
)


def test_it_reads_what_the_orm_reads_in_one_query(lead, django_assert_num_queries):
    orm = (
        Lead.objects.select_related("candidate")
        .only("family_name", "desired_roles", "raw_payload", "created_at", "candidate__email")
        .get(pk=lead.pk)
    )

    with django_assert_num_queries(1):
        read = joined_read(READ, [lead.pk])
        # Converted as the ORM converts: JSON to Python, timestamps aware, keys as UUIDs.
        assert read.desired_roles == ["accounting", "general_affairs"] == orm.desired_roles
        assert read.raw_payload == {"name": "山田 太郎", "nested": {"n": 1}} == orm.raw_payload
        assert read.created_at == orm.created_at
        assert read.created_at.tzinfo is not None
        assert read.pk == lead.pk
        assert isinstance(read.candidate_id, uuid.UUID)
        # The related row is attached as select_related attaches it.
        assert read.candidate.pk == lead.candidate_id
        assert read.candidate.email == "taro@example.com"
        assert read.candidate.phone == "+819012345678"
        assert read.candidate.consent_withdrawn_at is None


def test_columns_not_read_are_deferred_and_load_on_access(lead, django_assert_num_queries):
    read = joined_read(READ, [lead.pk])

    assert "given_name" in read.get_deferred_fields()
    assert "family_name" not in read.get_deferred_fields()
    with django_assert_num_queries(1):
        assert read.given_name == "太郎"
    with django_assert_num_queries(1):
        assert read.candidate.given_name == "太郎"


def test_no_row_is_none(lead):
    assert joined_read(READ, [uuid.uuid4()]) is None


def test_only_required_foreign_keys_and_known_fields_are_accepted():
    with pytest.raises(ValueError, match="not a required foreign key"):
        joined_read_new(Lead, fields=[], related={"partner": ["name"]}, where="t.id = %s")
    with pytest.raises(ValueError, match=r"no column \['nickname'\]"):
        joined_read_new(Candidate, fields=["nickname"], related={}, where="t.id = %s")
    with pytest.raises(FieldDoesNotExist):
        joined_read_new(Lead, fields=[], related={"advisor": ["email"]}, where="t.id = %s")
