import logging

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers, 503 naming it when it does not (CONTRACT section 1)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        logger.warning("healthz: database unavailable (%s)", type(exc).__name__)
        return JsonResponse(
            {"status": "unavailable", "failing": ["database"], "components": {"database": "unavailable"}},
            status=503,
        )
    return JsonResponse({"status": "ok"})
