"""The after-commit kick's cost in the request that makes it: enqueueing one sweep on Redis,
the way core.tasks does it (one connection per process, kept between kicks) against the
baseline of a new connection per kick (what the dead-broker fix did first), in one run.

    .venv/bin/python -m bench.outbox_kick [--kicks 500] [--broker redis://127.0.0.1:6379/14]

The broker's queue is emptied afterwards. Prints the median and p99 of each, in ms."""

import argparse
import os
import statistics
import time
from collections.abc import Callable


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kicks", type=int, default=500)
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/14")
    args = parser.parse_args()
    os.environ["CELERY_BROKER_URL"] = args.broker
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    import redis

    from bench.common import machine, percentile
    from core.tasks import _enqueue_sweep, outbox_sweep_task

    app = outbox_sweep_task.app

    def new_connection_per_kick() -> None:
        with app.connection_for_write(transport_options={"max_retries": 0}) as connection:
            outbox_sweep_task.apply_async(  # type: ignore[call-arg]  # celery-types omit `connection`
                countdown=1.0, retry=False, connection=connection
            )

    def kept_connection() -> None:
        _enqueue_sweep(1.0)

    print(machine())
    runs: list[tuple[str, Callable[[], None]]] = [
        ("baseline: a new connection per kick", new_connection_per_kick),
        ("core.tasks: the connection kept", kept_connection),
    ]
    for name, kick in runs * 2:  # each twice, interleaved: the VM's speed drifts
        kick()  # warm up
        times = []
        for _ in range(args.kicks):
            started = time.perf_counter()
            kick()
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        print(f"{name}: median {statistics.median(times):.2f} ms, p99 {percentile(times, 0.99):.2f} ms")
    redis.Redis.from_url(args.broker).flushdb()


if __name__ == "__main__":
    main()
