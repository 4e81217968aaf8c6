from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField


class StrictFilterSet(django_filters.FilterSet):
    """An empty query parameter (`?status=`) is a 400 rather than silently no filter:
    a client that sends one almost always meant something."""

    def is_valid(self) -> bool:
        valid = bool(super().is_valid())
        for name in self.filters:
            if name in self.data and self.data.get(name) == "":
                self.form.add_error(name, _("Give a value or leave the parameter out."))
                valid = False
        return valid


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, handed on in UTC. Python accepts offsets PostgreSQL refuses
    (e.g. -19:18, found by schemathesis); converting here keeps such input a filter, not a
    500."""

    def to_python(self, value: Any) -> datetime | None:
        parsed: datetime | None = super().to_python(value)
        if parsed is None or parsed.tzinfo is None:
            return parsed
        try:
            return parsed.astimezone(UTC)
        except OverflowError as exc:  # pushed past year 1 or 9999
            raise forms.ValidationError(
                _("Enter a date-time between years 1 and 9999."), code="invalid"
            ) from exc


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField
