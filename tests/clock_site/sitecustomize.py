"""Loaded by every Python process a test starts while the clock is moved (tests/clock.py puts
this folder on PYTHONPATH): the process's clock moves by the same offset as the test's."""

import os

_offset = os.environ.get("URAKATA_TEST_CLOCK_OFFSET")
if _offset:
    import time

    import time_machine

    time_machine.travel(time.time() + float(_offset), tick=True).start()
