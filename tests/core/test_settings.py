"""Start-up refuses bad configuration with a message naming what is wrong. Each case runs
`manage.py check` in a fresh process, as an operator would."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": "x" * 60,
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/urakata",
    "ALLOWED_HOSTS": "urakata.example",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "REDIS_URL": "redis://127.0.0.1:6379/1",
    "SITE_URL": "https://urakata.example",
    "INVOICE_ISSUER_NAME": "株式会社ウラカタキャリア",
    "INVOICE_REGISTRATION_NUMBER": "T9876543210987",
}


def _check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in PRODUCTION
        and not k.startswith(("CONSULTATION_", "CANDIDATE_", "LEAD_", "REMINDER_", "INVOICE_"))
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_it_starts_with_complete_production_settings():
    result = _check(PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS", "INVOICE_REGISTRATION_NUMBER"]
)
def test_it_refuses_production_without_a_required_variable(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}

    result = _check(env)

    assert result.returncode != 0
    assert (
        "ImproperlyConfigured: Production settings need these environment variables: " + missing
        in result.stderr
    )


def test_it_refuses_debug_in_production():
    result = _check({**PRODUCTION, "DEBUG": "true"})

    assert result.returncode != 0
    assert "DEBUG must be off with production settings." in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CONSULTATION_MIN_NOTICE", "2 hours"),
        ("CONSULTATION_HORIZON", "60"),
        ("CONSULTATION_REMINDER_OFFSETS", "24h,soon"),
        ("LEAD_CONTACT_SLA", "2x"),
        ("CANDIDATE_QUIET_HOURS", "21-8"),
        ("REMINDER_SWEEP_SECONDS", "0"),
        ("REMINDER_LEASE_SECONDS", "five"),
        ("INVOICE_REGISTRATION_NUMBER", "1234567890123"),  # no T
        ("INVOICE_REGISTRATION_NUMBER", "T123456789012"),  # 12 digits
        ("INVOICE_TAX_ROUNDING", "nearest"),
        ("INVOICE_ISSUER_NAME", "  "),
    ],
)
def test_it_stops_on_a_malformed_knob_naming_it(name, value):
    result = _check({"DJANGO_SETTINGS_MODULE": "config.settings.local", name: value})

    assert result.returncode != 0
    assert f"ImproperlyConfigured: {name}=" in result.stderr
