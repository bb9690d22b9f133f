"""Ingest benchmark: sequential inbound chat messages through ``ingest_message``.

Measures single-process, per-message throughput of the real ingest pipeline
(card masking, customer resolution, threading, message + event rows, one
transaction and one commit per message, publication on the in-memory channel
layer) and compares it with the floor the database itself sets: the same number
of plain single-row INSERT + COMMIT into a table shaped like
``conversations_message``. The ratio says how much of a commit's worth of time
the application spends per message on top of the database's own cost.

    .venv/bin/python bench/ingest.py                      # local PostgreSQL
    .venv/bin/python bench/ingest.py --n 5000
    .venv/bin/python bench/ingest.py --database-url sqlite:////tmp/bench.sqlite3
    .venv/bin/python bench/ingest.py --profile            # cProfile of the ingest loop

Prints ``ingest: <n> msg/s``, ``baseline: <n> rows/s`` and ``ratio: <x>`` on
their own lines, with context lines around them.
"""

import argparse
import cProfile
import io
import os
import platform
import pstats
import random
import sqlite3
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from bench_secret import ensure_secret_key
from postgres_admin import create_database_if_missing

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/comptoir_bench"
WARM_UP_MESSAGES = 50
SCRATCH_TABLE = "bench_scratch_message"

# What chat visitors write: short questions, some with order or phone numbers,
# a few with a card number that the pipeline must mask.
TEXTS = [
    "Bonjour, ma commande n'est pas arrivée",
    "Hello, I would like to change my delivery address please",
    "Est-ce que vous livrez en Belgique ?",
    "Merci beaucoup !",
    "Ma commande 2026-118-4471 est bloquée depuis lundi, pouvez-vous regarder ?",
    "Rappelez-moi au +33 6 12 34 56 78 s'il vous plaît",
    "Le paiement a échoué avec la carte 4970 1012 3456 7893, que faire ?",
    "Can I return a pair of shoes bought in store?",
    "D'accord, j'attends votre retour.",
    "La taille 38 est-elle disponible en bleu marine ? Je cherche ce modèle depuis des "
    "semaines et il est toujours indiqué en rupture sur le site.",
]


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="messages (and baseline rows)")
    parser.add_argument("--visitors", type=int, default=200, help="distinct chat visitors")
    parser.add_argument(
        "--database-url",
        help=f"default: $DATABASE_URL, else {DEFAULT_DATABASE_URL}",
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--profile", action="store_true", help="also run the ingest loop under cProfile"
    )
    return parser.parse_args()


def configure_environment(database_url: str | None) -> str:
    """Point the settings at the bench database before Django is imported."""
    url = database_url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)  # in-memory channel layer: no Redis round trips
    os.environ["DEBUG"] = "0"  # DEBUG would keep every query in memory
    ensure_secret_key()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "comptoir.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    return url


def build_messages(brand, n: int, visitors: int, seed: int) -> list:
    """``n`` inbound chat messages from ``visitors`` visitors chosen at random.

    Each visitor's first message creates a customer and a conversation; the
    others thread into it, as on a busy web chat.
    """
    from comptoir.conversations.inbound import IdentityClaim, InboundMessage
    from comptoir.conversations.models import Channel
    from comptoir.customers.models import IdentityKind

    rng = random.Random(seed)
    visitor_ids = [uuid.UUID(int=rng.getrandbits(128)).hex for _ in range(visitors)]
    messages = []
    for sequence in range(n):
        visitor = rng.choice(visitor_ids)
        messages.append(
            InboundMessage(
                brand=brand,
                channel=Channel.WEBCHAT,
                external_id=f"{visitor}:{sequence}",
                text=rng.choice(TEXTS),
                identities=[IdentityClaim(IdentityKind.CHAT_VISITOR, visitor)],
            )
        )
    return messages


def run_ingest(messages: list, ingest: Callable) -> tuple[float, list[float]]:
    latencies = []
    started = time.perf_counter()
    for inbound in messages:
        before = time.perf_counter()
        ingest(inbound)
        latencies.append(time.perf_counter() - before)
    return time.perf_counter() - started, latencies


