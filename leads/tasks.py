from celery import shared_task

from leads.services.partners import api_key_usage_flush


@shared_task
def api_key_usage_flush_task() -> int:
    """Copy API keys' last-use times from the cache to the database. Idempotent (it only
    ever moves a timestamp forward), so at-least-once delivery is harmless."""
    return api_key_usage_flush()
