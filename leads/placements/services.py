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

import calendar
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from leads.candidates.pipeline import candidate_advance_to
from leads.models import Application, ApplicationEvent, Candidate, EmployerReveal, InterviewRound, Placement
from roles.models import JobPosting

S = Application.Stage
CS = Candidate.Stage

TRANSITIONS: dict[str, frozenset[str]] = {
    S.RECOMMENDED: frozenset({S.SUBMITTED, S.DECLINED}),
    S.SUBMITTED: frozenset({S.DOCUMENT_SCREENING, S.INTERVIEW, S.REJECTED, S.WITHDRAWN}),
    S.DOCUMENT_SCREENING: frozenset({S.INTERVIEW, S.REJECTED, S.WITHDRAWN}),
    S.INTERVIEW: frozenset({S.OFFER, S.REJECTED, S.WITHDRAWN}),
    S.OFFER: frozenset({S.ACCEPTED, S.DECLINED, S.REJECTED}),
    S.ACCEPTED: frozenset(),
    S.DECLINED: frozenset(),
    S.REJECTED: frozenset(),
    S.WITHDRAWN: frozenset(),
}
TERMINAL = frozenset(stage for stage, targets in TRANSITIONS.items() if not targets)
ACTIVE = frozenset(S.values) - TERMINAL

# The candidate stage an application stage implies (forward only).
CANDIDATE_STAGE: dict[str, str] = {
    S.RECOMMENDED: CS.APPLYING,
    S.SUBMITTED: CS.APPLYING,
    S.DOCUMENT_SCREENING: CS.APPLYING,
    S.INTERVIEW: CS.INTERVIEWING,
    S.OFFER: CS.OFFERED,
    S.ACCEPTED: CS.PLACED,
}

# The refund guarantee when the employer's terms say nothing else: 3 months from the start.
DEFAULT_GUARANTEE_DAYS = 90
# The placement statistics (職業安定法) count hires who left within 6 months of starting.
EARLY_LEAVING_MONTHS = 6


class ApplicationError(ValidationError):
    """A change the application rules do not allow."""


def _locked(application_id: int) -> Application:
    # Locks the application's row only, not the posting's: other applications for the same
    # posting move on in parallel.
    return (
        Application.objects.select_for_update(of=("self",))
        .select_related("posting__employer")
        .get(pk=application_id)
    )


def _event(
    *,
    application: Application,
    kind: str,
    by: User | None,
    at: datetime,
    from_stage: str = "",
    to_stage: str = "",
    note: str = "",
    data: dict[str, object] | None = None,
) -> ApplicationEvent:
    return ApplicationEvent.objects.create(
        application=application,
        candidate_id=application.candidate_id,
        kind=kind,
        from_stage=from_stage,
        to_stage=to_stage,
        actor=by,
        note=note,
        data=data or {},
        occurred_at=at,
    )


def _candidate_follow(*, application: Application, by: User | None) -> None:
    target = CANDIDATE_STAGE.get(application.stage)
    if target is not None:
        candidate_advance_to(candidate_id=application.candidate_id, stage=target, by=by)


