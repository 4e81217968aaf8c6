from datetime import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Groups, User
from consultations.models import WeeklyAvailability
from leads.models import Candidate, Lead

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_it_creates_an_advisor_with_the_default_week():
    output = _run(
        "create_advisor", "Yamada@Example.com", "--name", "山田 花子", "--password", "s3cret-pass-word"
    )

    advisor = User.objects.get()
    assert advisor.email == "yamada@example.com"
    assert advisor.display_name == "山田 花子"
    assert advisor.is_staff is True
    assert advisor.is_superuser is False
    assert list(advisor.groups.values_list("name", flat=True)) == [Groups.ADVISORS]
    assert advisor.check_password("s3cret-pass-word")
    windows = list(
        WeeklyAvailability.objects.filter(advisor=advisor).values_list("weekday", "start_time", "end_time")
    )
    assert windows == [(day, time(10), time(19)) for day in range(5)]
    assert output == f"Created advisor yamada@example.com (id {advisor.pk}) with 5 weekly windows.\n"


def test_it_gives_an_unusable_password_without_one():
    _run("create_advisor", "sato@example.com", "--name", "佐藤")

    assert User.objects.get().has_usable_password() is False


def test_it_refuses_a_second_advisor_with_the_same_email_in_any_case():
    _run("create_advisor", "sato@example.com", "--name", "佐藤")

    with pytest.raises(CommandError, match="already exists"):
        _run("create_advisor", "SATO@example.com", "--name", "佐藤 二号")
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("email", "name", "message"),
    [("not-an-email", "佐藤", "not a valid email"), ("a@example.com", " ", "must not be empty")],
)
def test_it_rejects_bad_input(email, name, message):
    with pytest.raises(CommandError, match=message):
        _run("create_advisor", email, "--name", name)
    assert User.objects.count() == 0


def test_it_prints_the_first_admin_password_once():
    first = _run("bootstrap_admin")
    second = _run("bootstrap_admin")

    admin = User.objects.get()
    password = first.split("password: ")[1].strip()
    assert admin.is_superuser is True
    assert admin.check_password(password)
    assert "password:" not in second
    assert "already exists" in second
    assert User.objects.count() == 1


def test_seed_demo_adds_nothing_the_second_time():
    first = _run("seed_demo")
    counts = (User.objects.count(), WeeklyAvailability.objects.count())
    second = _run("seed_demo")

    assert counts[0] >= 2
    assert counts[1] == counts[0] * 5
    assert (User.objects.count(), WeeklyAvailability.objects.count()) == counts
    created = (
        "advisors: {}, employers: {}, postings: {}, fee terms: {}, candidates: {}, bookings: {}, "
        "applications: {}, invoices and credit notes: {}"
    )
    seeded = (3, 3, 8, 3, 6, 4, 5, 3)  # two placements invoiced, one credit note
    assert first.strip() == "seed_demo: " + created.format(*(f"{n} created" for n in seeded))
    assert second.strip() == "seed_demo: " + created.format(*["0 created"] * 8)
    assert Candidate.objects.count() == 6
    assert Lead.objects.count() == 6