def scratch_rows(n: int, seed: int) -> list[tuple]:
    """Rows shaped like ``conversations_message`` (same columns, similar values)."""
    from django.utils import timezone

    rng = random.Random(seed)
    now = timezone.now()
    return [
        (1, rng.randrange(1, 200), rng.randrange(1, 200), "in", "customer", None,
         rng.choice(TEXTS), False, "webchat", f"{uuid.uuid4().hex}:{i}", now)
        for i in range(n)
    ]  # fmt: skip


SCRATCH_COLUMNS = (
    "brand_id, conversation_id, contact_id, direction, author_kind, author_id, text, "
    "is_internal_note, channel, external_id, created_at"
)


def time_insert_and_commit(connection, insert: str, rows: list[tuple]) -> float:
    """Seconds for one INSERT + COMMIT per row: what one durable write costs."""
    started = time.perf_counter()
    for row in rows:
        connection.execute(insert, row)
        connection.commit()
    return time.perf_counter() - started


def postgres_baseline(url: str, rows: list[tuple]) -> float:
    """N x (INSERT one row; COMMIT) with psycopg, autocommit off, into a fresh scratch table.

    The table has the message table's columns, primary key and indexes (no
    foreign keys): the cost every durable single-row write pays on this server.
    """
    import psycopg

    insert = (
        f"INSERT INTO {SCRATCH_TABLE} ({SCRATCH_COLUMNS}) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    )
    with psycopg.connect(url, autocommit=False) as connection:
        connection.execute(f"DROP TABLE IF EXISTS {SCRATCH_TABLE}")
        connection.execute(
            f"""CREATE TABLE {SCRATCH_TABLE} (
                id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                brand_id bigint NOT NULL,
                conversation_id bigint NOT NULL,
                contact_id bigint NULL,
                direction varchar(3) NOT NULL,
                author_kind varchar(10) NOT NULL,
                author_id bigint NULL,
                text text NOT NULL,
                is_internal_note boolean NOT NULL,
                channel varchar(16) NOT NULL,
                external_id varchar(255) NULL,
                created_at timestamp with time zone NOT NULL,
                UNIQUE (brand_id, channel, external_id)
            )"""
        )
        connection.execute(
            f"CREATE INDEX {SCRATCH_TABLE}_conv_created ON {SCRATCH_TABLE} "
            "(conversation_id, created_at)"
        )
        connection.commit()
        try:
            elapsed = time_insert_and_commit(connection, insert, rows)
        finally:
            connection.rollback()
            connection.execute(f"DROP TABLE IF EXISTS {SCRATCH_TABLE}")
            connection.commit()
    return elapsed


def sqlite_baseline(path: str, rows: list[tuple]) -> float:
    """The same loop with the stdlib sqlite3 and the pragmas the settings give Django."""
    connection = sqlite3.connect(path, isolation_level="DEFERRED")
    try:
        connection.executescript(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;"
            f"DROP TABLE IF EXISTS {SCRATCH_TABLE};"
            f"""CREATE TABLE {SCRATCH_TABLE} (
                id integer PRIMARY KEY AUTOINCREMENT,
                brand_id bigint NOT NULL, conversation_id bigint NOT NULL,
                contact_id bigint NULL, direction varchar(3) NOT NULL,
                author_kind varchar(10) NOT NULL, author_id bigint NULL, text text NOT NULL,
                is_internal_note bool NOT NULL, channel varchar(16) NOT NULL,
                external_id varchar(255) NULL, created_at datetime NOT NULL,
                UNIQUE (brand_id, channel, external_id));"""
            f"CREATE INDEX {SCRATCH_TABLE}_conv_created ON {SCRATCH_TABLE} "
            "(conversation_id, created_at);"
        )
        insert = f"INSERT INTO {SCRATCH_TABLE} ({SCRATCH_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
        sqlite_rows = [(*row[:-1], row[-1].isoformat()) for row in rows]
        elapsed = time_insert_and_commit(connection, insert, sqlite_rows)
    finally:
        connection.execute(f"DROP TABLE IF EXISTS {SCRATCH_TABLE}")
        connection.commit()
        connection.close()
    return elapsed


def describe_database() -> str:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
            server_settings = {}
            for name in ("synchronous_commit", "fsync", "autovacuum", "shared_buffers"):
                cursor.execute(f"SHOW {name}")
                server_settings[name] = cursor.fetchone()[0]
        shown = ", ".join(f"{name}={value}" for name, value in server_settings.items())
        return f"PostgreSQL {version} ({shown})"
    return f"SQLite {sqlite3.sqlite_version} (WAL, synchronous=NORMAL)"


def print_profile(profiler: cProfile.Profile) -> None:
    for order in ("tottime", "cumulative"):
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).strip_dirs().sort_stats(order).print_stats(30)
        print(f"--- cProfile, sorted by {order} ---")
        print(stream.getvalue())


