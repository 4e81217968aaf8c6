from datetime import datetime

from django.utils import timezone

from core.models import Heartbeat


def heartbeat_record(*, name: str, at: datetime | None = None) -> Heartbeat:
    heartbeat, _ = Heartbeat.objects.update_or_create(name=name, defaults={"last_seen": at or timezone.now()})
    return heartbeat
