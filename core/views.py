import logging

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from twilio.request_validator import RequestValidator

from core.models import SmsDelivery

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


# Twilio's message statuses in the order they happen; callbacks may arrive out of order.
_SMS_STATUS_ORDER = {"accepted": 0, "queued": 1, "sending": 2, "sent": 3}
_SMS_FINAL = 4  # delivered, undelivered, failed, read...


@csrf_exempt  # Twilio signs the request instead
@require_POST
def sms_twilio_status(request: HttpRequest) -> HttpResponse:
    """Twilio's status callback for an SMS we sent (core.channels.twilio_sms): accepted only
    when ``X-Twilio-Signature`` verifies with TWILIO_AUTH_TOKEN for the public URL Twilio
    called (SITE_URL + path), else 403 and nothing changes."""
    signature = request.headers.get("X-Twilio-Signature", "")
    url = settings.SITE_URL + request.get_full_path()
    params = {key: request.POST.get(key, "") for key in request.POST}
    token = settings.TWILIO_AUTH_TOKEN
    if not token or not signature or not RequestValidator(token).validate(url, params, signature):
        logger.warning("SMS status callback with an invalid signature refused")
        return HttpResponse(status=403)
    sid, status = params.get("MessageSid", ""), params.get("MessageStatus", "")
    delivery = SmsDelivery.objects.filter(provider_id=sid).first() if sid and status else None
    if delivery is not None and _SMS_STATUS_ORDER.get(status, _SMS_FINAL) >= _SMS_STATUS_ORDER.get(
        delivery.status, _SMS_FINAL
    ):
        delivery.status = status[:20]
        delivery.error_code = params.get("ErrorCode", "")[:20]
        delivery.save(update_fields=["status", "error_code", "updated_at"])
        if status in ("undelivered", "failed"):
            logger.warning("SMS %s: %s (error %s)", sid, status, delivery.error_code or "-")
    return HttpResponse(status=204)
