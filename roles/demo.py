# Japanese text is written with full-width brackets on purpose.
"""Demo employers and their non-public postings, for a newcomer's first run (`seed_demo`).

The companies are made up (marked デモ). Idempotent: an employer is found by its name and a
posting by (employer, title); only what is missing is created, nothing is updated.
"""

from datetime import date
from decimal import Decimal
from typing import Any, Final, Protocol

from django.db import transaction

from roles.models import Certification, Employer, EmployerFeeTerms, JobPosting, Role
from roles.services import employer_create, job_posting_create


class SeedReport(Protocol):
    """What demo.services.SeedReport offers (roles does not import the demo app)."""

    def add(self, what: str, count: int) -> None: ...


OPEN = JobPosting.Status.OPEN
FULL_TIME = JobPosting.EmploymentType.FULL_TIME

DEMO_EMPLOYERS: Final[tuple[dict[str, Any], ...]] = (
    {
        "name": "あおば食品株式会社（デモ）",
        "name_kana": "アオバショクヒン",
        "prefecture": "13",
        "industry": "食品メーカー",
        "fee_rate_percent": Decimal("30.00"),
        "fee_notes": "理論年収の30%。入社後3か月以内の退職は一部返金。",
    },
    {
        "name": "株式会社ミライ住設（デモ）",
        "name_kana": "ミライジュウセツ",
        "prefecture": "27",
        "industry": "住宅設備の卸売",
        "fee_rate_percent": Decimal("35.00"),
        "fee_notes": "理論年収の35%。返金規定は契約書を参照。",
    },
    {
        "name": "東和ロジスティクス株式会社（デモ）",
        "name_kana": "トウワロジスティクス",
        "prefecture": "11",
        "industry": "物流・倉庫",
        "fee_rate_percent": Decimal("25.00"),
        "fee_notes": "理論年収の25%。",
    },
)

# (employer name, role slug, fields). Certification lists are codes.
DEMO_POSTINGS: Final[tuple[tuple[str, str, dict[str, Any]], ...]] = (
    (
        "あおば食品株式会社（デモ）",
        "general_admin",
        {
            "title": "【未経験歓迎】一般事務（受発注データの入力・書類整理）",
            "description": "本社の業務課で、取引先から届く注文データの入力と伝票・書類の整理を担当します。"
            "入力ルールはマニュアルにまとまっており、最初の1か月は先輩が隣で教えます。",
            "prefecture": "13",
            "salary_min": 3_000_000,
            "salary_max": 3_800_000,
            "inexperienced_welcome": True,
            "preferred_certifications": ["mos_excel"],
            "pc_skills": ["Word（文書の作成）", "Excel（入力・簡単な関数）"],
            "weekends_holidays_off": True,
            "annual_holidays": 125,
            "avg_monthly_overtime_hours": 8,
        },
    ),
    (
        "あおば食品株式会社（デモ）",
        "accounting",
        {
            "title": "経理スタッフ（月次決算・仕訳の担当）",
            "description": "月次決算の取りまとめと日々の仕訳入力を担当します。"
            "会計ソフトでの実務経験がある方を優遇します。",
            "prefecture": "13",
            "salary_min": 3_800_000,
            "salary_max": 5_200_000,
            "experience_preferred": True,
            "required_certifications": ["boki_2"],
            "pc_skills": ["Excel（VLOOKUP・ピボットテーブル）", "会計ソフト"],
            "weekends_holidays_off": True,
            "annual_holidays": 122,
            "avg_monthly_overtime_hours": 15,
        },
    ),
    (
        "あおば食品株式会社（デモ）",
        "accounting",
        {
            "title": "【未経験OK】経理アシスタント（請求書発行・経費精算）",
            "description": "請求書の発行と、社員から提出される経費精算のチェックをお任せします。"
            "簿記3級の勉強中の方も歓迎。資格取得の費用は会社が負担します。",
            "prefecture": "13",
            "salary_min": 3_200_000,
            "salary_max": 4_000_000,
            "inexperienced_welcome": True,
            "preferred_certifications": ["boki_3"],
            "pc_skills": ["Excel（入力・四則演算）"],
            "weekends_holidays_off": True,
            "annual_holidays": 125,
            "avg_monthly_overtime_hours": 10,
        },
    ),
    (
        "株式会社ミライ住設（デモ）",
        "sales_admin",
        {
            "title": "【未経験歓迎】営業事務（見積書作成・受注処理）",
            "description": "営業担当の依頼で見積書を作成し、受注後は納期の調整と出荷の手配を行います。"
            "接客や販売で培った言葉遣いがそのまま活かせます。",
            "prefecture": "27",
            "salary_min": 3_000_000,
            "salary_max": 4_000_000,
            "inexperienced_welcome": True,
            "preferred_certifications": ["mos_word", "mos_excel"],
            "pc_skills": ["Word", "Excel（入力・簡単な関数）"],
            "weekends_holidays_off": True,
            "annual_holidays": 120,
            "avg_monthly_overtime_hours": 12,
        },
    ),
    (
        "株式会社ミライ住設（デモ）",
        "hr",
        {
            "title": "人事・労務スタッフ（給与計算・社会保険手続き）",
            "description": "約300名分の給与計算と、入退社に伴う社会保険の手続きを担当します。"
            "労務の実務経験がある方を優遇します。",
            "prefecture": "27",
            "remote": JobPosting.Remote.PARTIAL,
            "salary_min": 3_600_000,
            "salary_max": 5_000_000,
            "experience_preferred": True,
            "preferred_certifications": ["sharoushi"],
            "pc_skills": ["Excel（関数・集計）", "給与計算ソフト"],
            "weekends_holidays_off": True,
            "annual_holidays": 123,
            "avg_monthly_overtime_hours": 18,
        },
    ),
    (
        "株式会社ミライ住設（デモ）",
        "general_affairs",
        {
            "title": "総務スタッフ（備品管理・オフィス環境の整備）",
            "description": "備品や消耗品の発注、来客対応、社内行事の準備など、会社全体を支える仕事です。",
            "prefecture": "27",
            "employment_type": JobPosting.EmploymentType.CONTRACT,
            "salary_min": 2_900_000,
            "salary_max": 3_600_000,
            "inexperienced_welcome": True,
            "pc_skills": ["Word", "Excel"],
            "weekends_holidays_off": True,
            "annual_holidays": 120,
            "avg_monthly_overtime_hours": 5,
            "status": JobPosting.Status.PAUSED,
        },
    ),
    (
        "東和ロジスティクス株式会社（デモ）",
        "sales_admin",
        {
            "title": "【未経験歓迎】営業事務（配送手配・受注サポート）",
            "description": "取引先からの注文を受け付け、倉庫と配送の手配を行います。"
            "倉庫や配送の現場経験がある方は、その知識が強みになります。",
            "prefecture": "11",
            "salary_min": 2_900_000,
            "salary_max": 3_800_000,
            "inexperienced_welcome": True,
            "pc_skills": ["Excel（入力）"],
            "weekends_holidays_off": True,
            "annual_holidays": 118,
            "avg_monthly_overtime_hours": 10,
        },
    ),
    (
        "東和ロジスティクス株式会社（デモ）",
        "legal",
        {
            "title": "法務担当（契約書の審査・管理）",
            "description": "運送・保管契約をはじめとする取引先との契約書の審査と管理を担当します。"
            "企業法務の経験がある方を優遇します。",
            "prefecture": "11",
            "remote": JobPosting.Remote.PARTIAL,
            "salary_min": 4_500_000,
            "salary_max": 6_500_000,
            "experience_preferred": True,
            "preferred_certifications": ["bizhoumu_2"],
            "pc_skills": ["Word（変更履歴・コメント）"],
            "weekends_holidays_off": True,
            "annual_holidays": 124,
            "avg_monthly_overtime_hours": 15,
        },
    ),
)


