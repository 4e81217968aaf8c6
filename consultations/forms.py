"""The direct booking page's form (/book/): the same rules as the booking API and the
partner lead API (names, kana, email, phone normalised the same way), with each error shown
next to its field."""

from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from consultations.models import ConsultationMode
from core.normalize import (
    NormalizationError,
    Occupation,
    normalize_email,
    normalize_kana,
    normalize_name,
    normalize_phone,
)
from roles.models import Role


def _normalized(value: str, normalizer: Callable[[str], str], message: Any) -> str:
    try:
        return normalizer(value)
    except NormalizationError as exc:
        raise forms.ValidationError(message, code="invalid") from exc


def _text(autocomplete: str) -> forms.TextInput:
    return forms.TextInput(attrs={"autocomplete": autocomplete})


class DirectBookingForm(forms.Form):
    start = forms.DateTimeField(
        label=_("Time"), error_messages={"required": _("Choose a time."), "invalid": _("Choose a time.")}
    )
    mode = forms.ChoiceField(label=_("How would you like to talk?"), choices=ConsultationMode.choices)
    family_name = forms.CharField(label=_("Family name"), max_length=50, widget=_text("family-name"))
    given_name = forms.CharField(label=_("Given name"), max_length=50, widget=_text("given-name"))
    family_name_kana = forms.CharField(
        label=_("Family name (furigana)"), max_length=100, required=False, widget=_text("off")
    )
    given_name_kana = forms.CharField(
        label=_("Given name (furigana)"), max_length=100, required=False, widget=_text("off")
    )
    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "inputmode": "email"}),
    )
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    current_occupation = forms.ChoiceField(
        label=_("Your work now"), choices=[("", "---"), *Occupation.choices], required=False
    )
    desired_roles = forms.MultipleChoiceField(
        label=_("Jobs you are interested in"), required=False, widget=forms.CheckboxSelectMultiple
    )
    notes = forms.CharField(
        label=_("Anything you would like us to know (optional)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea,
    )
    consent = forms.BooleanField(
        label=_("I agree to the privacy policy"),
        error_messages={"required": _("Please agree to the privacy policy to book.")},
    )

    def __init__(self, *args: Any, roles: list[Role], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["desired_roles"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(role.slug, role.name_ja if self._japanese() else role.name_en) for role in roles]

    @staticmethod
    def _japanese() -> bool:
        return (get_language() or settings.LANGUAGE_CODE).startswith("ja")

    def clean_start(self) -> Any:
        start = self.cleaned_data["start"]
        if start is None or start.tzinfo is None:
            raise forms.ValidationError(_("Choose a time."), code="invalid")
        return start

    def clean_family_name(self) -> str:
        return _normalized(self.cleaned_data["family_name"], normalize_name, _("Enter your family name."))

    def clean_given_name(self) -> str:
        return _normalized(self.cleaned_data["given_name"], normalize_name, _("Enter your given name."))

    def clean_family_name_kana(self) -> str:
        value = self.cleaned_data["family_name_kana"]
        return _normalized(value, normalize_kana, _("Use hiragana or katakana only.")) if value else ""

    def clean_given_name_kana(self) -> str:
        value = self.cleaned_data["given_name_kana"]
        return _normalized(value, normalize_kana, _("Use hiragana or katakana only.")) if value else ""

    def clean_email(self) -> str | None:
        value = self.cleaned_data["email"]
        return normalize_email(value) if value else None

    def clean_phone(self) -> str | None:
        value = self.cleaned_data["phone"]
        message = _("Enter a Japanese phone number, e.g. 090-1234-5678.")
        return _normalized(value, normalize_phone, message) if value else None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        contact_errors = self.has_error("email") or self.has_error("phone")
        if not contact_errors and not data.get("email") and not data.get("phone"):
            message = _("Give an email address or a phone number.")
            self.add_error("email", forms.ValidationError(message, code="required"))
        return data
