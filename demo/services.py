"""Demo data for a newcomer's first run. Every function is idempotent: it looks up by a
natural key and creates only what is missing, so `seed_demo` twice adds nothing."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db import transaction

from accounts.models import User
from consultations.demo import demo_bookings_seed
from consultations.services import advisor_onboard, availability_set_default
from leads.intake.inputs import LeadInput
from leads.intake.services import lead_ingest
from leads.models import Candidate, Partner
from leads.partners.keys import partner_create
from leads.placements.demo import demo_applications_seed
from roles.demo import demo_employers_seed

DEMO_ADVISORS = (
    ("sato.misaki@demo.urakata.example", "佐藤 美咲"),
    ("tanaka.kenta@demo.urakata.example", "田中 健太"),
    ("suzuki.ayaka@demo.urakata.example", "鈴木 彩花"),
)


@dataclass
class SeedReport:
    created: dict[str, int] = field(default_factory=dict)

    def add(self, what: str, count: int) -> None:
        self.created[what] = self.created.get(what, 0) + count

    def __str__(self) -> str:
        return ", ".join(f"{what}: {count} created" for what, count in self.created.items())


def demo_advisors_ensure(*, report: SeedReport) -> list[User]:
    advisors = []
    created = 0
    for email, name in DEMO_ADVISORS:
        advisor = User.objects.filter(email=email).first()
        if advisor is None:
            advisor = advisor_onboard(email=email, display_name=name)
            created += 1
        else:
            availability_set_default(advisor=advisor)
        advisors.append(advisor)
    report.add("advisors", created)
    return advisors


DEMO_PARTNER = ("shigoto-note", "しごとノート（デモ）")
# (family, given, kana family, kana given, email, phone, prefecture, occupation, desired roles)
DEMO_CANDIDATES = (
    (
        "高橋",
        "陽菜",
        "タカハシ",
        "ヒナ",
        "hina.takahashi@demo.urakata.example",
        "+819011110001",
        "13",
        "retail",
        ["general_admin"],
    ),
    (
        "伊藤",
        "蓮",
        "イトウ",
        "レン",
        "ren.ito@demo.urakata.example",
        "+819011110002",
        "14",
        "factory",
        ["accounting"],
    ),
    (
        "渡辺",
        "結衣",
        "ワタナベ",
        "ユイ",
        "yui.watanabe@demo.urakata.example",
        "+819011110003",
        "27",
        "food_service",
        ["sales_admin", "general_admin"],
    ),
    (
        "山本",
        "大翔",
        "ヤマモト",
        "ヒロト",
        "hiroto.yamamoto@demo.urakata.example",
        "+819011110004",
        "23",
        "logistics",
        ["general_affairs"],
    ),
    (
        "中村",
        "さくら",
        "ナカムラ",
        "サクラ",
        "sakura.nakamura@demo.urakata.example",
        "+819011110005",
        "40",
        "care",
        ["hr"],
    ),
    (  # placed last month, left early: the demo's credit note (返還インボイス)
        "小林",
        "大輝",
        "コバヤシ",
        "ダイキ",
        "daiki.kobayashi@demo.urakata.example",
        "+819011110006",
        "11",
        "food_service",
        ["accounting"],
    ),
)


def demo_candidates_ensure(*, report: SeedReport) -> None:
    """A demo partner and a few candidates, sent through the real intake (so they get their
    outbox rows and booking links like any lead)."""
    slug, name = DEMO_PARTNER
    partner = Partner.objects.filter(slug=slug).first() or partner_create(slug=slug, name=name)
    known = set(
        Candidate.objects.filter(email__in=[c[4] for c in DEMO_CANDIDATES]).values_list("email", flat=True)
    )
    created = 0
    for (
        family,
        given,
        kana_family,
        kana_given,
        email,
        phone,
        prefecture,
        occupation,
        roles,
    ) in DEMO_CANDIDATES:
        if email in known:
            continue
        lead_ingest(
            partner=partner,
            data=LeadInput(
                family_name=family,
                given_name=given,
                family_name_kana=kana_family,
                given_name_kana=kana_given,
                email=email,
                phone=phone,
                prefecture=prefecture,
                current_occupation=occupation,
                desired_roles=roles,
                consent_policy_version="demo",
                consent_agreed_at=datetime(2026, 1, 1, tzinfo=UTC),
                consent_third_party_provision=True,
                raw_payload={"demo": True},
            ),
        )
        created += 1
    report.add("candidates", created)


@transaction.atomic
def demo_seed() -> SeedReport:
    report = SeedReport()
    demo_advisors_ensure(report=report)
    demo_employers_seed(report=report)
    demo_candidates_ensure(report=report)
    demo_bookings_seed(report=report)
    demo_applications_seed(report=report)
    return report
