# Japanese text is written with full-width brackets on purpose.
"""The back-office role catalogue and the certifications it recommends, as the product
defines them today (facts from DOMAIN.md; texts written for Urakata).

Migrations do not import this module: each data migration carries its own copy, so that it
keeps doing what it did when it was written. Changing this file therefore means adding a data
migration with the new copy; tests/roles/test_catalogue.py fails until the migrated database
matches this file again.

Salaries are integer JPY a year for people starting in the role (20s, little or no desk
experience in the role itself); they rise with experience and certifications.
"""

from typing import Final, TypedDict


class CertificationData(TypedDict):
    code: str
    name: str
    name_en: str
    issuer: str
    family: str
    level: str
    sort_order: int


class RoleData(TypedDict):
    slug: str
    name_ja: str
    name_en: str
    summary: str
    typical_tasks: list[str]
    certifications: list[str]
    annual_salary_min: int
    annual_salary_max: int
    experience_preferred: bool
    sort_order: int


_NISSHO = "日本商工会議所"
_TOKYO_CCI = "東京商工会議所"
_JITSUMU = "公益財団法人 実務技能検定協会"

CERTIFICATIONS: Final[tuple[CertificationData, ...]] = (
    {
        "code": "boki_3",
        "name": "日商簿記検定3級",
        "name_en": "Nissho Bookkeeping Test, Grade 3",
        "issuer": _NISSHO,
        "family": "boki",
        "level": "3級",
        "sort_order": 10,
    },
    {
        "code": "boki_2",
        "name": "日商簿記検定2級",
        "name_en": "Nissho Bookkeeping Test, Grade 2",
        "issuer": _NISSHO,
        "family": "boki",
        "level": "2級",
        "sort_order": 11,
    },
    {
        "code": "boki_1",
        "name": "日商簿記検定1級",
        "name_en": "Nissho Bookkeeping Test, Grade 1",
        "issuer": _NISSHO,
        "family": "boki",
        "level": "1級",
        "sort_order": 12,
    },
    {
        "code": "mos_word",
        "name": "MOS Word",
        "name_en": "Microsoft Office Specialist: Word (Associate)",
        "issuer": "Microsoft",
        "family": "mos",
        "level": "一般",
        "sort_order": 20,
    },
    {
        "code": "mos_excel",
        "name": "MOS Excel",
        "name_en": "Microsoft Office Specialist: Excel (Associate)",
        "issuer": "Microsoft",
        "family": "mos",
        "level": "一般",
        "sort_order": 21,
    },
    {
        "code": "mos_powerpoint",
        "name": "MOS PowerPoint",
        "name_en": "Microsoft Office Specialist: PowerPoint (Associate)",
        "issuer": "Microsoft",
        "family": "mos",
        "level": "一般",
        "sort_order": 22,
    },
    {
        "code": "mos_expert_word",
        "name": "MOS Word エキスパート",
        "name_en": "Microsoft Office Specialist: Word Expert",
        "issuer": "Microsoft",
        "family": "mos",
        "level": "上級",
        "sort_order": 23,
    },
    {
        "code": "mos_expert_excel",
        "name": "MOS Excel エキスパート",
        "name_en": "Microsoft Office Specialist: Excel Expert",
        "issuer": "Microsoft",
        "family": "mos",
        "level": "上級",
        "sort_order": 24,
    },
    {
        "code": "sharoushi",
        "name": "社会保険労務士",
        "name_en": "Certified Social Insurance and Labour Consultant",
        "issuer": "全国社会保険労務士会連合会（厚生労働省）",
        "family": "sharoushi",
        "level": "",
        "sort_order": 30,
    },
    {
        "code": "bizhoumu_3",
        "name": "ビジネス実務法務検定試験3級",
        "name_en": "Business Law Test, Grade 3",
        "issuer": _TOKYO_CCI,
        "family": "bizhoumu",
        "level": "3級",
        "sort_order": 40,
    },
    {
        "code": "bizhoumu_2",
        "name": "ビジネス実務法務検定試験2級",
        "name_en": "Business Law Test, Grade 2",
        "issuer": _TOKYO_CCI,
        "family": "bizhoumu",
        "level": "2級",
        "sort_order": 41,
    },
    {
        "code": "hisho_3",
        "name": "秘書検定3級",
        "name_en": "Secretary Skills Test, Grade 3",
        "issuer": _JITSUMU,
        "family": "hisho",
        "level": "3級",
        "sort_order": 50,
    },
    {
        "code": "hisho_2",
        "name": "秘書検定2級",
        "name_en": "Secretary Skills Test, Grade 2",
        "issuer": _JITSUMU,
        "family": "hisho",
        "level": "2級",
        "sort_order": 51,
    },
    {
        "code": "it_passport",
        "name": "ITパスポート試験",
        "name_en": "Information Technology Passport Examination",
        "issuer": "独立行政法人 情報処理推進機構（IPA）",
        "family": "ipa",
        "level": "",
        "sort_order": 60,
    },
)

