"""Inbox benchmark: each tab's first page, with the tabs' counts, at a million conversations.

Loads a fresh PostgreSQL database (dropped, created, migrated) with the
seeded generator of ``bench/search.py`` and ``COPY``: two brands (one
conversation in ten is a rival brand's), 50 agents in 5 teams, ``--n``
conversations of two to four messages each (customers', agents', notes, the
automatic acknowledgement of e-mails), one in five still open or pending,
assigned to an agent, waiting in a team's queue or unassigned; then
``VACUUM ANALYZE``.

Then, for an agent of the brand, each tab (Unassigned, Mine, My teams, All
open) is asked ``--repeat`` times as the console asks it: a GET of
``/console/fragments/inbox/?view=…`` through Django's full request handling
(session, membership, the two queries of ``console.queries.load_inbox``: the
tabs' counts, capped at ``INBOX_COUNT_LIMIT``, and the first ``INBOX_LIMIT`` rows;
the template). Prints per tab its count, median and p95, then exactly
``inbox p95: <ms> ms`` (all tabs together), and the baseline: the same requests,
interleaved, for an agent of a brand without a conversation, and the ratio.

    .venv/bin/python bench/inbox.py                  # 1,000,000 conversations (several minutes)
    .venv/bin/python bench/inbox.py --n 50000        # while developing
    .venv/bin/python bench/inbox.py --skip-load      # measure the database already loaded

Goal: inbox p95 < 100 ms server time (Chatwoot #12874 reports 200 s with 50+ agents). The
machine's load changes the figures: the load average is printed with them.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

from bench_secret import ensure_secret_key
from postgres_admin import run_on_own_database
from search import Generator, copy_rows, percentile

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/comptoir_bench_inbox"
TEAMS = 5
AGENTS = 50


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="conversations (default 1M)")
    parser.add_argument("--repeat", type=int, default=30, help="requests per tab (default 30)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--database-url", help=f"default: {DEFAULT_DATABASE_URL}")
    parser.add_argument(
        "--skip-load", action="store_true", help="measure the database as it is (already loaded)"
    )
    return parser.parse_args()


def configure_environment(database_url: str | None) -> str:
    url = database_url or DEFAULT_DATABASE_URL
    if not url.startswith("postgres"):
        sys.exit("bench/inbox.py measures PostgreSQL: give a postgres:// URL")
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)
    os.environ["DEBUG"] = "0"
    ensure_secret_key()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "comptoir.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    return url


def load(n_conversations: int, seed: int) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from comptoir.tenancy.models import Brand, Membership, Role, Team

    brand = Brand.objects.create(name="Bench", slug="bench")
    rival = Brand.objects.create(name="Rival", slug="rival")
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"agent{n}", first_name=f"Agent{n}") for n in range(AGENTS)
    )
    agents = Membership.objects.bulk_create(
        Membership(user=user, brand=brand, role=Role.AGENT) for user in users
    )
    teams = [Team.objects.create(brand=brand, name=f"Team {n}") for n in range(TEAMS)]
    for index, agent in enumerate(agents):
        teams[index % TEAMS].members.add(agent)
    generator = Generator(seed, n_conversations * 3, brand.pk, rival.pk)
    generator.build_customers(max(n_conversations // 2, 1))
    customers, rng, now = generator.customers, generator.rng, generator.now
    started = time.perf_counter()
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor, for COPY
        copy_rows(
            raw,
            "customers_customer",
            ("id", "brand_id", "display_name", "language", "is_vip", "created_at", "updated_at"),
            ((c[0], c[1], f"{c[2]} {c[3]}", "fr", False, now, now) for c in customers),
        )
        conversations = []
        for conversation_id in range(1, n_conversations + 1):
            customer = customers[rng.randrange(len(customers))]
            created = now - timedelta(minutes=rng.randrange(0, 60 * 24 * 365))
            status = rng.choices(("open", "pending", "resolved"), (3, 1, 16))[0]
            channel = rng.choice(("webchat", "email", "email", "whatsapp", "phone"))
            conversations.append((conversation_id, customer, created, status, channel))

        def conversation_rows():
            for cid, customer, created, status, channel in conversations:
                ours = customer[1] == brand.pk
                handling = rng.choices(("agent", "team", "nobody"), (6, 2, 2))[0]
                assignee = rng.choice(agents).pk if ours and handling == "agent" else None
                team = rng.choice(teams).pk if ours and handling == "team" else None
                subject = (
                    generator.text(customer, "customer", False)[:120] if channel == "email" else ""
                )
                yield (
                    cid,
                    customer[1],
                    customer[0],
                    status,
                    assignee,
                    team,
                    1,
                    channel,
                    subject,
                    created,
                    created + timedelta(hours=1),
                    created + timedelta(hours=2) if status == "resolved" else None,
                )

        copy_rows(
            raw,
            "conversations_conversation",
            (
                "id",
                "brand_id",
                "customer_id",
                "status",
                "assignee_id",
                "team_id",
                "priority",
                "channel",
                "subject",
                "created_at",
                "last_message_at",
                "resolved_at",
            ),
            conversation_rows(),
        )

        def message_rows():
            for cid, customer, created, _, channel in conversations:
                authors = ["customer"]
                if channel == "email":
                    authors.append("system")  # the automatic acknowledgement
                authors += rng.choices(
                    ("customer", "agent", "note"), (5, 4, 1), k=rng.randint(0, 2)
                )
                for k, author in enumerate(authors):
                    text = (
                        "Nous avons bien reçu votre message."
                        if author == "system"
                        else generator.text(customer, author, False)
                    )
                    yield (
                        customer[1],
                        cid,
                        "in" if author == "customer" else "out",
                        "agent" if author == "note" else author,
                        text,
                        author == "note",
                        channel,
                        created + timedelta(minutes=k * 7),
                    )

        messages = copy_rows(
            raw,
            "conversations_message",
            (
                "brand_id",
                "conversation_id",
                "direction",
                "author_kind",
                "text",
                "is_internal_note",
                "channel",
                "created_at",
            ),
            message_rows(),
        )
        for table in ("customers_customer", "conversations_conversation"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT max(id) FROM {table}))"
            )
    copied = time.perf_counter() - started
    connection.close()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(
        f"loaded: {n_conversations} conversations, {messages} messages,"
        f" {len(customers)} customers in {copied:.0f} s (COPY)"
    )


def _agent_of_an_empty_brand():
    """The baseline's agent: the same requests, for a brand without a conversation."""
    from django.contrib.auth import get_user_model

    from comptoir.tenancy.models import Brand, Membership, Role

    brand, _ = Brand.objects.get_or_create(slug="bench-empty", defaults={"name": "Empty"})
    user, _ = get_user_model().objects.get_or_create(username="empty-brand-agent")
    membership, _ = Membership.objects.get_or_create(
        user=user, brand=brand, defaults={"role": Role.AGENT}
    )
    return membership