@transaction.atomic
def application_create(
    *, candidate: Candidate, posting: JobPosting, by: User | None, note: str = ""
) -> Application:
    """Recommend the candidate for an open posting. A second application for the same
    candidate and posting is refused (code `duplicate`), also under concurrency: the
    database's unique constraint decides."""
    if posting.status != JobPosting.Status.OPEN:
        raise ApplicationError(
            _("Only a posting that is recruiting can receive applications."), code="posting"
        )
    now = timezone.now()
    application = Application(
        candidate=candidate,
        posting=posting,
        advisor=by if by is not None else candidate.advisor,
        stage=S.RECOMMENDED,
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
    _event(
        application=application,
        kind=ApplicationEvent.Kind.CREATED,
        by=by,
        at=now,
        to_stage=S.RECOMMENDED,
        note=note,
    )
    _candidate_follow(application=application, by=by)
    return application


def _transition(
    application: Application, *, to: str, by: User | None, note: str, now: datetime
) -> Application:
    if to not in TRANSITIONS[application.stage]:
        raise ApplicationError(
            _("An application cannot move from %(from)s to %(to)s.")
            % {"from": S(application.stage).label, "to": S(to).label},
            code="transition",
        )
    previous = application.stage
    application.stage, application.stage_changed_at = to, now
    application.save(update_fields=["stage", "stage_changed_at", "updated_at"])
    _event(
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
    application = _locked(application_id)
    to = S(to)
    if application.stage == to:
        return application
    if to == S.ACCEPTED:
        raise ApplicationError(_("Record the placement to accept an offer."), code="placement_required")
    return _transition(application, to=to, by=by, note=note, now=timezone.now())


def placement_default_fee(*, annual_salary_jpy: int, fee_rate_percent: Decimal) -> int:
    """The employer's rate of the first-year annual salary, rounded half-up to the yen."""
    fee = Decimal(annual_salary_jpy) * fee_rate_percent / Decimal(100)
    return int(fee.quantize(Decimal(1), rounding=ROUND_HALF_UP))


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
    is recorded (fee from the employer's rate unless given, employment type from the
    posting) and the candidate is `placed`, all in one transaction."""
    application = _locked(application_id)
    now = timezone.now()
    employer = application.posting.employer
    placed_on = placed_on or timezone.localdate(now)
    placement = Placement(
        application=application,
        placed_on=placed_on,
        start_date=start_date,
        annual_salary_jpy=annual_salary_jpy,
        fee_rate_percent=employer.fee_rate_percent,
        fee_jpy=fee_jpy
        if fee_jpy is not None
        else placement_default_fee(
            annual_salary_jpy=annual_salary_jpy, fee_rate_percent=employer.fee_rate_percent
        ),
        employment_type=application.posting.employment_type,
        guarantee_until=guarantee_until or start_date + timedelta(days=DEFAULT_GUARANTEE_DAYS),
    )
    placement.full_clean(exclude=["application"])  # check constraints, with messages for people
    _transition(application, to=S.ACCEPTED, by=by, note=note, now=now)
    placement.save(force_insert=True)
    _event(
        application=application,
        kind=ApplicationEvent.Kind.PLACED,
        by=by,
        at=now,
        data={"start_date": start_date.isoformat(), "fee_jpy": placement.fee_jpy},
    )
    return placement


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day (31 Aug + 6 months = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def left_early(*, placement: Placement) -> bool:
    """Left within 6 months of starting (the placement statistics' definition)."""
    if placement.left_on is None:
        return False
    return placement.left_on < add_months(placement.start_date, EARLY_LEAVING_MONTHS)


@transaction.atomic
def placement_record_leaving(
    *, placement_id: int, left_on: date, by: User | None, refund_jpy: int | None = None, note: str = ""
) -> Placement:
    """The hire left: record the day and, if the guarantee applies, the refund."""
    placement = (
        Placement.objects.select_for_update(of=("self",)).select_related("application").get(pk=placement_id)
    )
    placement.left_on, placement.refund_jpy = left_on, refund_jpy
    placement.full_clean(exclude=["application"])
    placement.save(update_fields=["left_on", "refund_jpy", "updated_at"])
    _event(
        application=placement.application,
        kind=ApplicationEvent.Kind.LEFT_EARLY,
        by=by,
        at=timezone.now(),
        note=note,
        data={
            "left_on": left_on.isoformat(),
            "refund_jpy": refund_jpy,
            "within_6_months": left_early(placement=placement),
        },
    )
    return placement


@transaction.atomic
def interview_round_schedule(
    *, application_id: int, scheduled_at: datetime, by: User | None, note: str = ""
) -> InterviewRound:
    """Add the next interview round (numbered from 1). An application still before the
    interview stage moves to it (submitted or in screening: the employer wants to meet)."""
    application = _locked(application_id)
    now = timezone.now()
    if application.stage != S.INTERVIEW:
        if S.INTERVIEW not in TRANSITIONS[application.stage]:
            raise ApplicationError(
                _("An interview cannot be scheduled for an application in %(stage)s.")
                % {"stage": S(application.stage).label},
                code="transition",
            )
        _transition(application, to=S.INTERVIEW, by=by, note="", now=now)
    latest = application.interview_rounds.aggregate(latest=Max("number"))["latest"] or 0
    interview = InterviewRound.objects.create(
        application=application, number=latest + 1, scheduled_at=scheduled_at, note=note
    )
    _event(
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


@transaction.atomic
def applications_merge(*, source: Candidate, target: Candidate, by: User | None = None) -> dict[str, int]:
    """Move the duplicate `source`'s applications (with their events, rounds and placement)
    and employer reveals to `target`. Call it inside the candidate merge, with both
    candidates locked.

    Where both have applied for the same posting, `target` keeps its own application and the
    source's copy stays on `source` (withdrawn if still active), so no history is lost and
    the unique constraint holds. If the source's copy is further along than the target's
    (an offer against a recommendation, say), nothing is moved and ApplicationError
    (`merge_conflict`) asks the advisor to settle it first: keeping the wrong one would
    lose a hire. Returns the counts moved."""
    targets = {a.posting_id: a for a in Application.objects.select_for_update().filter(candidate=target)}
    sources = list(Application.objects.select_for_update().filter(candidate=source).order_by("pk"))
    for application in sources:
        other = targets.get(application.posting_id)
        if other is not None and _progress(application) > _progress(other):
            raise ApplicationError(
                _(
                    "Both candidates have applied for %(posting)s and the duplicate's application is "
                    "further along: withdraw or close one of them before merging."
                )
                % {"posting": application.posting},
                code="merge_conflict",
            )
    now = timezone.now()
    moved = kept = 0
    for application in sources:
        if application.posting_id in targets:
            if application.stage in ACTIVE:
                # Withdrawn where the rules allow it, else declined (a recommendation, an offer).
                allowed = TRANSITIONS[application.stage]
                end = S.WITHDRAWN if S.WITHDRAWN in allowed else S.DECLINED
                _transition(application, to=end, by=by, note=_("Duplicate candidate merged."), now=now)
            kept += 1
            continue
        Application.objects.filter(pk=application.pk).update(candidate=target)
        ApplicationEvent.objects.filter(application=application).update(candidate=target)
        application.candidate = target
        _event(
            application=application,
            kind=ApplicationEvent.Kind.MERGED,
            by=by,
            at=now,
            data={"from_candidate": str(source.pk)},
        )
        _candidate_follow(application=application, by=by)
        moved += 1
    revealed = EmployerReveal.objects.filter(candidate=target).values("posting_id")
    reveals = (
        EmployerReveal.objects.filter(candidate=source)
        .exclude(posting_id__in=revealed)
        .update(candidate=target)
    )
    return {"applications": moved, "kept_on_source": kept, "reveals": reveals}


_ORDER = list(S.values)


def _progress(application: Application) -> tuple[bool, bool, int]:
    """Accepted first, then active ones by stage, then closed ones."""
    stage = application.stage
    return (stage == S.ACCEPTED, stage in ACTIVE, _ORDER.index(stage))
