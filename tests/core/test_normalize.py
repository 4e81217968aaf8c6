# This file is about look-alike characters (full-width letters and digits, dashes, kana marks):
# they are the test data, written out so that a reader sees what a partner would send.
import re

import jaconv
import phonenumbers
import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from core.normalize import (
    OCCUPATIONS,
    NormalizationError,
    Occupation,
    kana_to_katakana,
    normalize_email,
    normalize_kana,
    normalize_name,
    normalize_phone,
    normalize_prefecture,
)
from core.prefectures import PREFECTURE_CHOICES, PREFECTURES

# --- names -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("山田", "山田"),
        ("  山田  ", "山田"),
        ("\u3000山田\u3000", "山田"),  # ideographic spaces around
        ("山田\u3000太郎", "山田 太郎"),
        ("山田 \u3000 \t太郎", "山田 太郎"),  # a mixed run becomes one ASCII space
        ("Jean\n\nPierre", "Jean Pierre"),
        ("Ｔａｒｏ", "Taro"),  # full-width latin
        ("ﾔﾏﾀﾞ", "ヤマダ"),  # half-width kana, dakuten composed by NFKC
        ("髙橋", "髙橋"),  # a variant kanji NFKC keeps: it is a different name
        ("Ｏ’Ｂｒｉｅｎ", "O’Brien"),
    ],
)
def test_it_normalizes_names(raw, expected):
    assert normalize_name(raw) == expected


@pytest.mark.parametrize("raw", ["", " ", "\u3000\u3000", "\t\n"])
def test_it_rejects_blank_names(raw):
    with pytest.raises(NormalizationError, match=r"^Enter a name\.$"):
        normalize_name(raw)


@pytest.mark.parametrize("raw", ["山\x00田", "Taro\x07", "\x7f"])
def test_it_rejects_names_with_control_characters(raw):
    with pytest.raises(NormalizationError, match=r"^Enter a name without control characters\.$"):
        normalize_name(raw)


def test_it_raises_a_value_error_subclass():
    # The serializer layer may catch ValueError generically; NormalizationError must be one.
    assert issubclass(NormalizationError, ValueError)


# --- kana ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("やまだ", "ヤマダ"),
        ("ヤマダ", "ヤマダ"),
        ("ﾔﾏﾀﾞ", "ヤマダ"),
        ("ｶﾞｷﾞｸﾞｹﾞｺﾞ", "ガギグゲゴ"),
        ("ﾊﾟﾋﾟﾌﾟﾍﾟﾎﾟ", "パピプペポ"),
        ("ｳﾞｨｸﾄﾙ", "ヴィクトル"),
        ("ﾜﾞｦﾞ", "ヷヺ"),  # jaconv.h2z has no pair for these; composed by us
        ("ｼｮｳﾀ", "ショウタ"),  # small kana
        ("ぁぃぅぇぉっゃゅょゎゕゖ", "ァィゥェォッャュョヮヵヶ"),
        ("ゔぃくとる", "ヴィクトル"),
        ("か\u3099", "ガ"),  # combining dakuten (decomposed input, e.g. pasted from macOS)
        ("は\u309a", "パ"),  # combining handakuten
        ("か゛", "ガ"),  # spacing dakuten U+309B
        ("は゜", "パ"),  # spacing handakuten U+309C
        ("ｻﾄｳ ﾀﾛｳ", "サトウ タロウ"),
        ("やまだ\u3000たろう", "ヤマダ タロウ"),
        ("  やまだ   たろう  ", "ヤマダ タロウ"),
        ("たろー", "タロー"),
        ("ﾀﾛｰ", "タロー"),  # half-width long vowel mark
        ("タロ-", "タロー"),  # ASCII hyphen after a kana
        ("タロ－", "タロー"),  # full-width hyphen-minus
        ("タロ‐", "タロー"),  # hyphen U+2010
        ("タロ—", "タロー"),  # em dash
        ("タロ―", "タロー"),  # horizontal bar
        ("タロ−", "タロー"),  # minus sign
        ("ヨ〜コ", "ヨーコ"),  # wave dash
        ("タロ--", "タローー"),  # a run keeps its length
        ("ジョン・スミス", "ジョン・スミス"),
        ("ｼﾞｮﾝ･ｽﾐｽ", "ジョン・スミス"),  # half-width middle dot
        ("ジョン·スミス", "ジョン・スミス"),  # latin middle dot U+00B7
        ("みすゞ", "ミスヾ"),  # hiragana iteration mark
        ("ヰヱ", "ヰヱ"),
    ],
)
def test_it_normalizes_kana_to_full_width_katakana(raw, expected):
    assert normalize_kana(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "\u3000",
        "山田",  # kanji
        "やま田",  # kana mixed with kanji
        "Yamada",
        "ＹＡＭＡＤＡ",
        "ヤマダ1",
        "ヤマダ１",
        "ヤマダ😀",
        "ヤマダ!",
        "ー",  # a long vowel mark with no kana before it
        "ーヤマダ",
        "-ヤマダ",
        "ヤマダ -タロウ",  # after a space, a hyphen is not a long vowel mark
        "・",  # separators only
        "・ ・",
        "ア゛",  # no precomposed character: the mark stays and is refused
        "ガ\u3099",  # a second voicing mark
        "ﾞ",  # a voicing mark on its own
        "ゟ",  # hiragana digraph yori
        "ㇰ",  # katakana phonetic extension (Ainu)
        "ヤマダ\x00",
    ],
)
def test_it_rejects_what_is_not_kana(raw):
    with pytest.raises(NormalizationError, match=r"^Enter the reading in hiragana or katakana\.$"):
        normalize_kana(raw)


