import django_filters
from django.utils.translation import gettext_lazy as _


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
