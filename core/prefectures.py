"""Japan's 47 prefectures by JIS X 0401 code, the form in which addresses are stored.

Each row: (code, Japanese name, English name). The Japanese name is data (partners send it,
CONTRACT section 3); the English name is also the msgid of the admin's label, which goes
through the catalogue like any other.
"""

from typing import Final

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy, gettext_noop

# Marked for the catalogue but kept as plain strings: normalisation matches partners'
# romaji input against them, and the admin's choices translate them lazily.
_ = gettext_noop

PREFECTURES: Final[tuple[tuple[str, str, str], ...]] = (
    ("01", "北海道", _("Hokkaido")),
    ("02", "青森県", _("Aomori")),
    ("03", "岩手県", _("Iwate")),
    ("04", "宮城県", _("Miyagi")),
    ("05", "秋田県", _("Akita")),
    ("06", "山形県", _("Yamagata")),
    ("07", "福島県", _("Fukushima")),
    ("08", "茨城県", _("Ibaraki")),
    ("09", "栃木県", _("Tochigi")),
    ("10", "群馬県", _("Gunma")),
    ("11", "埼玉県", _("Saitama")),
    ("12", "千葉県", _("Chiba")),
    ("13", "東京都", _("Tokyo")),
    ("14", "神奈川県", _("Kanagawa")),
    ("15", "新潟県", _("Niigata")),
    ("16", "富山県", _("Toyama")),
    ("17", "石川県", _("Ishikawa")),
    ("18", "福井県", _("Fukui")),
    ("19", "山梨県", _("Yamanashi")),
    ("20", "長野県", _("Nagano")),
    ("21", "岐阜県", _("Gifu")),
    ("22", "静岡県", _("Shizuoka")),
    ("23", "愛知県", _("Aichi")),
    ("24", "三重県", _("Mie")),
    ("25", "滋賀県", _("Shiga")),
    ("26", "京都府", _("Kyoto")),
    ("27", "大阪府", _("Osaka")),
    ("28", "兵庫県", _("Hyogo")),
    ("29", "奈良県", _("Nara")),
    ("30", "和歌山県", _("Wakayama")),
    ("31", "鳥取県", _("Tottori")),
    ("32", "島根県", _("Shimane")),
    ("33", "岡山県", _("Okayama")),
    ("34", "広島県", _("Hiroshima")),
    ("35", "山口県", _("Yamaguchi")),
    ("36", "徳島県", _("Tokushima")),
    ("37", "香川県", _("Kagawa")),
    ("38", "愛媛県", _("Ehime")),
    ("39", "高知県", _("Kochi")),
    ("40", "福岡県", _("Fukuoka")),
    ("41", "佐賀県", _("Saga")),
    ("42", "長崎県", _("Nagasaki")),
    ("43", "熊本県", _("Kumamoto")),
    ("44", "大分県", _("Oita")),
    ("45", "宮崎県", _("Miyazaki")),
    ("46", "鹿児島県", _("Kagoshima")),
    ("47", "沖縄県", _("Okinawa")),
)

PREFECTURE_CODES: Final[tuple[str, ...]] = tuple(code for code, _ja, _label in PREFECTURES)
PREFECTURE_CHOICES: Final[list[tuple[str, Promise]]] = [
    (code, gettext_lazy(english)) for code, _ja, english in PREFECTURES
]