ROLES: Final[tuple[RoleData, ...]] = (
    {
        "slug": "accounting",
        "name_ja": "経理",
        "name_en": "Accounting",
        "summary": (
            "売上や支払いを記録し、請求書や経費の処理を通して会社のお金を正確に管理します。"
            "日商簿記が評価につながりやすく、実務経験のある人を求める求人が多めです。"
        ),
        "typical_tasks": [
            "請求書の発行",
            "経費精算のチェック",
            "日々の仕訳・記帳",
            "入金・支払の管理",
            "月次決算の補助",
        ],
        "certifications": ["boki_3", "boki_2", "boki_1", "mos_excel"],
        "annual_salary_min": 3_200_000,
        "annual_salary_max": 5_500_000,
        "experience_preferred": True,
        "sort_order": 10,
    },
    {
        "slug": "hr",
        "name_ja": "人事",
        "name_en": "Human Resources",
        "summary": (
            "社員の採用や育成、毎月の給与計算、入退社に伴う社会保険の手続きなど、働く人を支える仕事です。"
            "社会保険労務士の知識が強みになり、経験者が優遇されやすい職種です。"
        ),
        "typical_tasks": [
            "採用活動（求人掲載・面接の日程調整）",
            "入社・退社の手続き",
            "給与計算",
            "社会保険・労働保険の手続き",
            "研修の準備と運営",
        ],
        "certifications": ["sharoushi", "mos_excel"],
        "annual_salary_min": 3_000_000,
        "annual_salary_max": 5_200_000,
        "experience_preferred": True,
        "sort_order": 20,
    },
    {
        "slug": "general_affairs",
        "name_ja": "総務",
        "name_en": "General Affairs",
        "summary": (
            "備品の手配やオフィスの環境づくりなど、どの部署の担当でもない社内の仕事を幅広く引き受けます。"
            "社員みんなが働きやすい職場を整える役割です。"
        ),
        "typical_tasks": [
            "備品・消耗品の発注と管理",
            "オフィス環境の整備",
            "来客・電話の対応",
            "社内行事の準備",
            "社内文書の管理",
        ],
        "certifications": ["mos_word", "mos_excel", "hisho_2"],
        "annual_salary_min": 3_000_000,
        "annual_salary_max": 4_800_000,
        "experience_preferred": False,
        "sort_order": 30,
    },
    {
        "slug": "legal",
        "name_ja": "法務",
        "name_en": "Legal",
        "summary": (
            "取引先と交わす契約書の作成・確認や、社内から寄せられる法律の相談に対応する専門職です。"
            "専門知識が必要なため、経験者が優遇されます。"
        ),
        "typical_tasks": [
            "契約書の作成・確認",
            "契約書の保管と期限管理",
            "社内からの法律相談への対応",
            "コンプライアンス研修の準備",
            "弁護士など社外の専門家との連絡",
        ],
        "certifications": ["bizhoumu_3", "bizhoumu_2"],
        "annual_salary_min": 3_800_000,
        "annual_salary_max": 6_500_000,
        "experience_preferred": True,
        "sort_order": 40,
    },
    {
        "slug": "sales_admin",
        "name_ja": "営業事務",
        "name_en": "Sales Administration",
        "summary": (
            "受注の処理や見積書の作成、契約の事務手続きで営業担当者を支えます。"
            "未経験歓迎の求人が多く、WordやExcelの基本操作がそのまま活きる仕事です。"
        ),
        "typical_tasks": [
            "受発注の処理",
            "見積書・請求書の作成",
            "契約書類の手続き",
            "営業資料の作成",
            "電話・メールでの取引先対応",
        ],
        "certifications": ["mos_word", "mos_excel", "mos_powerpoint"],
        "annual_salary_min": 3_000_000,
        "annual_salary_max": 4_500_000,
        "experience_preferred": False,
        "sort_order": 50,
    },
    {
        "slug": "general_admin",
        "name_ja": "一般事務",
        "name_en": "General Administration",
        "summary": (
            "データ入力や書類の作成・整理など、社内の事務作業を正確に進める仕事です。"
            "未経験から挑戦しやすく、WordとExcelの基本ができれば始められる求人が多くあります。"
        ),
        "typical_tasks": [
            "データ入力",
            "書類の作成とファイリング",
            "電話・来客の対応",
            "郵便物の仕分けと発送",
            "備品の管理",
        ],
        "certifications": ["mos_word", "mos_excel", "hisho_3", "it_passport"],
        "annual_salary_min": 2_800_000,
        "annual_salary_max": 4_000_000,
        "experience_preferred": False,
        "sort_order": 60,
    },
)
