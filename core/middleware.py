from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from core.errors import error_response, is_api_request


class ApiRequestSizeLimitMiddleware:
    """413 for an `/api/` body over API_MAX_BODY_BYTES, before anything reads it.

    DRF's parsers read the request stream directly, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE
    never applies to them; the declared length is checked here instead. A body without a
    declared length reads as empty under WSGI, so it cannot slip past.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_api_request(request):
            raw_length = request.META.get("CONTENT_LENGTH") or "0"
            if not raw_length.isdigit():
                return error_response(status=400, code="invalid", detail=_("Content-Length is not a number."))
            limit: int = settings.API_MAX_BODY_BYTES
            if int(raw_length) > limit:
                return error_response(
                    status=413,
                    code="request_too_large",
                    detail=_("The request body is larger than %(limit)d bytes.") % {"limit": limit},
                )
        return self.get_response(request)
