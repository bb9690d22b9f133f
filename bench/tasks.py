"""Task benchmark: no-op jobs through one worker, ours against Procrastinate's own.

PostgreSQL: ``n`` no-op jobs of a Comptoir task (``@task``, queued with
``Task.enqueue`` inside Django transactions, run through our task wrapper) and
``n`` no-op jobs of a plain Procrastinate task (deferred in one batch with its
own psycopg connector), each drained by one worker (``concurrency=1``,
``wait=False``), in the same run and database. The ratio says what our layer
costs on top of the engine.

SQLite (``--database-url sqlite:///…``): the ``database`` engine's jobs/s, the
baseline being the floor of a table queue: one INSERT + COMMIT and one DELETE +
COMMIT per job through sqlite3.

    .venv/bin/python bench/tasks.py                   # local PostgreSQL
    .venv/bin/python bench/tasks.py --n 5000
    .venv/bin/python bench/tasks.py --database-url sqlite:////tmp/bench-tasks.sqlite3

Prints ``ours: <n> jobs/s``, ``baseline: <n> jobs/s`` and ``ratio: <x>``.
"""

import argparse
import asyncio
import os
import platform
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_secret import ensure_secret_key
from postgres_admin import create_database_if_missing

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/comptoir_bench_tasks"


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="jobs of each kind")
    parser.add_argument("--database-url", help=f"default: {DEFAULT_DATABASE_URL}")
    return parser.parse_args()


def machine() -> str:
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return f"{os.cpu_count()} CPUs, {platform.machine()}, load average {load}"


def drain(app, queue: str) -> float:
    """Seconds one worker takes to run every job of ``queue``, then stop."""

    async def work() -> None:
        async with app.open_async():
            await app.run_worker_async(
                queues=[queue],
                concurrency=1,
                wait=False,
                delete_jobs="successful",
                install_signal_handlers=False,
                listen_notify=False,
            )

    started = time.perf_counter()
    asyncio.run(work())
    return time.perf_counter() - started


def bench_postgres(n: int) -> tuple[float, float, str]:
    import procrastinate
    from django.db import connection, transaction
    from procrastinate.contrib.django.utils import connector_params

    from comptoir.tasks import task
    from comptoir.tasks.procrastinate_engine import ProcrastinateBackend, worker_app

    @task(name="bench.ours_noop", queue="bench-ours")
    def ours_noop(number: int) -> None:
        pass

    ProcrastinateBackend().register_all()
    for _ in range(n):
        with transaction.atomic():
            ours_noop.enqueue(number=1)
    ours = drain(worker_app(), "bench-ours")

    plain = procrastinate.App(
        connector=procrastinate.PsycopgConnector(kwargs=connector_params("default"))
    )

    @plain.task(name="bench.plain_noop", queue="bench-plain")
    def plain_noop(number: int) -> None:
        pass

    async def defer_all() -> None:
        async with plain.open_async():
            await plain_noop.batch_defer_async(*({"number": 1} for _ in range(n)))

    asyncio.run(defer_all())
    baseline = drain(plain, "bench-plain")
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0].split(",")[0]
    method = "a plain Procrastinate no-op task, batch-deferred, one worker"
    return ours, baseline, f"{version}; baseline: {method}"


def bench_sqlite(n: int, path: str) -> tuple[float, float, str]:
    from django.db import transaction

    from comptoir.tasks import task
    from comptoir.tasks.database import DatabaseBackend

    @task(name="bench.ours_noop")
    def ours_noop(number: int) -> None:
        pass

    for _ in range(n):
        with transaction.atomic():
            ours_noop.enqueue(number=1)
    backend = DatabaseBackend()
    started = time.perf_counter()
    ran = backend.run_pending()
    ours = time.perf_counter() - started
    if ran != n:
        raise SystemExit(f"expected {n} jobs, ran {ran}")

    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute("PRAGMA journal_mode=WAL")
    raw.execute("PRAGMA synchronous=NORMAL")
    raw.execute("CREATE TABLE IF NOT EXISTS bench_queue (id INTEGER PRIMARY KEY, kwargs TEXT)")
    started = time.perf_counter()
    for _ in range(n):
        raw.execute("BEGIN IMMEDIATE")
        job = raw.execute("INSERT INTO bench_queue (kwargs) VALUES ('{}') RETURNING id").fetchone()
        raw.execute("COMMIT")
        raw.execute("BEGIN IMMEDIATE")
        raw.execute("DELETE FROM bench_queue WHERE id = ?", job)
        raw.execute("COMMIT")
    baseline = time.perf_counter() - started
    raw.close()
    method = "sqlite3, INSERT + COMMIT then DELETE + COMMIT per job (ours: claim, run, delete)"
    return ours, baseline, f"SQLite {sqlite3.sqlite_version}; baseline: {method}"


def main() -> None:
    arguments = parse_arguments()
    url = arguments.database_url or DEFAULT_DATABASE_URL
    os.environ["DATABASE_URL"] = url
    os.environ["DEBUG"] = "0"
    os.environ.pop("TASKS_BACKEND", None)
    ensure_secret_key()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "comptoir.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    if url.startswith(("postgres://", "postgresql://")):
        create_database_if_missing(url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    if connection.vendor == "postgresql":
        ours, baseline, described = bench_postgres(arguments.n)
    else:
        ours, baseline, described = bench_sqlite(arguments.n, connection.settings_dict["NAME"])
    print(f"database: {described}")
    print(f"python: {platform.python_version()}; machine: {machine()}")
    print(f"n: {arguments.n} no-op jobs each, one worker")
    print(f"ours: {arguments.n / ours:.0f} jobs/s")
    print(f"baseline: {arguments.n / baseline:.0f} jobs/s")
    print(f"ratio: {ours / baseline:.2f} (time per job, ours / baseline)")


if __name__ == "__main__":
    main()
