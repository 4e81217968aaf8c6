"""Schemas for error responses that drf-standardized-errors does not add by itself (409,
422, 413), so that every status an endpoint can answer is documented."""

from functools import cache
from typing import Any

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from drf_standardized_errors.openapi_serializers import ClientErrorEnum
from rest_framework import serializers


def client_error_response(*, description: str, codes: list[str]) -> OpenApiResponse:
    """A 4xx answer with these codes. One component per set of codes, however many
    endpoints answer it (each with its own description)."""
    return OpenApiResponse(response=_client_error_body(tuple(codes)), description=description)


@cache
def _client_error_body(codes: tuple[str, ...]) -> Any:
    suffix = "".join(code.title().replace("_", "") for code in codes)
    error = inline_serializer(
        name=f"Error{suffix}",
        fields={
            "code": serializers.ChoiceField(choices=list(codes)),
            "detail": serializers.CharField(),
            "attr": serializers.CharField(allow_null=True),
        },
        many=True,
    )
    return inline_serializer(
        name=f"ErrorResponse{suffix}",
        fields={"type": serializers.ChoiceField(choices=ClientErrorEnum.choices), "errors": error},
    )


class _ErrorSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


BAD_REQUEST_TYPES = [("validation_error", "validation_error"), ("client_error", "client_error")]


class BadRequestResponseSerializer(serializers.Serializer[Any]):
    """400: `validation_error` (codes `required`, `invalid`) or `client_error` (malformed JSON)."""

    type = serializers.ChoiceField(choices=BAD_REQUEST_TYPES)
    errors = _ErrorSerializer(many=True)  # type: ignore[assignment]  # the contract's field name


class ClientErrorResponseSerializer(serializers.Serializer[Any]):
    """A 4xx other than validation: one error with its code (e.g. 403 `permission_denied`,
    or `not_authenticated` when a session-only endpoint is called without a session)."""

    type = serializers.ChoiceField(choices=ClientErrorEnum.choices)
    errors = _ErrorSerializer(many=True)  # type: ignore[assignment]  # the contract's field name
