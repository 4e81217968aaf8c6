"""Demo data for a newcomer's first run. Every function is idempotent: it looks up by a
natural key and creates only what is missing, so `seed_demo` twice adds nothing."""

from dataclasses import dataclass, field

from django.db import transaction

from accounts.models import User
from consultations.services import advisor_onboard, availability_set_default

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


@transaction.atomic
def demo_seed() -> SeedReport:
    report = SeedReport()
    demo_advisors_ensure(report=report)
    return report
