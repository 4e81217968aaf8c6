"""The plumbing every DRF view repeats: the validated body, an id that must name a row, and a
domain refusal as 409. Views stay a parse-call-answer sequence (STYLE.md, "apis.py")."""

from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise
from rest_framework import serializers
from rest_framework.request import Request

from core.exceptions import Conflict

M = TypeVar("M", bound=Model)


def valid_input(serializer_class: type[serializers.Serializer[Any]], request: Request) -> dict[str, Any]:
    """The request body as `serializer_class` validates it; a 400 in the contract's format
    otherwise."""
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    data: dict[str, Any] = serializer.validated_data
    return data


def get_or_400(queryset: QuerySet[M], pk: Any, attr: str) -> M:
    """The row `pk` names in `queryset`; a 400 on the body's field `attr` when there is none
    (an id in a body is input to validate, not a missing resource)."""
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise serializers.ValidationError({attr: [_("Unknown id.")]}, code="invalid")
    return found


def conflict(*, code: str, message: StrOrPromise) -> Conflict:
    """A refusal of the current state as 409 with the domain's code (the contract's format)."""
    return Conflict(message, code=code)
