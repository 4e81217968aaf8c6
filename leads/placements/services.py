"""Applications (推薦): every write goes through here.

Stages: recommended -> submitted -> document_screening -> interview -> offer -> accepted,
and the terminal outcomes declined (the candidate says no: to the recommendation or to the
offer), rejected (the employer says no, or rescinds an offer) and withdrawn (the candidate
pulls out during the selection). Document screening may be skipped (some employers
interview straight away). `accepted` is reached only with a placement
(`application_accept`), every other change with `application_transition`; both go through
`_transition`, which checks TRANSITIONS under the application's row lock and writes an
ApplicationEvent.

The candidate follows (leads.candidates.pipeline.candidate_advance_to, forward only): an
application in recommended/submitted/document_screening makes them `applying`, an interview
`interviewing`, an offer `offered`, an acceptance `placed`. Closing applications never
moves or closes the candidate.
"""

from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from leads.candidates.pipeline import candidate_advance_to
from leads.invoices.services import invoices_issue
from leads.invoices.terms import fee_for, terms_in_force
from leads.invoices.terms import guarantee_until as bands_guarantee_until
from leads.models import Application, ApplicationEvent, Candidate, EmployerReveal, InterviewRound, Placement
from leads.placements.errors import ApplicationError
from leads.placements.events import application_event_record
from leads.placements.fees import DEFAULT_GUARANTEE_DAYS
from leads.placements.followups import six_month_check_enqueue
from leads.placements.two_year_rule import two_year_rule_check
from roles.models import JobPosting

Stage = Application.Stage


CandidateStage = Candidate.Stage


TRANSITIONS: dict[str, frozenset[str]] = {
    Stage.RECOMMENDED: frozenset({Stage.SUBMITTED, Stage.DECLINED}),
    Stage.SUBMITTED: frozenset({Stage.DOCUMENT_SCREENING, Stage.INTERVIEW, Stage.REJECTED, Stage.WITHDRAWN}),
    Stage.DOCUMENT_SCREENING: frozenset({Stage.INTERVIEW, Stage.REJECTED, Stage.WITHDRAWN}),
    Stage.INTERVIEW: frozenset({Stage.OFFER, Stage.REJECTED, Stage.WITHDRAWN}),
    Stage.OFFER: frozenset({Stage.ACCEPTED, Stage.DECLINED, Stage.REJECTED}),
    Stage.ACCEPTED: frozenset(),
    Stage.DECLINED: frozenset(),
    Stage.REJECTED: frozenset(),
    Stage.WITHDRAWN: frozenset(),
}


TERMINAL = frozenset(stage for stage, targets in TRANSITIONS.items() if not targets)


ACTIVE = frozenset(Stage.values) - TERMINAL


# The candidate stage an application stage implies (forward only).
CANDIDATE_STAGE: dict[str, str] = {
    Stage.RECOMMENDED: CandidateStage.APPLYING,
    Stage.SUBMITTED: CandidateStage.APPLYING,
    Stage.DOCUMENT_SCREENING: CandidateStage.APPLYING,
    Stage.INTERVIEW: CandidateStage.INTERVIEWING,
    Stage.OFFER: CandidateStage.OFFERED,
    Stage.ACCEPTED: CandidateStage.PLACED,
}


def application_locked(application_id: int) -> Application:
    # Locks the application's row only, not the posting's: other applications for the same
    # posting move on in parallel.
    return (
        Application.objects.select_for_update(of=("self",))
        .select_related("posting__employer")
        .get(pk=application_id)
    )


def _candidate_follow(*, application: Application, by: User | None) -> None:
    target = CANDIDATE_STAGE.get(application.stage)
    if target is not None:
        candidate_advance_to(candidate_id=application.candidate_id, stage=target, by=by)


def posting_check_open(*, posting: JobPosting) -> None:
    """Only a posting that is recruiting receives applications (ApplicationError `posting`)."""
    if posting.status != JobPosting.Status.OPEN:
        raise ApplicationError(
            _("Only a posting that is recruiting can receive applications."), code="posting"
        )


@transaction.atomic
def application_create(
    *,
    candidate: Candidate,
    posting: JobPosting,
    by: User | None,
    note: str = "",
    own_request_reason: str = "",
    channel: str = "admin",
) -> Application:
    """Recommend the candidate for an open posting. A second application for the same
    candidate and posting is refused (code `duplicate`), also under concurrency: the
    database's unique constraint decides. The two-year rule applies
    (leads.placements.two_year_rule): a person placed in the last two years goes to another
    employer only with a manager's `own_request_reason`, recorded and audited (`channel`:
    where the manager recorded it, for the audit log)."""
    posting_check_open(posting=posting)
    own_request = two_year_rule_check(
        candidate=candidate, posting=posting, by=by, own_request_reason=own_request_reason
    )
    now = timezone.now()
    application = Application(
        candidate=candidate,
        posting=posting,
        advisor=by if by is not None else candidate.advisor,
        stage=Stage.RECOMMENDED,
        stage_changed_at=now,
        note=note,
    )
    try:
        with transaction.atomic():  # a savepoint: the outer transaction survives the conflict
            application.save(force_insert=True)
    except IntegrityError as exc:
        raise ApplicationError(
            _("This candidate has already been recommended for this posting."), code="duplicate"
        ) from exc
    application_event_record(
        application=application,
        kind=ApplicationEvent.Kind.CREATED,
        by=by,
        at=now,
        to_stage=Stage.RECOMMENDED,
        note=note,
    )
    if own_request is not None:
        own_request.record(application=application, at=now, channel=channel)
    _candidate_follow(application=application, by=by)
    return application