def main() -> None:
    arguments = parse_arguments()
    url = configure_environment(arguments.database_url)
    if url.startswith(("postgres://", "postgresql://")):
        create_database_if_missing(url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from comptoir.conversations.ingest import ingest_message
    from comptoir.conversations.models import Conversation, Message
    from comptoir.customers.models import Customer
    from comptoir.tenancy.models import Brand

    call_command("migrate", verbosity=0)
    if connection.vendor == "postgresql":
        # Planner statistics, in case autovacuum is off or has not run yet (not timed).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    def fresh_brand(label: str) -> Brand:
        suffix = uuid.uuid4().hex[:12]
        return Brand.objects.create(name=f"{label} {suffix}", slug=f"{label}-{suffix}")

    # Warm-up on its own brand: imports, connection, statement caches.
    warm_up = fresh_brand("bench-warm-up")
    for inbound in build_messages(warm_up, WARM_UP_MESSAGES, 10, arguments.seed + 1):
        ingest_message(inbound)

    brand = fresh_brand("bench")
    messages = build_messages(brand, arguments.n, arguments.visitors, arguments.seed)
    elapsed, latencies = run_ingest(messages, ingest_message)

    stored = Message.objects.filter(brand=brand).count()
    if stored != arguments.n:
        raise SystemExit(f"expected {arguments.n} messages, found {stored}")
    customers = Customer.objects.filter(brand=brand).count()
    conversations = Conversation.objects.filter(brand=brand).count()

    rows = scratch_rows(arguments.n, arguments.seed)
    if connection.vendor == "postgresql":
        baseline_elapsed = postgres_baseline(url, rows)
        baseline_method = "psycopg, INSERT + COMMIT per row"
    else:
        baseline_elapsed = sqlite_baseline(connection.settings_dict["NAME"], rows)
        baseline_method = "sqlite3, INSERT + COMMIT per row"

    ingest_rate = arguments.n / elapsed
    baseline_rate = arguments.n / baseline_elapsed
    quantiles = statistics.quantiles(latencies, n=100)
    print(f"database: {describe_database()}")
    print(f"python: {platform.python_version()} ({platform.python_implementation()})")
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs, {platform.machine()}, load average {load}")
    print(
        f"n: {arguments.n} messages from {arguments.visitors} visitors "
        f"({customers} customers, {conversations} conversations created), "
        f"{WARM_UP_MESSAGES} warm-up messages not timed"
    )
    print(
        f"ingest latency: p50 {quantiles[49] * 1000:.2f} ms, p95 {quantiles[94] * 1000:.2f} ms, "
        f"p99 {quantiles[98] * 1000:.2f} ms, max {max(latencies) * 1000:.2f} ms"
    )
    print(f"baseline method: {baseline_method} into a message-shaped scratch table")
    print(f"ingest: {ingest_rate:.0f} msg/s")
    print(f"baseline: {baseline_rate:.0f} rows/s")
    print(f"ratio: {ingest_rate / baseline_rate:.2f}")

    if arguments.profile:
        profiled_brand = fresh_brand("bench-profile")
        profiled = build_messages(profiled_brand, arguments.n, arguments.visitors, arguments.seed)
        profiler = cProfile.Profile()
        profiler.enable()
        run_ingest(profiled, ingest_message)
        profiler.disable()
        print_profile(profiler)


if __name__ == "__main__":
    main()