@transaction.atomic
def demo_employers_seed(*, report: SeedReport) -> None:
    """Create the demo employers and postings that are missing; report how many were created."""
    employers = {}
    created_employers = 0
    for data in DEMO_EMPLOYERS:
        employer = Employer.objects.filter(name=data["name"]).first()
        if employer is None:
            employer = employer_create(**data)
            created_employers += 1
        employers[employer.name] = employer

    roles = Role.objects.in_bulk(field_name="slug")
    certifications = Certification.objects.in_bulk(field_name="code")
    created_postings = 0
    for employer_name, role_slug, data in DEMO_POSTINGS:
        employer = employers[employer_name]
        fields = dict(data)
        if JobPosting.objects.filter(employer=employer, title=fields["title"]).exists():
            continue
        fields["required_certifications"] = [
            certifications[c] for c in fields.get("required_certifications", ())
        ]
        fields["preferred_certifications"] = [
            certifications[c] for c in fields.get("preferred_certifications", ())
        ]
        fields.setdefault("status", OPEN)
        fields.setdefault("employment_type", FULL_TIME)
        job_posting_create(employer=employer, role=roles[role_slug], **fields)
        created_postings += 1

    report.add("employers", created_employers)
    report.add("postings", created_postings)
    demo_fee_terms_seed(employers=list(employers.values()), report=report)


# The demo employers' fee terms (one version each): their rate, a minimum fee, 30 days to
# pay, and the usual refund bands (80% within 30 days, 50% within 90, 10% within 180).
DEMO_TERMS_FROM = date(2026, 1, 1)
DEMO_MINIMUM_FEE = 600_000
DEMO_BANDS = [
    {"within_days": 30, "percent": 80},
    {"within_days": 90, "percent": 50},
    {"within_days": 180, "percent": 10},
]


def demo_fee_terms_seed(*, employers: list[Employer], report: SeedReport) -> None:
    created = 0
    for employer in employers:
        _terms, made = EmployerFeeTerms.objects.get_or_create(
            employer=employer,
            effective_from=DEMO_TERMS_FROM,
            defaults={
                "rate_percent": employer.fee_rate_percent,
                "minimum_fee_jpy": DEMO_MINIMUM_FEE,
                "payment_term_days": 30,
                "refund_bands": DEMO_BANDS,
            },
        )
        created += made
    report.add("fee terms", created)
