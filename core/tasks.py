from celery import shared_task

from core.services import heartbeat_record


@shared_task
def heartbeat_task() -> None:
    """Record that beat, the broker and a worker all work. At-most-once is fine: a lost
    heartbeat is replaced by the next one, and a doubled one writes the same row."""
    heartbeat_record(name="scheduler")
