"""`manage.py create_partner` (CONTRACT section 1)."""

import hashlib
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from leads.models import ApiKey, Partner
from tests.leads.helpers_admin import API_KEY_RE, list_leads

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command("create_partner", *args, stdout=out)
    return out.getvalue()


def _last_line(output: str) -> str:
    assert output.endswith("\n")
    return output.splitlines()[-1]


def test_it_creates_a_partner_and_prints_its_key_alone_on_the_last_line():
    output = _run("career-media", "--name", "Career Media")

    key = _last_line(output)
    assert API_KEY_RE.fullmatch(key)
    assert output == f"Created partner career-media (Career Media), rate limit 120/min. API key:\n{key}\n"
    partner = Partner.objects.get()
    assert (partner.slug, partner.name, partner.is_active, partner.rate_limit_per_minute) == (
        "career-media",
        "Career Media",
        True,
        120,
    )
    api_key = ApiKey.objects.get()
    assert api_key.partner == partner
    assert api_key.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert api_key.revoked_at is None
    assert list_leads(key).status_code == 200


def test_it_sets_the_rate_limit():
    output = _run("career-media", "--name", "Career Media", "--rate-limit", "2")

    key = _last_line(output)
    assert output.splitlines()[0] == "Created partner career-media (Career Media), rate limit 2/min. API key:"
    assert Partner.objects.get().rate_limit_per_minute == 2
    # The limit counts per clock minute: the three calls are made at one frozen instant, so
    # that they never straddle two windows.
    with time_machine.travel(timezone.now(), tick=False):
        assert [list_leads(key).status_code for _ in range(3)] == [200, 200, 429]


def test_it_sets_a_rate_limit_of_30():
    _run("career-media", "--name", "Career Media", "--rate-limit", "30")

    assert Partner.objects.get().rate_limit_per_minute == 30


def test_it_makes_a_partner_unlimited_with_rate_limit_zero():
    output = _run("career-media", "--name", "Career Media", "--rate-limit", "0")

    key = _last_line(output)
    assert (
        output.splitlines()[0]
        == "Created partner career-media (Career Media), rate limit unlimited. API key:"
    )
    assert Partner.objects.get().rate_limit_per_minute == 0
    # One more request than the default limit of 120 a minute: none is throttled.
    statuses = {list_leads(key).status_code for _ in range(121)}
    assert statuses == {200}


def test_it_refuses_a_duplicate_slug():
    _run("career-media", "--name", "Career Media")

    with pytest.raises(
        CommandError, match=r"^Partner 'career-media' already exists \(use --rotate for a new key\)\.$"
    ):
        _run("career-media", "--name", "Another Name")
    assert list(Partner.objects.values_list("name", flat=True)) == ["Career Media"]
    assert ApiKey.objects.count() == 1


def test_it_rotates_the_key_of_an_existing_partner():
    old_key = _last_line(_run("career-media", "--name", "Career Media"))

    output = _run("career-media", "--rotate")

    new_key = _last_line(output)
    assert API_KEY_RE.fullmatch(new_key)
    assert new_key != old_key
    assert output == f"Rotated the API key of career-media; the previous keys are revoked.\n{new_key}\n"
    old = ApiKey.objects.get(key_hash=hashlib.sha256(old_key.encode()).hexdigest())
    new = ApiKey.objects.get(key_hash=hashlib.sha256(new_key.encode()).hexdigest())
    assert old.revoked_at is not None
    assert new.revoked_at is None
    assert Partner.objects.count() == 1
    refused = list_leads(old_key)
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == "Bearer"
    assert list_leads(new_key).status_code == 200


def test_it_can_change_the_rate_limit_while_rotating():
    _run("career-media", "--name", "Career Media")

    _run("career-media", "--rotate", "--rate-limit", "0")

    assert Partner.objects.get().rate_limit_per_minute == 0


def test_it_refuses_to_rotate_an_unknown_partner():
    with pytest.raises(CommandError, match=r"^No partner with slug 'nope'\.$"):
        _run("nope", "--rotate")
    assert Partner.objects.count() == 0
    assert ApiKey.objects.count() == 0


@pytest.mark.parametrize("slug", ["bad slug!", "日本語", ""])
def test_it_refuses_an_invalid_slug(slug):
    with pytest.raises(CommandError, match=r"^slug: "):
        _run(slug, "--name", "Bad")
    assert Partner.objects.count() == 0
    assert ApiKey.objects.count() == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["career-media"], r"^--name is required to create a partner\.$"),
        (["career-media", "--name", "  "], r"^--name is required to create a partner\.$"),
        (["career-media", "--name", "Career Media", "--rate-limit", "-1"], r"^--rate-limit must be 0"),
    ],
)
def test_it_refuses_bad_options(args, message):
    with pytest.raises(CommandError, match=message):
        _run(*args)
    assert Partner.objects.count() == 0


def test_rotate_can_rename_and_change_the_rate_limit_in_one_go():
    call_command("create_partner", "rename-me", "--name", "Old", stdout=StringIO())

    out = StringIO()
    call_command(
        "create_partner", "rename-me", "--rotate", "--name", "New name", "--rate-limit", "5", stdout=out
    )

    partner = Partner.objects.get(slug="rename-me")
    assert (partner.name, partner.rate_limit_per_minute) == ("New name", 5)
    assert out.getvalue().splitlines()[-1].startswith("urk_")