_KATAKANA = st.text(alphabet=[chr(code) for code in range(0x30A1, 0x30F7)], min_size=1, max_size=20)
_KANA_SOUP = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x3041, max_codepoint=0x30FF),  # hiragana and katakana blocks
        st.characters(min_codepoint=0xFF61, max_codepoint=0xFF9F),  # half-width katakana
        st.sampled_from(list(" \u3000-－‐—―−〜゛゜\u3099\u309a·aZ1１山😀")),
    ),
    max_size=30,
)


@given(_KATAKANA)
def test_it_keeps_full_width_katakana_as_is(kana):
    assert normalize_kana(kana) == kana


@given(_KATAKANA)
def test_it_reads_hiragana_and_half_width_as_the_same_katakana(kana):
    assert normalize_kana(jaconv.kata2hira(kana)) == kana
    assert normalize_kana(jaconv.z2h(kana, kana=True, ascii=False, digit=False)) == kana


@given(_KANA_SOUP)
def test_it_accepts_its_own_kana_output_unchanged(raw):
    try:
        normalized = normalize_kana(raw)
    except NormalizationError:
        return
    assert normalize_kana(normalized) == normalized
    assert re.fullmatch(r"[\u30a1-\u30fe ]+", normalized)  # katakana, ー, ・, ヽヾ and spaces


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("やまだ", "ヤマダ"),
        ("ﾔﾏﾀﾞ", "ヤマダ"),
        ("ヤマダ", "ヤマダ"),
        ("山田 やまだ", "山田 ヤマダ"),  # kanji and spaces pass through
        ("yamada@example.com", "yamada@example.com"),
        ("ＡＢＣ１２３", "ＡＢＣ１２３"),  # full-width latin and digits are not kana: unchanged
        ("090-1234", "090-1234"),
        ("か\u3099", "ガ"),
        ("", ""),
    ],
)
def test_it_converts_kana_to_katakana_for_search(raw, expected):
    assert kana_to_katakana(raw) == expected


@pytest.mark.parametrize("code", range(0x3041, 0x3097))
def test_it_maps_every_hiragana_to_its_katakana(code):
    assert kana_to_katakana(chr(code)) == chr(code + 0x60)


# --- phone -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("090-1234-5678", "+819012345678"),
        ("09012345678", "+819012345678"),
        ("+81 90 1234 5678", "+819012345678"),
        ("+81-90-1234-5678", "+819012345678"),
        ("+81 (0)90 1234 5678", "+819012345678"),
        ("+81 090 1234 5678", "+819012345678"),
        ("(090)1234-5678", "+819012345678"),
        ("090.1234.5678", "+819012345678"),
        ("  090 1234 5678  ", "+819012345678"),
        ("０９０－１２３４－５６７８", "+819012345678"),  # full-width digits and hyphen-minus
        ("０９０ー１２３４ー５６７８", "+819012345678"),  # long vowel mark typed as a dash
        ("090ｰ1234ｰ5678", "+819012345678"),  # half-width long vowel mark
        ("090‐1234‐5678", "+819012345678"),  # hyphen U+2010
        ("090—1234—5678", "+819012345678"),  # em dash
        ("090―1234―5678", "+819012345678"),  # horizontal bar
        ("090−1234−5678", "+819012345678"),  # minus sign
        ("090\u30001234\u30005678", "+819012345678"),  # ideographic spaces
        ("＋８１　９０　１２３４　５６７８", "+819012345678"),
        ("080-1234-5678", "+818012345678"),
        ("070-1234-5678", "+817012345678"),
        ("(03) 1234-5678", "+81312345678"),  # Tokyo fixed line
        ("03-1234-5678", "+81312345678"),
        ("（０３）１２３４－５６７８", "+81312345678"),  # full-width parentheses
        ("06 6123 4567", "+81661234567"),  # Osaka fixed line
        ("050-1234-5678", "+815012345678"),  # IP phone
    ],
)
def test_it_normalizes_japanese_phone_numbers_to_e164(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "phone",
        "12345",
        "090-1234-567",  # one digit short
        "090-1234-56789",  # one digit too many
        "00-0000-0000",
        "+81+90-1234-5678",
        "0120-123-456",  # toll-free: a business number, not a person's
        "0800-123-4567",  # toll-free
        "0570-123-456",  # navi dial
        "0990-123-456",  # premium rate
        "020-1234-5678",  # M2M / pager
        "0120-ABC-DEF",  # phonenumbers would read the letters as a vanity number
        "03-1234-5678 ext. 12",  # an extension E.164 cannot carry
        "090 1234 5678 x",
        "090/1234/5678",
        "٠٩٠١٢٣٤٥٦٧٨",  # Arabic-Indic digits
        "+44 20 7946 0958",  # valid UK number
    ],
)
def test_it_rejects_what_is_not_a_japanese_personal_number(raw):
    with pytest.raises(NormalizationError, match=r"^Enter a Japanese phone number\.$"):
        normalize_phone(raw)


