"""Normalisation of the personal fields partners send with a lead (CONTRACT section 3).

Pure functions: each takes the raw string and returns the stored form, or raises
``NormalizationError`` with a short, constant English message that the API layer translates and
returns as the error detail. Partners type Japanese data in every width and script, so two
spellings of the same name, phone or prefecture must end up as one stored value: that is what
makes the "same person already known" check of the contract work.
"""

import re
import unicodedata

import jaconv
import phonenumbers
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.prefectures import PREFECTURES


class NormalizationError(ValueError):
    """The raw value cannot be read as the field's kind of data; ``str(error)`` is the detail."""


def _collapse_spaces(text: str) -> str:
    # str.split() splits on every Unicode space, including U+3000 (ideographic space), tabs and
    # line breaks, and drops the ends: one pass both trims and collapses.
    return " ".join(text.split())


def normalize_name(value: str) -> str:
    text = _collapse_spaces(unicodedata.normalize("NFKC", value))
    if not text:
        raise NormalizationError("Enter a name.")
    # PostgreSQL refuses NUL in text and the other control characters are never part of a name.
    if any(unicodedata.category(char) == "Cc" for char in text):
        raise NormalizationError("Enter a name without control characters.")
    return text


def normalize_email(value: str) -> str:
    # lower() and not casefold(): casefold rewrites characters ("ß" -> "ss") and would turn an
    # address into another one. The syntax is checked by the serializer, not here.
    text = unicodedata.normalize("NFKC", value).strip().lower()
    if not text:
        raise NormalizationError("Enter an email address.")
    return text


# --- kana ------------------------------------------------------------------------------------

# Voiced-sound marks as they arrive on their own: half-width (ﾞ ﾟ, left over when jaconv.h2z has
# no precomposed pair for them, e.g. ﾜﾞ), spacing (゛ ゜, typed by some IMEs) and combining.
_VOICING_MARKS = {"\uff9e": "\u3099", "\uff9f": "\u309a", "\u309b": "\u3099", "\u309c": "\u309a"}
_KANA_THEN_MARK = re.compile("([\u3041-\u3096\u30a1-\u30fa])([\u3099\u309a\u309b\u309c\uff9e\uff9f])")

# Katakana letters ァ..ヺ (small kana and ヷ-ヺ included) and the iteration marks ヽ ヾ (みすゞ).
_KATAKANA_LETTERS = "\u30a1-\u30fa\u30fd\u30fe"
# What people type for the long vowel mark after a kana: hyphens, dashes, minus signs, box-drawing
# lines and wave dashes, in both widths. Only a run that follows a kana letter becomes ー.
_LONG_VOWEL_LOOKALIKES = (
    "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2500\u2501"  # hyphens, dashes, minus, box lines
    "\u301c\uff5e"  # wave dash and full-width tilde
    "\u30fc\ufe63\uff0d"  # the long vowel mark itself, small and full-width hyphen-minus
)
_LONG_VOWEL_AFTER_KANA = re.compile(f"([{_KATAKANA_LETTERS}])([{_LONG_VOWEL_LOOKALIKES}]+)")
_MIDDLE_DOTS = str.maketrans({"\u00b7": "\u30fb", "\uff65": "\u30fb"})
# Letters, each optionally lengthened, separated by ・ or single spaces; at least one letter.
_KATAKANA_READING = re.compile(f"(?=.*[{_KATAKANA_LETTERS}])(?:[{_KATAKANA_LETTERS}]ー*|[・ ])+")


def _compose_voicing(text: str) -> str:
    def compose(match: re.Match[str]) -> str:
        mark = _VOICING_MARKS.get(match[2], match[2])
        composed = unicodedata.normalize("NFC", match[1] + mark)
        # No precomposed form (e.g. ア + ゛): leave both characters as they were.
        return composed if len(composed) == 1 else match[0]

    return _KANA_THEN_MARK.sub(compose, text)


def kana_to_katakana(value: str) -> str:
    """Hiragana and half-width katakana to full-width katakana, for search; the rest unchanged."""
    # Not NFKC: it would also rewrite latin letters, digits and compatibility kanji, and it turns
    # a spacing voicing mark (゛) into a space plus a combining mark.
    wide = jaconv.h2z(value, kana=True, ascii=False, digit=False)
    return str(jaconv.hira2kata(_compose_voicing(wide)))


def normalize_kana(value: str) -> str:
    text = _collapse_spaces(kana_to_katakana(value).translate(_MIDDLE_DOTS))
    text = _LONG_VOWEL_AFTER_KANA.sub(lambda match: match[1] + "ー" * len(match[2]), text)
    if not _KATAKANA_READING.fullmatch(text):
        raise NormalizationError("Enter the reading in hiragana or katakana.")
    return text


