"""The error format of CONTRACT section 2, for every non-2xx `/api/` response.

DRF views go through drf-standardized-errors (configured in settings); responses that never
reach a DRF view (an unknown URL, a body too large, a crash outside a view) are built here in
the same shape, so a client sees one format whatever failed.
"""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from drf_standardized_errors.formatter import ExceptionFormatter
from drf_standardized_errors.handler import ExceptionHandler
from drf_standardized_errors.types import Error
from rest_framework import exceptions
from rest_framework.settings import api_settings


def error_body(*, error_type: str, code: str, detail: str, attr: str | None = None) -> dict[str, Any]:
    return {"type": error_type, "errors": [{"code": code, "detail": detail, "attr": attr}]}


def error_response(
    *, status: int, code: str, detail: str, error_type: str = "client_error", attr: str | None = None
) -> JsonResponse:
    body = error_body(error_type=error_type, code=code, detail=detail, attr=attr)
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


class ApiExceptionHandler(ExceptionHandler):
    """Adds one conversion to the library's: a Django ValidationError raised by a service
    (``full_clean``, a model validator) is the caller's bad input, not a server error."""

    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, DjangoValidationError):
            if hasattr(exc, "error_dict"):
                detail: Any = {
                    (api_settings.NON_FIELD_ERRORS_KEY if field == "__all__" else field): [
                        exceptions.ErrorDetail(str(message), code=error.code or "invalid")
                        for error in errors
                        for message in error.messages
                    ]
                    for field, errors in exc.error_dict.items()
                }
            else:
                detail = [exceptions.ErrorDetail(str(m), code=exc.code or "invalid") for m in exc.messages]
            return exceptions.ValidationError(detail)
        return super().convert_known_exceptions(exc)


# Validation codes a client can rely on (CONTRACT section 2). DRF's finer codes
# (max_length, invalid_choice, not_a_list, ...) are folded into these; the detail text still
# says precisely what is wrong.
_MISSING = {"required", "blank", "null", "empty"}


class ApiExceptionFormatter(ExceptionFormatter):
    def get_errors(self) -> list[Error]:
        errors = super().get_errors()
        if not isinstance(self.exc, exceptions.ValidationError):
            return errors
        return [
            Error(
                code="required" if e.code in _MISSING else "invalid",
                detail=e.detail,
                attr=None if e.attr == api_settings.NON_FIELD_ERRORS_KEY else e.attr,
            )
            for e in errors
        ]


# Django-level handlers (config/urls.py): JSON under /api/, Django's own pages elsewhere.
def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        return error_response(status=400, code="invalid", detail=_("The request is malformed."))
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        return error_response(
            status=403,
            code="permission_denied",
            detail=_("You do not have permission to perform this action."),
        )
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        return error_response(status=404, code="not_found", detail=_("Not found."))
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api_request(request):
        return error_response(
            status=500, code="error", detail=_("A server error occurred."), error_type="server_error"
        )
    return defaults.server_error(request)