def measure(repeat: int) -> None:
    from django.test import Client

    from comptoir.console.queries import InboxView
    from comptoir.tenancy.models import Membership

    agent = (
        Membership.objects.select_related("user")
        .filter(brand__slug="bench", teams__isnull=False)
        .first()
    )
    client = Client(SERVER_NAME="localhost")
    client.force_login(agent.user)
    empty_client = Client(SERVER_NAME="localhost")
    empty_client.force_login(_agent_of_an_empty_brand().user)
    timings: dict[str, list[float]] = {view.value: [] for view in InboxView}
    baseline: list[float] = []
    sizes: dict[str, int] = {}
    for view in InboxView:  # warm-up: plans, caches, templates
        client.get("/console/fragments/inbox/", {"view": view.value})
        empty_client.get("/console/fragments/inbox/", {"view": view.value})
    for _ in range(repeat):
        for view in InboxView:
            started = time.perf_counter()
            response = client.get("/console/fragments/inbox/", {"view": view.value})
            timings[view.value].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
            sizes[view.value] = len(response.content)
            started = time.perf_counter()
            empty_client.get("/console/fragments/inbox/", {"view": view.value})
            baseline.append((time.perf_counter() - started) * 1000)
    counts = _counts(agent)
    for view in InboxView:
        values = timings[view.value]
        print(
            f"  {view.value:12} {counts[view.value]:>7} conversations"
            f"  median {statistics.median(values):6.1f} ms  p95 {percentile(values, 0.95):6.1f} ms"
            f"  ({sizes[view.value] // 1024} KiB)"
        )
    everything = [value for values in timings.values() for value in values]
    inbox_p95, baseline_p95 = percentile(everything, 0.95), percentile(baseline, 0.95)
    print(f"inbox p95: {inbox_p95:.1f} ms")
    print(f"baseline p95: {baseline_p95:.1f} ms (the same requests, a brand without conversations)")
    print(f"ratio: {inbox_p95 / baseline_p95:.1f}")


def _counts(agent) -> dict[str, int]:
    """Each tab's exact size (the inbox itself counts only up to ``INBOX_COUNT_LIMIT``)."""
    from comptoir.console.queries import InboxView, _view_filter
    from comptoir.conversations.models import OPEN_STATUSES, Conversation

    open_conversations = Conversation.objects.filter(
        brand_id=agent.brand_id, status__in=OPEN_STATUSES
    )
    return {
        view.value: open_conversations.filter(_view_filter(view, agent)).count()
        for view in InboxView
    }


def main() -> None:
    arguments = parse_arguments()
    run_on_own_database(
        configure_environment(arguments.database_url),
        skip_load=arguments.skip_load,
        load=lambda: load(arguments.n, arguments.seed),
        measure=lambda: measure(arguments.repeat),
    )


if __name__ == "__main__":
    main()
