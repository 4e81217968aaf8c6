"""The two-year rule (職業安定法 第33条の6 and its guidelines: no 転職勧奨 of a person the
agency placed, for two years from their start): a person placed less than two years ago,
and still in that job (no leaving recorded), is not put forward to another employer,
unless a manager records that the person asked for it. The reason is kept on the
application's history (an OWN_REQUEST event, with the manager) and in the audit log.

Checked in `application_create`, so the admin and the API obey the same rule."""

from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.staff import staff_is_manager
from leads.audit import Action, audit_record
from leads.models import Application, ApplicationEvent, Candidate, Placement
from leads.placements.errors import ApplicationError
from leads.placements.events import application_event_record
from leads.placements.fees import add_months
from roles.models import JobPosting

RULE_MONTHS = 24


def placement_within_two_years(*, candidate: Candidate, posting: JobPosting, today: date) -> Placement | None:
    """The candidate's placement at another employer that started less than two years ago
    (or has yet to start) and that they have not left, if any."""
    return (
        Placement.objects.filter(
            application__candidate=candidate,
            left_on__isnull=True,
            start_date__gt=add_months(today, -RULE_MONTHS),
        )
        .exclude(application__posting__employer_id=posting.employer_id)
        .select_related("application__posting__employer")
        .order_by("-start_date")
        .first()
    )


@dataclass(frozen=True)
class OwnRequest:
    """The manager's record of the person's own request, written with the application."""

    by: User
    reason: str
    placement: Placement

    def record(self, *, application: Application, at: datetime, channel: str) -> None:
        application_event_record(
            application=application,
            kind=ApplicationEvent.Kind.OWN_REQUEST,
            by=self.by,
            at=at,
            note=self.reason,
            data={"placement_id": self.placement.pk, "start_date": self.placement.start_date.isoformat()},
        )
        audit_record(
            candidate_id=application.candidate_id,
            action=Action.CHANGE,
            by=self.by,
            channel=channel,
            fields=["own_request_reason"],
            at=at,
        )


def two_year_rule_check(
    *, candidate: Candidate, posting: JobPosting, by: User | None, own_request_reason: str
) -> OwnRequest | None:
    """Refuse (code `two_year_rule`) an application the rule forbids; with a manager's
    reason, return what `record` writes. None when the rule does not apply."""
    placement = placement_within_two_years(candidate=candidate, posting=posting, today=timezone.localdate())
    if placement is None:
        return None
    reason = " ".join(own_request_reason.split())
    values = {
        "employer": placement.application.posting.employer.name,
        "start": placement.start_date.isoformat(),
        "until": add_months(placement.start_date, RULE_MONTHS).isoformat(),
    }
    if not reason:
        raise ApplicationError(
            _(
                "Two-year rule: this person started at %(employer)s on %(start)s through us and may "
                "not be put forward to another employer until %(until)s, unless a manager records "
                "that the person asked for it."
            )
            % values,
            code="two_year_rule",
        )
    if by is None or not staff_is_manager(user=by):
        raise ApplicationError(
            _(
                "Two-year rule: only a manager can record the person's own request "
                "(%(employer)s, from %(start)s)."
            )
            % values,
            code="two_year_rule",
        )
    return OwnRequest(by=by, reason=reason, placement=placement)
