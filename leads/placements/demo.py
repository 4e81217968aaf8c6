"""Demo applications for seed_demo (called by demo.services). Idempotent: a demo candidate
who already has an application gets none, so running it twice adds nothing.

Each demo candidate is recommended for the first open demo posting of a role they want, and
moved through the real services to a different stage, so the pipeline list, the timeline
and the partner's status have something to show: recommended, in interviews (a round next
week), an offer, a placement (started last month: invoiced) and a hire who left early (its
credit note, 返還インボイス, so a newcomer sees invoicing in `make run`)."""

from datetime import date, timedelta
from typing import Protocol

from django.utils import timezone

from accounts.models import User
from leads.models import Application, Candidate, Invoice
from leads.placements.fees import placement_record_leaving
from leads.placements.services import (
    application_accept,
    application_create,
    application_transition,
    interview_round_schedule,
)
from roles.models import JobPosting

DEMO_EMAIL_DOMAIN = "@demo.urakata.example"
Stage = Application.Stage
# The stage each demo candidate's application reaches, in the candidates' order of creation.
# LEFT_EARLY: accepted, started last month, and left on day 20 (the demo's credit note).
LEFT_EARLY = "left_early"
DEMO_STAGES = (Stage.RECOMMENDED, Stage.INTERVIEW, Stage.OFFER, Stage.SUBMITTED, Stage.ACCEPTED, LEFT_EARLY)


class Report(Protocol):
    def add(self, what: str, count: int) -> None: ...


def _first_of_last_month(today: date) -> date:
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def _advance(application: Application, *, stage: str, advisor: User | None) -> None:
    now = timezone.now()
    if stage == Stage.RECOMMENDED:
        return
    application_transition(application_id=application.pk, to=Stage.SUBMITTED, by=advisor)
    if stage == Stage.SUBMITTED:
        return
    interview_round_schedule(
        application_id=application.pk,
        scheduled_at=(now + timedelta(days=7)).replace(
            hour=5, minute=0, second=0, microsecond=0
        ),  # 14:00 JST
        by=advisor,
    )
    if stage == Stage.INTERVIEW:
        return
    application_transition(application_id=application.pk, to=Stage.OFFER, by=advisor)
    if stage == Stage.OFFER:
        return
    # Started on the first of last month, so the placement is invoiced as it is recorded.
    start = _first_of_last_month(timezone.localdate(now))
    placement = application_accept(
        application_id=application.pk,
        by=advisor,
        placed_on=start - timedelta(days=21),
        start_date=start,
        annual_salary_jpy=application.posting.salary_min,
    )
    if stage == LEFT_EARLY:  # day 20: the first refund band, and its credit note
        placement_record_leaving(placement_id=placement.pk, left_on=start + timedelta(days=19), by=advisor)


def demo_applications_seed(*, report: Report) -> None:
    """Recommend each demo candidate without an application for an open posting of a role
    they want, and move the application to its demo stage."""
    candidates = list(
        Candidate.objects.filter(email__endswith=DEMO_EMAIL_DOMAIN)
        .select_related("advisor")
        .order_by("created_at", "email")
    )
    applied = set(Application.objects.filter(candidate__in=candidates).values_list("candidate_id", flat=True))
    postings = list(
        JobPosting.objects.filter(status=JobPosting.Status.OPEN)
        .select_related("role", "employer")
        .order_by("created_at", "pk")
    )
    created, invoices = 0, Invoice.objects.count()
    for candidate, stage in zip(candidates, DEMO_STAGES, strict=False):
        wanted = [slug for slug in candidate.desired_roles if isinstance(slug, str)]
        posting = next((p for p in postings if p.role.slug in wanted), None)
        if candidate.pk in applied or posting is None:
            continue
        application = application_create(candidate=candidate, posting=posting, by=candidate.advisor)
        _advance(application, stage=stage, advisor=candidate.advisor)
        created += 1
    report.add("applications", created)
    report.add("invoices and credit notes", Invoice.objects.count() - invoices)