# --- phone -----------------------------------------------------------------------------------

# The dashes people put between digit groups that NFKC leaves alone (it already folds the
# full-width hyphen-minus U+FF0D into "-", and the half-width ｰ into ー).
_PHONE_DASHES = str.maketrans(
    dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2500\u2501\u30fc", "-")
)
# Digits and the usual separators only. phonenumbers itself would read letters as a vanity number
# ("0120-ABC-DEF") and "ext. 12" as an extension that E.164 then silently drops.
_PHONE_SHAPE = re.compile(r"\+?[0-9().\- ]+")
# A number a candidate can be called back on. Toll-free (0120, 0800), navi dial (0570), premium
# rate (0990) and M2M (020) numbers are valid but belong to businesses or machines, not people;
# this also keeps every stored number at 9 or 10 national digits.
_PERSONAL_NUMBER_TYPES = frozenset(
    {
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        phonenumbers.PhoneNumberType.VOIP,
        phonenumbers.PhoneNumberType.PERSONAL_NUMBER,
    }
)
_JAPAN_COUNTRY_CODE = 81


def normalize_phone(value: str) -> str:
    text = _collapse_spaces(unicodedata.normalize("NFKC", value).translate(_PHONE_DASHES))
    if not _PHONE_SHAPE.fullmatch(text):
        raise NormalizationError("Enter a Japanese phone number.")
    try:
        number = phonenumbers.parse(text, "JP")
    except phonenumbers.NumberParseException as exc:
        raise NormalizationError("Enter a Japanese phone number.") from exc
    # number_type is UNKNOWN for an invalid number (+81 belongs to Japan alone, whose metadata
    # is_valid_number would consult the same way), so one lookup decides both.
    if (
        number.country_code != _JAPAN_COUNTRY_CODE
        or phonenumbers.number_type(number) not in _PERSONAL_NUMBER_TYPES
    ):
        raise NormalizationError("Enter a Japanese phone number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# --- prefectures -----------------------------------------------------------------------------

# The table lives in core.prefectures, shared with the roles app.

# "Tokyo-to", "Osaka fu", "Aichi-ken", "Hokkaido prefecture". A separator is required: "Kyoto"
# itself ends in "to".
_ENGLISH_SUFFIX = re.compile(r"(.+?)[ -](?:to|fu|ken|prefecture)")


def _prefecture_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for code, name, english in PREFECTURES:
        # 北海道 keeps its 道: "北海" is not a name anyone uses. The suffix-less 京都 and 東京 are
        # distinct keys, so exact lookup never confuses 京都府 with 東京都.
        stem = name[:-1] if name[-1] in "都府県" else name
        for key in {code, str(int(code)), f"jp-{code}", name, stem, english.lower()}:
            if index.setdefault(key, code) != code:
                raise RuntimeError(f"Prefecture key {key!r} is ambiguous.")  # pragma: no cover
    return index


_PREFECTURE_INDEX = _prefecture_index()


def _fold_latin(text: str) -> str:
    # "Tōkyō" and "Hyōgo" (Hepburn with macrons) read as "tokyo" and "hyogo".
    return "".join(char for char in unicodedata.normalize("NFKD", text) if not unicodedata.combining(char))


def normalize_prefecture(value: str) -> str:
    key = _collapse_spaces(unicodedata.normalize("NFKC", value)).lower()
    if key in _PREFECTURE_INDEX:
        return _PREFECTURE_INDEX[key]
    folded = _fold_latin(key)
    if folded.isascii():
        suffixed = _ENGLISH_SUFFIX.fullmatch(folded)
        for candidate in (folded, suffixed[1] if suffixed else None):
            if candidate is not None and candidate in _PREFECTURE_INDEX:
                return _PREFECTURE_INDEX[candidate]
    raise NormalizationError("Enter a Japanese prefecture name or JIS code.")


# --- occupation ------------------------------------------------------------------------------


class Occupation(models.TextChoices):
    """``current_occupation`` (CONTRACT section 3), in the contract's order."""

    FACTORY = "factory", _("Factory / manufacturing")
    CONSTRUCTION = "construction", _("Construction")
    LOGISTICS = "logistics", _("Logistics / warehouse")
    DRIVER = "driver", _("Driver")
    RETAIL = "retail", _("Retail / sales")
    FOOD_SERVICE = "food_service", _("Food service")
    HOSPITALITY = "hospitality", _("Hospitality / customer service")
    CARE = "care", _("Nursing care")
    CLEANING_SECURITY = "cleaning_security", _("Cleaning / security")
    OTHER = "other", _("Other")


OCCUPATIONS: tuple[str, ...] = tuple(Occupation.values)
