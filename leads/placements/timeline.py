"""The applications' part of a candidate's timeline (registered in LeadsConfig.ready)."""

import uuid

from leads.candidates.timeline import TimelineEntry, timeline_source
from leads.placements.selectors import application_events_for_candidate


@timeline_source
def timeline_applications(candidate_id: uuid.UUID) -> list[TimelineEntry]:
    """The applications' history (recommended, submitted, interviews, offer...)."""
    return [
        TimelineEntry(
            at=row.occurred_at,
            kind=f"application_{row.kind}",
            label=row.kind_label,
            actor=row.actor_name,
            detail=" ".join(filter(None, [row.posting_title, row.to_stage_label, row.note])),
        )
        # The selector lists newest first; sources list oldest first (ties keep their order).
        for row in reversed(application_events_for_candidate(candidate_id=candidate_id))
    ]
