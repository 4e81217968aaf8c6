"""``POST /line/webhook``: LINE's webhook (CONTRACT section 6, "LINE").

Only a request whose ``X-Line-Signature`` verifies with LINE_CHANNEL_SECRET (HMAC-SHA256
of the raw body, base64; checked by the SDK's WebhookParser) is read: anything else is 401
and nothing is recorded. The events go to ``line_webhook_events_handle``; LINE wants a 200
quickly and redelivers on errors, which the events' ids make harmless."""

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from linebot.v3 import WebhookParser
from linebot.v3.exceptions import InvalidSignatureError

from leads.candidates.line_link import line_webhook_events_handle

logger = logging.getLogger(__name__)


@csrf_exempt  # LINE signs the body instead
@require_POST
def line_webhook(request: HttpRequest) -> HttpResponse:
    signature = request.headers.get("X-Line-Signature", "")
    if not settings.LINE_CHANNEL_SECRET or not signature:
        return JsonResponse({"detail": "signature required"}, status=401)
    try:
        body = request.body.decode()
        events = WebhookParser(settings.LINE_CHANNEL_SECRET).parse(body, signature)
    except (InvalidSignatureError, UnicodeDecodeError):
        logger.warning("LINE webhook: a request with an invalid signature was refused")
        return JsonResponse({"detail": "invalid signature"}, status=401)
    except (ValueError, KeyError, TypeError):  # signed by LINE but not an events document
        return JsonResponse({"detail": "malformed body"}, status=400)
    line_webhook_events_handle(events=list(events))
    return JsonResponse({})
