"""Applications (推薦): stage rules, what the candidate and the partner see, one per candidate
and posting, interview rounds, placements, merging duplicates, the timeline's rows."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from accounts.models import Groups
from accounts.services import staff_user_create
from leads.candidates.merge import candidate_merge
from leads.candidates.pipeline import candidate_close
from leads.models import (
    Application,
    ApplicationEvent,
    Candidate,
    EmployerReveal,
    InterviewRound,
    Placement,
    TimelineEvent,
)
from leads.placements.errors import ApplicationError
from leads.placements.fees import add_months, left_early, placement_default_fee, placement_record_leaving
from leads.placements.merge import applications_merge
from leads.placements.selectors import application_events_for_candidate, application_stage_counts
from leads.placements.services import (
    TRANSITIONS,
    application_accept,
    application_create,
    application_transition,
    employer_reveal,
    interview_round_schedule,
)
from roles.models import EmployerFeeTerms, JobPosting
from tests.clock import clock_at
from tests.leads.conftest import lead_body
from tests.roles.factories import EmployerFactory, JobPostingFactory

pytestmark = pytest.mark.django_db

# Written around fixed dates (offers in late November 2026, starts in January 2027).
_clock = clock_at("2026-11-20T10:00:00+09:00")

S = Application.Stage
JST = ZoneInfo("Asia/Tokyo")


@pytest.fixture
def advisor():
    return staff_user_create(email="adv@urakata.example", display_name="Adviser", group=Groups.ADVISORS)


@pytest.fixture
def lead(partner):
    return partner.post(lead_body()).json()


@pytest.fixture
def candidate(lead):
    return Candidate.objects.get(leads__id=lead["id"])


@pytest.fixture
def posting():
    return JobPostingFactory.create(employer=EmployerFactory.create(fee_rate_percent=Decimal("35.00")))


def _at(application: Application, stage: str, *, by=None) -> Application:
    """Put an application in `stage` directly (the rules are tested one step at a time)."""
    Application.objects.filter(pk=application.pk).update(stage=stage)
    application.refresh_from_db()
    return application


# --- stage rules -----------------------------------------------------------------------------

ALLOWED = sorted((frm, to) for frm, targets in TRANSITIONS.items() for to in targets if to != S.ACCEPTED)


def test_the_transition_table_is_the_documented_one():
    assert {frm: sorted(to) for frm, to in TRANSITIONS.items()} == {
        "recommended": ["declined", "submitted"],
        "submitted": ["document_screening", "interview", "rejected", "withdrawn"],
        "document_screening": ["interview", "rejected", "withdrawn"],
        "interview": ["offer", "rejected", "withdrawn"],
        "offer": ["accepted", "declined", "rejected"],
        "accepted": [],
        "declined": [],
        "rejected": [],
        "withdrawn": [],
    }


@pytest.mark.parametrize(("frm", "to"), ALLOWED)
def test_every_allowed_transition_is_recorded_with_actor_and_time(candidate, posting, advisor, frm, to):
    application = _at(application_create(candidate=candidate, posting=posting, by=advisor), frm)
    with time_machine.travel("2026-11-25T15:00:00+09:00", tick=False):
        application_transition(application_id=application.pk, to=to, by=advisor, note="phoned")

    application.refresh_from_db()
    assert application.stage == to
    assert application.stage_changed_at == datetime(2026, 11, 25, 15, 0, tzinfo=JST)
    event = ApplicationEvent.objects.filter(kind=ApplicationEvent.Kind.STAGE_CHANGED).get()
    assert (event.from_stage, event.to_stage, event.actor, event.note, event.candidate_id) == (
        frm,
        to,
        advisor,
        "phoned",
        candidate.pk,
    )
    assert event.occurred_at == datetime(2026, 11, 25, 15, 0, tzinfo=JST)


REFUSED = [
    (S.RECOMMENDED, S.INTERVIEW),  # not yet submitted to the employer
    (S.RECOMMENDED, S.REJECTED),  # the employer has not seen it
    (S.SUBMITTED, S.OFFER),  # no offer without an interview
    (S.INTERVIEW, S.SUBMITTED),  # never backwards
    (S.OFFER, S.WITHDRAWN),  # an offer is declined, not withdrawn
    (S.REJECTED, S.SUBMITTED),  # terminal
    (S.WITHDRAWN, S.RECOMMENDED),  # terminal
    (S.DECLINED, S.OFFER),  # terminal
]


@pytest.mark.parametrize(("frm", "to"), REFUSED)
def test_a_refused_transition_changes_nothing(candidate, posting, advisor, frm, to):
    application = _at(application_create(candidate=candidate, posting=posting, by=advisor), frm)

    with pytest.raises(ApplicationError) as error:
        application_transition(application_id=application.pk, to=to, by=advisor)

    assert error.value.code == "transition"
    application.refresh_from_db()
    assert application.stage == frm
    assert list(ApplicationEvent.objects.values_list("kind", flat=True)) == ["created"]


def test_accepting_needs_the_placement(candidate, posting, advisor):
    application = _at(application_create(candidate=candidate, posting=posting, by=advisor), S.OFFER)

    with pytest.raises(ApplicationError) as error:
        application_transition(application_id=application.pk, to=S.ACCEPTED, by=advisor)

    assert error.value.code == "placement_required"
    application.refresh_from_db()
    assert application.stage == S.OFFER


def test_moving_to_the_same_stage_changes_nothing(candidate, posting, advisor):
    application = application_create(candidate=candidate, posting=posting, by=advisor)

    application_transition(application_id=application.pk, to=S.RECOMMENDED, by=advisor)

    assert ApplicationEvent.objects.count() == 1


# --- creating -------------------------------------------------------------------------------


def test_creating_records_the_recommendation(candidate, posting, advisor):
    with time_machine.travel("2026-11-25T10:00:00+09:00", tick=False):
        application = application_create(candidate=candidate, posting=posting, by=advisor, note="合いそう")

    assert (application.stage, application.advisor, application.note) == (S.RECOMMENDED, advisor, "合いそう")
    event = ApplicationEvent.objects.get()
    assert (event.kind, event.from_stage, event.to_stage, event.actor) == (
        "created",
        "",
        "recommended",
        advisor,
    )


def test_one_application_per_candidate_and_posting(candidate, posting, advisor):
    application_create(candidate=candidate, posting=posting, by=advisor)

    with pytest.raises(ApplicationError) as error:
        application_create(candidate=candidate, posting=posting, by=advisor)

    assert error.value.code == "duplicate"
    assert Application.objects.count() == 1
    assert ApplicationEvent.objects.count() == 1


def test_the_database_refuses_a_second_application_too(candidate, posting, advisor):
    application_create(candidate=candidate, posting=posting, by=advisor)
    twin = Application(candidate=candidate, posting=posting, stage_changed_at=posting.created_at)

    with pytest.raises(ValidationError):
        twin.full_clean()


@pytest.mark.parametrize(
    "status", [JobPosting.Status.DRAFT, JobPosting.Status.PAUSED, JobPosting.Status.CLOSED]
)
def test_only_an_open_posting_takes_applications(candidate, advisor, status):
    posting = JobPostingFactory.create(status=status)

    with pytest.raises(ApplicationError) as error:
        application_create(candidate=candidate, posting=posting, by=advisor)

    assert error.value.code == "posting"
    assert Application.objects.count() == 0


# --- effects on the candidate and what the partner sees -------------------------------------


@pytest.mark.parametrize(
    ("stages", "expected"),
    [
        ([], ("applying", "applied")),
        ([S.SUBMITTED], ("applying", "applied")),
        ([S.SUBMITTED, S.DOCUMENT_SCREENING], ("applying", "applied")),
        ([S.SUBMITTED, S.INTERVIEW], ("interviewing", "applied")),
        ([S.SUBMITTED, S.INTERVIEW, S.OFFER], ("offered", "applied")),
    ],
)
def test_the_candidate_and_the_partner_follow_the_application(partner, candidate, advisor, stages, expected):
    application = application_create(candidate=candidate, posting=JobPostingFactory.create(), by=advisor)
    for stage in stages:
        application_transition(application_id=application.pk, to=stage, by=advisor)

    candidate.refresh_from_db()
    lead_id = candidate.leads.get().id
    assert (candidate.stage, partner.get(f"/api/v1/leads/{lead_id}/").json()["status"]) == expected


def test_an_accepted_offer_places_the_candidate_for_the_partner(partner, lead, candidate, posting, advisor):
    application = _at(application_create(candidate=candidate, posting=posting, by=advisor), S.OFFER)

    application_accept(
        application_id=application.pk, by=advisor, start_date=date(2027, 1, 4), annual_salary_jpy=3_600_000
    )

    candidate.refresh_from_db()
    assert (candidate.stage, candidate.partner_status) == ("placed", "placed")
    body = partner.get(f"/api/v1/leads/{lead['id']}/").json()
    assert body["status"] == "placed"


def test_closing_an_application_moves_the_candidate_neither_back_nor_closed(candidate, posting, advisor):
    application = application_create(candidate=candidate, posting=posting, by=advisor)
    application_transition(application_id=application.pk, to=S.SUBMITTED, by=advisor)
    application_transition(application_id=application.pk, to=S.INTERVIEW, by=advisor)

    application_transition(application_id=application.pk, to=S.REJECTED, by=advisor)

    candidate.refresh_from_db()
    assert (candidate.stage, candidate.is_closed, candidate.partner_status) == (
        "interviewing",
        False,
        "applied",
    )


def test_a_second_application_never_moves_the_candidate_back(candidate, posting, advisor):
    first = application_create(candidate=candidate, posting=posting, by=advisor)
    application_transition(application_id=first.pk, to=S.SUBMITTED, by=advisor)
    application_transition(application_id=first.pk, to=S.INTERVIEW, by=advisor)

    application_create(candidate=candidate, posting=JobPostingFactory.create(), by=advisor)

    candidate.refresh_from_db()
    assert candidate.stage == "interviewing"


def test_recommending_a_closed_candidate_reopens_them(candidate, posting, advisor):
    candidate_close(candidate_id=candidate.pk, reason=Candidate.ClosedReason.UNREACHABLE, by=advisor)

    application_create(candidate=candidate, posting=posting, by=advisor)

    candidate.refresh_from_db()
    assert (candidate.is_closed, candidate.stage, candidate.partner_status) == (False, "applying", "applied")


# --- interview rounds -------------------------------------------------------------------------


def test_interview_rounds_are_numbered_and_move_the_application_to_interview(candidate, posting, advisor):
    application = _at(application_create(candidate=candidate, posting=posting, by=advisor), S.SUBMITTED)
    first_at = datetime(2026, 12, 1, 14, 0, tzinfo=JST)
    second_at = datetime(2026, 12, 8, 10, 0, tzinfo=JST)

    one = interview_round_schedule(application_id=application.pk, scheduled_at=first_at, by=advisor)
    two = interview_round_schedule(
        application_id=application.pk, scheduled_at=second_at, by=advisor, note="役員"
    )

    assert [(r.number, r.scheduled_at, r.note) for r in InterviewRound.objects.order_by("number")] == [
        (1, first_at, ""),
        (2, second_at, "役員"),
    ]
    assert (one.number, two.number) == (1, 2)
    application.refresh_from_db()
    candidate.refresh_from_db()
    assert (application.stage, candidate.stage) == ("interview", "interviewing")
    assert list(ApplicationEvent.objects.order_by("pk").values_list("kind", "to_stage")) == [
        ("created", "recommended"),
        ("stage_changed", "interview"),
        ("interview_scheduled", ""),
        ("interview_scheduled", ""),
    ]


def test_no_interview_for_a_recommendation_not_yet_submitted(candidate, posting, advisor):
    application = application_create(candidate=candidate, posting=posting, by=advisor)

    with pytest.raises(ApplicationError):
        interview_round_schedule(
            application_id=application.pk, scheduled_at=datetime(2026, 12, 1, tzinfo=JST), by=advisor
        )

    assert InterviewRound.objects.count() == 0


# --- placement -----------------------------------------------------------------------------------


def test_the_fee_defaults_to_the_employers_rate_rounded_half_up():
    assert placement_default_fee(annual_salary_jpy=3_600_000, fee_rate_percent=Decimal("35.00")) == 1_260_000
    assert placement_default_fee(annual_salary_jpy=3_000_001, fee_rate_percent=Decimal("30.00")) == 900_000
    assert placement_default_fee(annual_salary_jpy=3_000_005, fee_rate_percent=Decimal("30.00")) == 900_002


def test_accepting_records_the_placement_with_its_defaults(candidate, posting, advisor):
    application = _at(application_create(candidate=candidate, posting=posting, by=advisor), S.OFFER)

    with time_machine.travel("2026-11-25T10:00:00+09:00", tick=False):
        placement = application_accept(
            application_id=application.pk,
            by=advisor,
            start_date=date(2027, 1, 4),
            annual_salary_jpy=3_600_000,
        )

    placement.refresh_from_db()
    assert (
        placement.placed_on,
        placement.start_date,
        placement.fee_rate_percent,
        placement.fee_jpy,
        placement.employment_type,
        placement.is_permanent,
        placement.guarantee_until,
        placement.left_on,
        placement.refund_jpy,
    ) == (
        date(2026, 11, 25),
        date(2027, 1, 4),
        Decimal("35.00"),
        1_260_000,
        "full_time",
        True,
        date(2027, 4, 4),
        None,
        None,
    )
    application.refresh_from_db()
    assert application.stage == S.ACCEPTED
    assert list(ApplicationEvent.objects.order_by("pk").values_list("kind", "to_stage")) == [
        ("created", "recommended"),
        ("stage_changed", "accepted"),
        ("placed", ""),
    ]


def test_a_placement_takes_a_given_fee_and_guarantee_and_the_posting_employment_type(candidate, advisor):
    posting = JobPostingFactory.create(employment_type=JobPosting.EmploymentType.CONTRACT)
    application = _at(application_create(candidate=candidate, posting=posting, by=advisor), S.OFFER)

    placement = application_accept(
        application_id=application.pk,
        by=advisor,
        placed_on=date(2026, 11, 20),
        start_date=date(2026, 12, 1),
        annual_salary_jpy=3_000_000,
        fee_jpy=500_000,
        guarantee_until=date(2027, 2, 28),
    )

    assert (
        placement.fee_jpy,
        placement.guarantee_until,
        placement.employment_type,
        placement.is_permanent,
    ) == (
        500_000,
        date(2027, 2, 28),
        "contract",
        False,
    )


def test_a_placement_starting_before_it_was_agreed_is_refused_and_nothing_moves(candidate, posting, advisor):
    application = _at(application_create(candidate=candidate, posting=posting, by=advisor), S.OFFER)

    with pytest.raises(ValidationError):
        application_accept(
            application_id=application.pk,
            by=advisor,
            placed_on=date(2026, 12, 1),
            start_date=date(2026, 11, 1),
            annual_salary_jpy=3_000_000,
        )

    application.refresh_from_db()
    candidate.refresh_from_db()
    assert (application.stage, candidate.stage, Placement.objects.count()) == ("offer", "applying", 0)


def test_only_an_offer_can_be_accepted(candidate, posting, advisor):
    application = _at(application_create(candidate=candidate, posting=posting, by=advisor), S.INTERVIEW)

    with pytest.raises(ApplicationError):
        application_accept(
            application_id=application.pk, by=advisor, start_date=date(2027, 1, 4), annual_salary_jpy=1
        )

    assert Placement.objects.count() == 0


@pytest.mark.parametrize(
    ("left_on", "early"),
    [(date(2027, 7, 3), True), (date(2027, 7, 4), False), (None, False)],
)
def test_leaving_within_six_months_is_early(candidate, posting, advisor, left_on, early):
    application = _at(application_create(candidate=candidate, posting=posting, by=advisor), S.OFFER)
    placement = application_accept(
        application_id=application.pk, by=advisor, start_date=date(2027, 1, 4), annual_salary_jpy=3_600_000
    )
    if left_on is not None:
        placement = placement_record_leaving(placement_id=placement.pk, left_on=left_on, by=advisor)

    assert left_early(placement=placement) is early


def test_add_months_keeps_to_the_last_day_of_a_short_month():
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2027, 8, 31), 6) == date(2028, 2, 29)
    assert add_months(date(2026, 12, 15), 1) == date(2027, 1, 15)


def test_the_refund_is_computed_and_recorded_with_the_leaving(candidate, posting, advisor):
    EmployerFeeTerms.objects.create(
        employer=posting.employer,
        effective_from=date(2026, 1, 1),
        rate_percent=Decimal("35.00"),
        refund_bands=[{"within_days": 90, "percent": 50}],
    )
    application = _at(application_create(candidate=candidate, posting=posting, by=advisor), S.OFFER)
    placement = application_accept(
        application_id=application.pk, by=advisor, start_date=date(2027, 1, 4), annual_salary_jpy=3_600_000
    )

    with time_machine.travel("2027-02-12T10:00:00+09:00", tick=False):
        placement_record_leaving(placement_id=placement.pk, left_on=date(2027, 2, 10), by=advisor)

    placement.refresh_from_db()
    assert (placement.left_on, placement.refund_jpy) == (date(2027, 2, 10), 630_000)
    event = ApplicationEvent.objects.get(kind=ApplicationEvent.Kind.LEFT_EARLY)
    assert event.data == {
        "left_on": "2027-02-10",
        "refund_jpy": 630_000,
        "credit_note": "CN-2027-000001",
        "within_6_months": True,
    }


def test_an_impossible_leaving_is_refused(candidate, posting, advisor):
    application = _at(application_create(candidate=candidate, posting=posting, by=advisor), S.OFFER)
    placement = application_accept(
        application_id=application.pk, by=advisor, start_date=date(2027, 1, 4), annual_salary_jpy=3_600_000
    )

    with pytest.raises(ValidationError):  # before the start
        placement_record_leaving(placement_id=placement.pk, left_on=date(2027, 1, 3), by=advisor)

    placement.refresh_from_db()
    assert (placement.left_on, placement.refund_jpy) == (None, None)


# --- the timeline's rows, the pipeline counts, merging ---------------------------------------------


def test_the_timeline_reads_a_candidates_application_events_newest_first(
    candidate, posting, advisor, django_assert_num_queries
):
    with time_machine.travel("2026-11-25T10:00:00+09:00", tick=False):
        application = application_create(candidate=candidate, posting=posting, by=advisor)
    with time_machine.travel("2026-11-26T10:00:00+09:00", tick=False):
        application_transition(application_id=application.pk, to=S.SUBMITTED, by=advisor, note="送付")

    with django_assert_num_queries(1):  # the events with their posting and actor
        rows = application_events_for_candidate(candidate_id=candidate.pk)

    assert [(r.kind, r.to_stage, r.posting_title, r.actor_name, r.note) for r in rows] == [
        ("stage_changed", "submitted", posting.title, "Adviser", "送付"),
        ("created", "recommended", posting.title, "Adviser", ""),
    ]
    assert rows[0].occurred_at == datetime(2026, 11, 26, 10, 0, tzinfo=JST)


def test_stage_counts_list_every_stage(candidate, advisor, django_assert_num_queries):
    for stage in (S.SUBMITTED, S.SUBMITTED, S.OFFER):
        _at(application_create(candidate=candidate, posting=JobPostingFactory.create(), by=advisor), stage)

    with django_assert_num_queries(1):
        counts = application_stage_counts(applications=Application.objects.all())

    assert counts == dict.fromkeys(S.values, 0) | {"submitted": 2, "offer": 1}


def _second_candidate(partner) -> Candidate:
    body = partner.post(lead_body(email="other@example.com", phone="080-9999-0000")).json()
    return Candidate.objects.get(leads__id=body["id"])


def test_merging_moves_applications_events_and_reveals(partner, candidate, posting, advisor):
    source = _second_candidate(partner)
    other_posting = JobPostingFactory.create()
    moved = _at(application_create(candidate=source, posting=other_posting, by=advisor), S.INTERVIEW)
    employer_reveal(candidate=source, posting=other_posting, by=advisor)

    counts = applications_merge(source=source, target=candidate, by=advisor)

    assert counts == {"applications": 1, "kept_on_source": 0, "reveals": 1}
    moved.refresh_from_db()
    assert moved.candidate == candidate
    assert set(ApplicationEvent.objects.values_list("candidate_id", flat=True)) == {candidate.pk}
    assert EmployerReveal.objects.get().candidate == candidate
    candidate.refresh_from_db()
    assert candidate.stage == "interviewing"  # the target follows what it took over
    assert ApplicationEvent.objects.filter(kind="merged").count() == 1


def test_merging_keeps_the_targets_application_for_the_same_posting(partner, candidate, posting, advisor):
    source = _second_candidate(partner)
    mine = _at(application_create(candidate=candidate, posting=posting, by=advisor), S.INTERVIEW)
    theirs = application_create(candidate=source, posting=posting, by=advisor)

    counts = applications_merge(source=source, target=candidate, by=advisor)

    assert counts == {"applications": 0, "kept_on_source": 1, "reveals": 0}
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.candidate, mine.stage) == (candidate, "interview")
    assert (theirs.candidate, theirs.stage) == (source, "declined")  # a recommendation is declined


def test_merging_refuses_to_drop_an_application_further_along(partner, candidate, posting, advisor):
    source = _second_candidate(partner)
    application_create(candidate=candidate, posting=posting, by=advisor)
    theirs = _at(application_create(candidate=source, posting=posting, by=advisor), S.OFFER)

    with pytest.raises(ApplicationError) as error:
        applications_merge(source=source, target=candidate, by=advisor)

    assert error.value.code == "merge_conflict"
    theirs.refresh_from_db()
    assert (theirs.candidate, theirs.stage) == (source, "offer")


def test_merging_duplicates_moves_their_applications(partner, candidate, posting, advisor):
    duplicate = _second_candidate(partner)
    moved = application_create(candidate=duplicate, posting=posting, by=advisor)

    candidate_merge(keep_id=candidate.pk, duplicate_id=duplicate.pk, by=advisor)

    moved.refresh_from_db()
    assert moved.candidate_id == candidate.pk
    merged = TimelineEvent.objects.get(candidate=candidate, kind="merged")
    assert merged.data["applications"] == 1
    assert "reveals" not in merged.data  # counts of zero are left out


def test_a_merge_conflict_on_applications_merges_nothing(partner, candidate, posting, advisor):
    duplicate = _second_candidate(partner)
    application_create(candidate=candidate, posting=posting, by=advisor)
    _at(application_create(candidate=duplicate, posting=posting, by=advisor), S.OFFER)

    with pytest.raises(ApplicationError):
        candidate_merge(keep_id=candidate.pk, duplicate_id=duplicate.pk, by=advisor)

    duplicate.refresh_from_db()
    assert (duplicate.is_closed, duplicate.leads.count()) == (False, 1)
    assert not TimelineEvent.objects.filter(kind="merged").exists()