def test_it_rejects_a_valid_foreign_number():
    # Given a number phonenumbers itself holds valid, in another country
    us_number = "+1 650 253 0000"
    assert phonenumbers.is_valid_number(phonenumbers.parse(us_number))
    # then it is still not a Japanese number
    with pytest.raises(NormalizationError, match=r"^Enter a Japanese phone number\.$"):
        normalize_phone(us_number)


_WIDE_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")


@given(
    prefix=st.sampled_from(["060", "070", "080", "090"]),
    subscriber=st.from_regex(r"[1-9][0-9]{7}", fullmatch=True),
    separator=st.sampled_from(["", "-", " ", "－", "ー", "‐", "—", "―", ".", "\u3000"]),
    international=st.booleans(),
    wide=st.booleans(),
)
def test_it_reads_every_way_of_writing_a_mobile_number_the_same(
    prefix, subscriber, separator, international, wide
):
    groups = [prefix, subscriber[:4], subscriber[4:]]
    if international:
        groups = ["+81", prefix[1:], *groups[1:]]
    raw = separator.join(groups)
    if wide:
        raw = raw.translate(_WIDE_DIGITS)
    assert normalize_phone(raw) == f"+81{prefix[1:]}{subscriber}"


# Phone-shaped input: a prefix, 8-11 national digits, separators sprinkled in, sometimes full width.
# About two in three are valid numbers, so both branches of the property below are exercised.
_PHONE_SHAPED = st.builds(
    lambda head, digits, separators, wide: (
        head + "".join(digit + sep for digit, sep in zip(digits, separators, strict=False))
    ).translate(_WIDE_DIGITS if wide else {}),
    st.sampled_from(["0", "0", "0", "+81", "+81 ", "+81 (0)", "＋８１", "(0", "+1", ""]),
    st.one_of(
        st.from_regex(r"[6-9]0[1-9][0-9]{7}", fullmatch=True),  # mobile-like
        st.from_regex(r"[36][1-9][0-9]{7}", fullmatch=True),  # Tokyo/Osaka fixed-line-like
        st.from_regex(r"[1-9][0-9]{7,10}", fullmatch=True),  # anything
    ),
    st.lists(st.sampled_from(["", "", "", "", "-", " ", "ー", "－", "―", ")"]), min_size=11, max_size=11),
    st.booleans(),
)


@given(_PHONE_SHAPED)
def test_it_only_ever_returns_a_japanese_e164_number(raw):
    try:
        normalized = normalize_phone(raw)
    except NormalizationError:
        return
    assert re.fullmatch(r"\+81[0-9]{9,10}", normalized)  # [0-9], not \d: that would allow any digit
    assert normalize_phone(normalized) == normalized


# --- email -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("taro@example.com", "taro@example.com"),
        ("Taro.Yamada@Example.COM", "taro.yamada@example.com"),
        ("  taro@example.com\u3000", "taro@example.com"),
        ("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍ", "taro@example.com"),  # typed with the IME in full width
        ("ÉLODIE@example.fr", "élodie@example.fr"),
        ("Straße@Example.de", "straße@example.de"),  # lower(), not casefold(): ß stays
    ],
)
def test_it_normalizes_email_addresses(raw, expected):
    assert normalize_email(raw) == expected


@pytest.mark.parametrize("raw", ["", "  ", "\u3000"])
def test_it_rejects_blank_email_addresses(raw):
    with pytest.raises(NormalizationError, match=r"^Enter an email address\.$"):
        normalize_email(raw)


