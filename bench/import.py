"""Import benchmark: a generated Zendesk export through ``import-zendesk``'s reader and importer.

Writes an export of ``--conversations`` tickets with ``--messages`` comments each
(users.json, and tickets.json one ticket per line, as Zendesk's full JSON export),
reads it with ``moving_in.zendesk.read_export`` and stores it with
``moving_in.importer.import_export`` (customers through the identity resolver, one
transaction per conversation), then pushes ``--ingest-n`` live chat messages
through ``ingest_message`` (``bench/ingest.py``'s loop) on the same database, so the
two rates are read side by side in one run.

    .venv/bin/python bench/import.py                              # 100k conv., 1M messages
    .venv/bin/python bench/import.py --conversations 2000 --messages 10
    .venv/bin/python bench/import.py --database-url sqlite:////tmp/bench-import.sqlite3

Prints ``import: <n> messages/s`` and ``ingest: <n> msg/s`` on their own lines, with
context lines around them.
"""

import argparse
import json
import os
import platform
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ingest import WARM_UP_MESSAGES, build_messages, configure_environment, run_ingest
from postgres_admin import create_database_if_missing

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/comptoir_bench_import"
TEXTS = [
    "Bonjour, ma commande n'est pas arrivée",
    "Nous regardons avec le transporteur.",
    "Le paiement a échoué avec la carte 4970 1012 3456 7893, que faire ?",
    "Merci beaucoup !",
    "Votre colis part demain matin.",
]


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=10, help="comments per ticket")
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--ingest-n", type=int, default=2000, help="live messages to compare")
    parser.add_argument(
        "--database-url", help=f"default: $DATABASE_URL, else {DEFAULT_DATABASE_URL}"
    )
    return parser.parse_args()


def write_export(folder: Path, conversations: int, per_ticket: int, customers: int) -> None:
    """users.json (customers and one agent) and tickets.json, one ticket per line."""
    users = [
        {"id": n, "name": f"Client {n}", "email": f"client{n}@example.fr", "role": "end-user"}
        for n in range(1, customers + 1)
    ] + [{"id": 999_999_999, "name": "Agent", "email": "agent@bench.example", "role": "agent"}]
    (folder / "users.json").write_text(json.dumps({"users": users}), encoding="utf-8")
    start = datetime(2025, 1, 1, tzinfo=UTC)
    comment_id = 0
    with (folder / "tickets.json").open("w", encoding="utf-8") as tickets:
        for ticket in range(1, conversations + 1):
            requester = (ticket % customers) + 1
            opened = start + timedelta(minutes=ticket)
            comments = []
            for n in range(per_ticket):
                comment_id += 1
                comments.append(
                    {
                        "id": comment_id,
                        "author_id": requester if n % 2 == 0 else 999_999_999,
                        "body": TEXTS[(ticket + n) % len(TEXTS)],
                        "public": n % 5 != 3,
                        "created_at": (opened + timedelta(minutes=n)).isoformat(),
                    }
                )
            row = {
                "id": ticket,
                "subject": f"Demande {ticket}",
                "status": "solved" if ticket % 3 else "open",
                "requester_id": requester,
                "via": {"channel": "email"},
                "created_at": opened.isoformat(),
                "updated_at": (opened + timedelta(minutes=per_ticket)).isoformat(),
                "comments": comments,
            }
            tickets.write(json.dumps(row) + "\n")


def main() -> None:
    arguments = parse_arguments()
    url = configure_environment(
        arguments.database_url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    )
    if url.startswith(("postgres://", "postgresql://")):
        create_database_if_missing(url)

    import django

    django.setup()
    from django.core.management import call_command

    from comptoir.conversations.ingest import ingest_message
    from comptoir.conversations.models import Message
    from comptoir.moving_in import zendesk
    from comptoir.moving_in.importer import import_export
    from comptoir.tenancy.models import Brand

    call_command("migrate", verbosity=0)

    def fresh_brand(label: str) -> Brand:
        suffix = uuid.uuid4().hex[:12]
        return Brand.objects.create(name=f"{label} {suffix}", slug=f"{label}-{suffix}")

    with tempfile.TemporaryDirectory() as folder:
        write_export(Path(folder), arguments.conversations, arguments.messages, arguments.customers)
        brand = fresh_brand("bench-import")
        started = time.perf_counter()
        export = zendesk.read_export(Path(folder))
        read = time.perf_counter() - started
        report = import_export(brand, "zendesk", export)
        elapsed = time.perf_counter() - started
    stored = Message.objects.filter(brand=brand).count()
    expected = arguments.conversations * arguments.messages
    if stored != expected:
        raise SystemExit(f"expected {expected} messages, found {stored}: {report.skipped[:5]}")

    warm_up = fresh_brand("bench-warm-up")
    for inbound in build_messages(warm_up, WARM_UP_MESSAGES, 10, 1):
        ingest_message(inbound)
    live = fresh_brand("bench-ingest")
    ingest_elapsed, _ = run_ingest(
        build_messages(live, arguments.ingest_n, 200, 2026), ingest_message
    )

    import_rate = stored / elapsed
    ingest_rate = arguments.ingest_n / ingest_elapsed
    print(f"python: {platform.python_version()}, database: {url.split('@')[-1]}")
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs, load average {load}")
    print(
        f"export: {arguments.conversations} tickets, {stored} messages, "
        f"{report.customers_created} customers; read in {read:.1f} s, total {elapsed:.1f} s"
    )
    print(f"import: {import_rate:.0f} messages/s")
    print(f"ingest: {ingest_rate:.0f} msg/s ({arguments.ingest_n} live chat messages)")
    print(f"ratio: {import_rate / ingest_rate:.2f}")


if __name__ == "__main__":
    main()
