"""The moved clock: `--clock=ISO` (or URAKATA_TEST_CLOCK) starts every test inside
`time_machine.travel(ISO, tick=True)`, so a test that quietly depends on the day it runs
fails on any run, not only on the day the calendar turns (CONTRACT has no date in it; the
suite must not either). `.ci/run` runs the suite once on the real clock and once moved.

Processes a test starts (workers, beat, manage.py, the `make run` processes) see the same
moved clock: the fixture puts tests/clock_site on PYTHONPATH, whose sitecustomize travels by
URAKATA_TEST_CLOCK_OFFSET seconds, the test's offset from the real clock."""

import os
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import time_machine

SITE = str(Path(__file__).resolve().parent / "clock_site")
OFFSET_VARIABLE = "URAKATA_TEST_CLOCK_OFFSET"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock",
        default=os.environ.get("URAKATA_TEST_CLOCK", ""),
        help="start every test at this instant (ISO 8601 with an offset), the clock ticking",
    )


def moved_to(config: pytest.Config) -> datetime | None:
    value = config.getoption("--clock")
    if not value:
        return None
    instant = datetime.fromisoformat(value)
    if instant.tzinfo is None:
        raise pytest.UsageError(f"--clock needs an offset (+09:00 or Z): {value!r}")
    return instant


def pytest_configure(config: pytest.Config) -> None:
    instant = moved_to(config)
    if instant is not None:
        config.stash[_INSTANT] = instant


def pytest_report_header(config: pytest.Config) -> str:
    instant = config.stash.get(_INSTANT, None)
    return f"clock: moved, every test starts at {instant.isoformat()}" if instant else "clock: real"


_INSTANT = pytest.StashKey[datetime]()


@pytest.fixture(autouse=True)
def _moved_clock(request: pytest.FixtureRequest) -> Iterator[None]:
    instant = request.config.stash.get(_INSTANT, None)
    if instant is None:
        yield
        return
    offset = instant.timestamp() - time.time()  # not travelling yet: the real clock
    saved = {name: os.environ.get(name) for name in (OFFSET_VARIABLE, "PYTHONPATH")}
    os.environ[OFFSET_VARIABLE] = repr(offset)
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [SITE, saved["PYTHONPATH"]]))
    try:
        with time_machine.travel(instant, tick=True):
            yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def clock_at(instant: str) -> object:
    """An autouse fixture for a module whose tests are written around fixed dates: every
    test there starts at `instant`, the clock ticking, whatever the day of the run.

        _clock = clock_at("2026-11-25T10:00:00+09:00")
    """

    def _clock_at() -> Iterator[None]:
        with time_machine.travel(datetime.fromisoformat(instant), tick=True):
            yield

    # The moved clock never reaches such a test: the moved-clock pass leaves it out
    # (tests/conftest.py, `redundant_in`).
    _clock_at.fixes_the_clock = True  # type: ignore[attr-defined]
    return pytest.fixture(autouse=True)(_clock_at)
