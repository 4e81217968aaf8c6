"""Reads of the advisors' dashboard: today's consultations, overdue follow-ups, new leads
with their contact-SLA clock, and the funnel. Each is ONE query whatever the data's size, so
the page's query count is constant (pinned by tests/leads/candidates/test_dashboard.py)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Q

from accounts.models import User
from core.business_time import BUSINESS_TZ, business_time_add, business_time_between
from leads.candidates.selectors import followup_effective_due
from leads.models import Candidate, FollowUpTask, Lead

# "New" leads: received in the last two weeks and not contacted since.
NEW_LEAD_WINDOW = timedelta(days=14)
DASHBOARD_ROWS = 50  # each list shows this many; a link leads to the full list
ORDER: list[str] = list(Candidate.Stage.values)


def _today(now: datetime) -> tuple[datetime, datetime]:
    day = now.astimezone(BUSINESS_TZ).date()
    start = datetime.combine(day, time.min, tzinfo=BUSINESS_TZ)
    return start, start + timedelta(days=1)


# Today's consultations, read by the consultations app (ConsultationsConfig.ready) as
# reader(start=..., end=..., advisor=..., limit=...): leads never imports it.
ConsultationsBetween = Callable[..., list[Any]]
_consultations_between: list[ConsultationsBetween] = []


def dashboard_consultations_register(*, reader: ConsultationsBetween) -> None:
    _consultations_between[:] = [reader]


def dashboard_consultations_today(*, now: datetime, advisor: User | None) -> list[Any]:
    """Today's (JST) consultations that were not cancelled, earliest first; `advisor` None
    means everyone's."""
    if not _consultations_between:
        return []
    start, end = _today(now)
    return _consultations_between[0](start=start, end=end, advisor=advisor, limit=DASHBOARD_ROWS + 1)


@dataclass(frozen=True)
class DashboardAlert:
    """A line at the top of the dashboard: something unusual the staff should look at."""

    text: str
    link: str  # an admin URL with the details


# Alerts from other apps (registered in their AppConfig.ready), read as reader(now=...):
# e.g. consultations' refused booking attempts. Keyed by name, so registering twice is one.
DashboardAlerts = Callable[..., list[DashboardAlert]]
_alert_readers: dict[str, DashboardAlerts] = {}


def dashboard_alerts_register(*, name: str, reader: DashboardAlerts) -> None:
    _alert_readers[name] = reader


def dashboard_alerts(*, now: datetime) -> list[DashboardAlert]:
    return [alert for name in sorted(_alert_readers) for alert in _alert_readers[name](now=now)]


def dashboard_overdue_followups(*, now: datetime, advisor: User | None) -> list[FollowUpTask]:
    """Open tasks whose due time (or snooze) has passed, the longest overdue first."""
    tasks = FollowUpTask.objects.filter(done_at__isnull=True)
    if advisor is not None:
        tasks = tasks.filter(advisor=advisor)
    overdue = (
        tasks.annotate(effective=followup_effective_due())
        .filter(effective__lt=now)
        .select_related("candidate", "advisor")
        .order_by("effective", "pk")
    )
    return list(overdue[: DASHBOARD_ROWS + 1])


@dataclass(frozen=True)
class LeadClock:
    """A lead still waiting for its first contact, and where its contact SLA stands."""

    lead: Lead
    due_at: datetime
    left: timedelta  # business time; negative once overdue

    @property
    def overdue(self) -> bool:
        return self.left < timedelta(0)


def lead_contact_due(*, received_at: datetime) -> datetime:
    """When the first contact is due: LEAD_CONTACT_SLA of business time after the lead
    arrived (the same computation as intake's contact-SLA follow-up)."""
    return business_time_add(received_at, settings.LEAD_CONTACT_SLA)


def dashboard_new_leads(*, now: datetime, advisor: User | None) -> list[LeadClock]:
    """Leads of the last NEW_LEAD_WINDOW whose candidate nobody has reached since (the test
    the contact-SLA follow-up makes), the oldest, most urgent, first. An advisor's view
    includes unassigned candidates: picking them up is part of the job. A direct booking's
    lead not confirmed by the person yet is not one (leads.intake.lead_confirmation_await)."""
    leads = Lead.objects.filter(
        created_at__gte=now - NEW_LEAD_WINDOW,
        awaiting_confirmation=False,
        candidate__is_closed=False,
        candidate__stage__in=(Candidate.Stage.NEW, Candidate.Stage.CONTACTING),
    ).filter(
        Q(candidate__last_contacted_at__isnull=True) | Q(candidate__last_contacted_at__lt=F("created_at"))
    )
    if advisor is not None:
        leads = leads.filter(Q(candidate__advisor=advisor) | Q(candidate__advisor__isnull=True))
    rows = (
        leads.select_related("candidate", "candidate__advisor", "partner")
        .only(
            "pk",
            "created_at",
            "partner__name",
            "candidate__id",
            "candidate__family_name",
            "candidate__given_name",
            "candidate__stage",
            "candidate__advisor__display_name",
        )
        .order_by("created_at", "pk")[: DASHBOARD_ROWS + 1]
    )
    clocks = []
    for lead in rows:
        due = lead_contact_due(received_at=lead.created_at)
        clocks.append(LeadClock(lead=lead, due_at=due, left=business_time_between(now, due)))
    return clocks


@dataclass(frozen=True)
class FunnelStep:
    stage: str
    label: str
    reached: int
    share: float  # of all candidates, 0..1


def dashboard_funnel(*, advisor: User | None) -> list[FunnelStep]:
    """How many candidates reached each stage (a closed candidate keeps the last stage it
    reached, so it counts for that stage and every one before it), in one query."""
    candidates = Candidate.objects.all() if advisor is None else Candidate.objects.filter(advisor=advisor)
    counts = candidates.aggregate(
        **{stage: Count("pk", filter=Q(stage__in=ORDER[index:])) for index, stage in enumerate(ORDER)}
    )
    total = counts[ORDER[0]] or 0
    return [
        FunnelStep(
            stage=stage,
            label=str(Candidate.Stage(stage).label),
            reached=counts[stage],
            share=(counts[stage] / total) if total else 0.0,
        )
        for stage in ORDER
    ]