# --- prefectures -----------------------------------------------------------------------------


def test_it_lists_the_47_prefectures_in_jis_order():
    assert [code for code, _name, _english in PREFECTURES] == [f"{number:02d}" for number in range(1, 48)]
    assert len({name for _code, name, _english in PREFECTURES}) == 47
    assert len({english for _code, _name, english in PREFECTURES}) == 47
    suffixes = [name[-1] for _code, name, _english in PREFECTURES]
    assert {suffix: suffixes.count(suffix) for suffix in "都道府県"} == {"都": 1, "道": 1, "府": 2, "県": 43}
    assert PREFECTURES[0] == ("01", "北海道", "Hokkaido")
    assert PREFECTURES[12] == ("13", "東京都", "Tokyo")
    assert PREFECTURES[25] == ("26", "京都府", "Kyoto")
    assert PREFECTURES[26] == ("27", "大阪府", "Osaka")
    assert PREFECTURES[46] == ("47", "沖縄県", "Okinawa")


def test_it_offers_prefecture_choices_labelled_in_the_active_language():
    assert len(PREFECTURE_CHOICES) == 47
    assert [code for code, _label in PREFECTURE_CHOICES] == [code for code, _ja, _en in PREFECTURES]
    with translation.override("en"):
        assert str(PREFECTURE_CHOICES[12][1]) == "Tokyo"


@pytest.mark.parametrize(("code", "name", "english"), PREFECTURES)
def test_it_reads_every_prefecture_in_every_form(code, name, english):
    stem = name[:-1] if name != "北海道" else name
    assert normalize_prefecture(name) == code
    assert normalize_prefecture(stem) == code
    assert normalize_prefecture(code) == code
    assert normalize_prefecture(str(int(code))) == code
    assert normalize_prefecture(code.translate(_WIDE_DIGITS)) == code
    assert normalize_prefecture(english) == code
    assert normalize_prefecture(english.upper()) == code
    assert normalize_prefecture(english.lower()) == code


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("東京都", "13"),
        ("大阪府", "27"),
        ("北海道", "01"),
        ("京都府", "26"),
        ("京都", "26"),  # not 東京都: exact lookup of the stem
        ("東京", "13"),
        ("大阪", "27"),
        ("神奈川", "14"),
        ("神奈川県", "14"),
        ("鹿児島", "46"),
        ("沖縄県", "47"),
        ("  東京都\u3000", "13"),
        ("13", "13"),
        ("1", "01"),
        ("01", "01"),
        ("１３", "13"),
        ("４７", "47"),
        ("9", "09"),
        ("JP-13", "13"),  # ISO 3166-2
        ("tokyo", "13"),
        ("Tokyo", "13"),
        ("TOKYO", "13"),
        ("Osaka", "27"),
        ("Kyoto", "26"),
        ("Tōkyō", "13"),  # Hepburn with macrons
        ("Hyōgo", "28"),
        ("Ｏｓａｋａ", "27"),
        ("Tokyo-to", "13"),
        ("Osaka fu", "27"),
        ("Aichi-ken", "23"),
        ("Hokkaido Prefecture", "01"),
    ],
)
def test_it_normalizes_prefectures(raw, expected):
    assert normalize_prefecture(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "東京都都",
        "東京府",
        "京都都",
        "北海",  # 北海道 has no suffix to strip
        "東 京",
        "とうきょう",
        "48",
        "0",
        "00",
        "001",
        "-13",
        "13.0",
        "JP-48",
        "Texas",
        "Tokio",
        "Kyo",  # "Kyoto" minus a "to" that is not a suffix
        "Tokyoto",
    ],
)
def test_it_rejects_what_is_not_a_prefecture(raw):
    with pytest.raises(NormalizationError, match=r"^Enter a Japanese prefecture name or JIS code\.$"):
        normalize_prefecture(raw)


# --- occupation ------------------------------------------------------------------------------


def test_it_lists_the_contract_occupations_in_order():
    assert OCCUPATIONS == (
        "factory",
        "construction",
        "logistics",
        "driver",
        "retail",
        "food_service",
        "hospitality",
        "care",
        "cleaning_security",
        "other",
    )
    assert tuple(Occupation.values) == OCCUPATIONS


def test_it_labels_occupations_with_english_msgids():
    with translation.override("en"):
        labels = [str(label) for label in Occupation.labels]
    assert labels == [
        "Factory / manufacturing",
        "Construction",
        "Logistics / warehouse",
        "Driver",
        "Retail / sales",
        "Food service",
        "Hospitality / customer service",
        "Nursing care",
        "Cleaning / security",
        "Other",
    ]
