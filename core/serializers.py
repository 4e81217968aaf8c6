"""The API's one rule for blank choices: a choice field whose model field may be blank ("no
reason", "no stage before this one") answers null, never "", and its schema says so. A
strict client generated from /api/schema/ would reject "" where an enum is declared.

Every ModelSerializer of the API derives from `ModelSerializer` here; a plain Serializer
that outputs such a field declares `BlankAsNullChoiceField(..., allow_null=True)`."""

from typing import Any, TypeVar

from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


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
