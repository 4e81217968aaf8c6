"""Where a reminder's CPU goes: the sweep called in this process, on one thread, over real
consultation reminders (the rows bench.reminders writes), so that only the delivery's own
work is measured, without Celery and without other processes competing for the CPU.

    .venv/bin/python -m bench.profile_reminders [--reminders 3000] [--rounds 3] [--top 30]

It recreates the database ``urakata_bench_reminders`` (production settings, Django's dummy
email backend), writes ``--reminders`` reminders, then for each round makes them all due
again (pending) and drains them with ``outbox_sweep(threads=1)``: it prints this process's
CPU per reminder and its PostgreSQL backend's (from /proc: unlike wall time, it hardly
depends on what else runs), the statements per reminder, and a cProfile of the last round
sorted by cumulative and own time.
"""

import argparse
import cProfile
import io
import os
import pstats
import shutil
import tempfile
import time

from bench.common import process_cpu, recreate_database
from bench.reminders import DEFAULT_DATABASE_URL, SECRET_KEY, seed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reminders", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument(
        "--no-setup", action="store_true", help="reuse the database as it is (every row is sent each round)"
    )
    args = parser.parse_args()

    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "SECRET_KEY": SECRET_KEY,
            "ALLOWED_HOSTS": "bench.example",
            "SITE_URL": "https://bench.example",
            "DATABASE_URL": args.database_url,
            "REDIS_URL": "redis://127.0.0.1:6379/11",
            "CELERY_BROKER_URL": "redis://127.0.0.1:6379/12",
            "EMAIL_URL": "",
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "LOG_LEVEL": "WARNING",
            "VAR_DIR": tempfile.mkdtemp(prefix="bench-profile-reminders-"),
        }
    )
    import django

    if not args.no_setup:
        from django.core.management import call_command

        recreate_database(args.database_url)
        django.setup()
        call_command("migrate", verbosity=0)
        seed(args.reminders)
    else:
        django.setup()

    from django.db import connection

    from core.models import OutboxMessage
    from core.outbox_sweep import outbox_sweep

    def reset() -> int:
        return OutboxMessage.objects.update(
            state=OutboxMessage.State.PENDING, due_at=django.utils.timezone.now(), attempts=0, sent_at=None
        )

    statements = 0

    def count(execute, sql, params, many, context):
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    profile = cProfile.Profile(time.process_time)
    for round_ in range(1, args.rounds + 1):
        rows = reset()
        statements = 0
        last = round_ == args.rounds
        cpu, db_cpu, wall = time.process_time(), process_cpu(backend), time.perf_counter()
        with connection.execute_wrapper(count):
            if last:
                profile.enable()
            result = outbox_sweep(batch_size=100, max_batches=rows // 100 + 2, threads=1)
            if last:
                profile.disable()
        cpu, db_cpu = time.process_time() - cpu, process_cpu(backend) - db_cpu
        wall = time.perf_counter() - wall
        assert result.sent == rows, result
        print(
            f"round {round_}{' (profiled)' if last else ''}: {rows} sent in {wall:.2f} s; per reminder: "
            f"{cpu / rows * 1000:.3f} ms CPU here, {db_cpu / rows * 1000:.3f} ms PostgreSQL backend, "
            f"{statements / rows:.2f} statements",
            flush=True,
        )
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(order).print_stats(args.top)
        print(out.getvalue())
    shutil.rmtree(os.environ["VAR_DIR"], ignore_errors=True)


if __name__ == "__main__":
    main()
