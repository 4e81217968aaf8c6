"""An application's history: every change is one ApplicationEvent, written in the change's
transaction (the timeline and the ledgers read them)."""

from datetime import datetime

from accounts.models import User
from leads.models import Application, ApplicationEvent


def application_event_record(
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
