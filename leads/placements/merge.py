"""Applications and employer reveals when two candidates are merged (registered with
leads.candidates.merge in LeadsConfig.ready)."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from leads.models import Application, ApplicationEvent, Candidate, EmployerReveal
from leads.placements.errors import ApplicationError
from leads.placements.events import application_event_record
from leads.placements.services import (
    ACTIVE,
    TRANSITIONS,
    Stage,
    _candidate_follow,
    _transition,
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
                end = Stage.WITHDRAWN if Stage.WITHDRAWN in allowed else Stage.DECLINED
                _transition(application, to=end, by=by, note=_("Duplicate candidate merged."), now=now)
            kept += 1
            continue
        Application.objects.filter(pk=application.pk).update(candidate=target)
        ApplicationEvent.objects.filter(application=application).update(candidate=target)
        application.candidate = target
        application_event_record(
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


_ORDER = list(Stage.values)


def _progress(application: Application) -> tuple[bool, bool, int]:
    """Accepted first, then active ones by stage, then closed ones."""
    stage = application.stage
    return (stage == Stage.ACCEPTED, stage in ACTIVE, _ORDER.index(stage))
