"""Serializers shared by the APIs: strict input (unknown fields refused, datetimes with
an offset) and the one rule for blank choices.

A choice field whose model field may be blank ("no reason", "no stage before this one")
answers null, never "", and its schema says so. A strict client generated from
/api/schema/ would reject "" where an enum is declared. Every ModelSerializer of the API
derives from `ModelSerializer` here; a plain Serializer that outputs such a field declares
`BlankAsNullChoiceField(..., allow_null=True)`."""

import threading
from typing import Any, TypeVar

from django.db import models
from django.utils.dateparse import parse_datetime
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.utils.serializer_helpers import BindingDict


class BlankAsNullChoiceField(serializers.ChoiceField):
    """A ChoiceField that shows a blank value as null (and, written, takes null as blank)."""

    def to_representation(self, value: Any) -> Any:
        if value in ("", None):
            return None
        return super().to_representation(value)

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data is None and self.allow_null:
            return True, ""  # the model stores blank, not NULL
        return super().validate_empty_values(data)


_M = TypeVar("_M", bound=models.Model)


class ModelSerializer(serializers.ModelSerializer[_M]):
    serializer_choice_field = BlankAsNullChoiceField

    def build_standard_field(self, field_name: str, model_field: models.Field[Any, Any]) -> tuple[Any, Any]:
        field_class, field_kwargs = super().build_standard_field(field_name, model_field)
        if issubclass(field_class, BlankAsNullChoiceField) and model_field.blank:
            field_kwargs["allow_null"] = True
        return field_class, field_kwargs


class QuerySerializer(serializers.Serializer[Any]):
    """Query parameters, validated: an empty one (`?stage=`) is a 400, as with the
    filtersets (core.filters.StrictFilterSet), not silently no filter. A client that sends
    one almost always meant something, and the document declares no empty value."""

    def to_internal_value(self, data: Any) -> Any:
        empty: dict[str, Any] = {
            str(name): [_("Give a value or leave the parameter out.")]
            for name in self.fields
            if hasattr(data, "get") and name in data and data.get(name) == ""
        }
        if empty:
            raise serializers.ValidationError(empty, code="invalid")
        return super().to_internal_value(data)


_prototype_fields = threading.local()  # per thread: serializer class -> its bound fields


class StrictSerializer(serializers.Serializer[Any]):
    """Unknown fields are an error, not silently dropped: a typo'd field name would
    otherwise lose data without anyone noticing.

    Input only, and on the intake's hot path: DRF deep-copies every declared field for each
    new serializer, which cost more than validating the lead itself. Field objects keep no
    state between validations, so each thread builds them once per class (bound to a blank
    instance of it, never to one holding a request's data) and every serializer of that class
    reuses them. A serializer given a context or `partial` gets its own copies, as usual."""

    @cached_property
    def fields(self) -> BindingDict:
        if self.partial or self._context:
            return super().fields
        cache: dict[Any, BindingDict] = _prototype_fields.__dict__
        fields = cache.get(type(self))
        if fields is None:
            prototype = type(self)()
            fields = BindingDict(prototype)
            for name, field in prototype.get_fields().items():
                fields[name] = field
            cache[type(self)] = fields
        return fields

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {
                        name: [serializers.ErrorDetail(str(_("Unknown field.")), code="invalid")]
                        for name in unknown
                    }
                )
        return super().to_internal_value(data)


class AwareDateTimeField(serializers.DateTimeField):
    """ISO 8601 with an offset; a time without one is ambiguous and refused."""

    def to_internal_value(self, value: Any) -> Any:
        try:
            parsed = parse_datetime(value) if isinstance(value, str) else None
        except ValueError:  # well-formed but impossible, e.g. 12:99
            self.fail("invalid", format="YYYY-MM-DDThh:mm[:ss[.uuuuuu]]+HH:MM")
        if parsed is not None and parsed.tzinfo is None:
            raise serializers.ValidationError(_("Give the time zone offset, e.g. +09:00."), code="invalid")
        return super().to_internal_value(value)