def _transition(
    application: Application, *, to: str, by: User | None, note: str, now: datetime
) -> Application:
    if to not in TRANSITIONS[application.stage]:
        raise ApplicationError(
            _("An application cannot move from %(from)s to %(to)s.")
            % {"from": Stage(application.stage).label, "to": Stage(to).label},
            code="transition",
        )
    previous = application.stage
    application.stage, application.stage_changed_at = to, now
    application.save(update_fields=["stage", "stage_changed_at", "updated_at"])
    application_event_record(
        application=application,
        kind=ApplicationEvent.Kind.STAGE_CHANGED,
        by=by,
        at=now,
        from_stage=previous,
        to_stage=to,
        note=note,
    )
    _candidate_follow(application=application, by=by)
    return application


@transaction.atomic
def application_transition(*, application_id: int, to: str, by: User | None, note: str = "") -> Application:
    """Move an application along TRANSITIONS; `accepted` needs a placement
    (application_accept). Moving to the stage it is already in changes nothing."""
    application = application_locked(application_id)
    to = Stage(to)
    if application.stage == to:
        return application
    if to == Stage.ACCEPTED:
        raise ApplicationError(_("Record the placement to accept an offer."), code="placement_required")
    return _transition(application, to=to, by=by, note=note, now=timezone.now())


@transaction.atomic
def application_accept(
    *,
    application_id: int,
    by: User | None,
    start_date: date,
    annual_salary_jpy: int,
    placed_on: date | None = None,
    fee_jpy: int | None = None,
    guarantee_until: date | None = None,
    note: str = "",
) -> Placement:
    """The candidate accepted the offer: the application becomes `accepted`, the placement
    is recorded and the candidate is `placed`, all in one transaction. The employer's fee
    terms in force on the start date apply (leads.invoices.terms): the fee (unless given),
    the guarantee (the last refund band's day unless given). A start today or in the past
    is invoiced at once (later starts by the daily task on the day); the six-month
    follow-up is scheduled."""
    application = application_locked(application_id)
    now = timezone.now()
    terms = terms_in_force(employer=application.posting.employer, on=start_date)
    placed_on = placed_on or timezone.localdate(now)
    guarantee_until = (
        guarantee_until
        or bands_guarantee_until(terms=terms, start_date=start_date)
        or start_date + timedelta(days=DEFAULT_GUARANTEE_DAYS)
    )
    placement = Placement(
        application=application,
        placed_on=placed_on,
        start_date=start_date,
        annual_salary_jpy=annual_salary_jpy,
        fee_rate_percent=terms.rate_percent,
        fee_jpy=fee_jpy if fee_jpy is not None else fee_for(terms=terms, annual_salary_jpy=annual_salary_jpy),
        fee_terms=terms.version,
        employment_type=application.posting.employment_type,
        guarantee_until=guarantee_until,
    )
    placement.full_clean(exclude=["application"])  # check constraints, with messages for people
    _transition(application, to=Stage.ACCEPTED, by=by, note=note, now=now)
    placement.save(force_insert=True)
    six_month_check_enqueue(placement=placement)
    if start_date <= timezone.localdate(now):
        invoices_issue(placement_ids=[placement.pk], by=by)
    application_event_record(
        application=application,
        kind=ApplicationEvent.Kind.PLACED,
        by=by,
        at=now,
        data={"start_date": start_date.isoformat(), "fee_jpy": placement.fee_jpy},
    )
    return placement


@transaction.atomic
def interview_round_schedule(
    *, application_id: int, scheduled_at: datetime, by: User | None, note: str = ""
) -> InterviewRound:
    """Add the next interview round (numbered from 1). An application still before the
    interview stage moves to it (submitted or in screening: the employer wants to meet)."""
    application = application_locked(application_id)
    now = timezone.now()
    if application.stage != Stage.INTERVIEW:
        if Stage.INTERVIEW not in TRANSITIONS[application.stage]:
            raise ApplicationError(
                _("An interview cannot be scheduled for an application in %(stage)s.")
                % {"stage": Stage(application.stage).label},
                code="transition",
            )
        _transition(application, to=Stage.INTERVIEW, by=by, note="", now=now)
    latest = application.interview_rounds.aggregate(latest=Max("number"))["latest"] or 0
    interview = InterviewRound.objects.create(
        application=application, number=latest + 1, scheduled_at=scheduled_at, note=note
    )
    application_event_record(
        application=application,
        kind=ApplicationEvent.Kind.INTERVIEW_SCHEDULED,
        by=by,
        at=now,
        note=note,
        data={"round": interview.number, "scheduled_at": scheduled_at.isoformat()},
    )
    return interview


def employer_reveal(
    *, candidate: Candidate, posting: JobPosting, by: User | None
) -> tuple[EmployerReveal, bool]:
    """Record that the advisor named the posting's employer to the candidate. Recorded once
    per candidate and posting: revealing again returns the first record and False (a
    concurrent twin is settled by the unique constraint inside get_or_create)."""
    return EmployerReveal.objects.get_or_create(
        candidate=candidate, posting=posting, defaults={"advisor": by, "revealed_at": timezone.now()}
    )
