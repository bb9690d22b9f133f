"""Reports benchmark: every dashboard query on PostgreSQL over a million conversations.

Loads a fresh PostgreSQL database (dropped and created again, then migrated)
with a seeded generator and ``COPY``: two brands (one conversation in ten is a
rival brand's, so every query has another brand's rows to leave out), 50
agents in 5 teams, customers who come back (about 2.5 conversations each, on
any channel), one year of conversations on five channels, their customers'
contacts (one in five conversations has a second one), their figures as
``reports.facts`` derives them from the event log (``ConversationFacts``, the
summary table the reports read), and surveys (two in five resolved
conversations, a third of them answered with CSAT, CES and a comment). Then
``VACUUM ANALYZE``, and the per-day roll-ups the reports read (``DayFigures``) built
by ``rollups.rebuild``, as the catch-up keeps them.

Then every query of the reports page and of ``GET /api/reports`` over a 90-day
period, each run ``--repeat`` times: the summary (with FCR's look for a new
conversation of the same person within 7 days), the days, the four breakdowns,
the score distribution, a drill-down page, and an agent's own summary, days and channels. Prints
``report <name> p95: <ms> ms`` for each and ``reports max p95: <ms> ms``.

    .venv/bin/python bench/reports.py                 # 1,000,000 conversations (minutes)
    .venv/bin/python bench/reports.py --n 100000      # while developing
    .venv/bin/python bench/reports.py --skip-load     # measure the database already loaded
                                                      # (migrated; roll-ups built if missing)

Goal: every report p95 < 500 ms. The machine's load changes the figures: the
load average is printed with them.
"""

import argparse
import bisect
import os
import random
import secrets
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench_secret import ensure_secret_key
from postgres_admin import run_on_own_database

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/comptoir_bench_reports"
CHANNELS = ("webchat", "email", "email", "whatsapp", "phone", "messenger")
INTENTS = ("", "", "delivery", "refund", "invoice", "account", "exchange")
NOW = datetime(2031, 6, 30, 12, 0, tzinfo=UTC)
PERIOD_DAYS = 90


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="conversations (1,000,000)")
    parser.add_argument("--repeat", type=int, default=20, help="runs of each query (default 20)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--database-url", help=f"default: {DEFAULT_DATABASE_URL}")
    parser.add_argument(
        "--skip-load", action="store_true", help="measure the database as it is (already loaded)"
    )
    return parser.parse_args()


def configure_environment(database_url: str | None) -> str:
    url = database_url or DEFAULT_DATABASE_URL
    if not url.startswith("postgres"):
        sys.exit("bench/reports.py measures PostgreSQL: give a postgres:// URL")
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)
    os.environ["DEBUG"] = "0"
    ensure_secret_key()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "comptoir.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    return url


def copy_rows(cursor, table: str, columns: tuple[str, ...], rows) -> int:
    count = 0
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def load(n: int, seed: int) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from comptoir.surveys.models import SurveySettings
    from comptoir.tenancy.models import Brand, Membership, Role, Team

    rng = random.Random(seed)
    brand = Brand.objects.create(name="Bench", slug="bench")
    rival = Brand.objects.create(name="Rival", slug="rival")
    SurveySettings.objects.create(brand=brand)
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"agent{i}", first_name=f"Agent{i}") for i in range(51)
    )
    agents = Membership.objects.bulk_create(
        Membership(user=user, brand=brand, role=Role.AGENT) for user in users[:50]
    )
    Membership.objects.create(user=users[50], brand=brand, role=Role.SUPERVISOR)
    teams = [Team.objects.create(brand=brand, name=f"Team {i}") for i in range(5)]
    n_customers = max(n // 5 * 2, 1)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        raw = cursor.cursor
        copy_rows(
            raw,
            "customers_customer",
            ("id", "brand_id", "display_name", "language", "is_vip", "created_at", "updated_at"),
            (
                (i, rival.pk if i % 10 == 0 else brand.pk, f"Customer {i}", "fr", False, NOW, NOW)
                for i in range(1, n_customers + 1)
            ),
        )
        conversations = []
        for cid in range(1, n + 1):
            customer = rng.randint(1, n_customers)
            brand_id = rival.pk if customer % 10 == 0 else brand.pk
            created = NOW - timedelta(seconds=rng.randrange(0, 365 * 86400))
            resolved = (
                created + timedelta(seconds=rng.randint(600, 3 * 86400))
                if rng.random() < 0.85
                else None
            )
            first_response = created + timedelta(seconds=rng.randint(20, 8 * 3600))
            contacts = 2 if rng.random() < 0.2 else 1
            conversations.append(
                (
                    cid,
                    brand_id,
                    customer,
                    rng.choice(CHANNELS),
                    created,
                    first_response,
                    resolved,
                    contacts,
                    rng.choice(agents).pk,
                    rng.choice(teams).pk,
                    rng.choice(INTENTS),
                )
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
                "first_response_at",
                "resolved_at",
            ),
            (
                (
                    c[0],
                    c[1],
                    c[2],
                    "resolved" if c[6] else "open",
                    c[8] if c[1] == brand.pk else None,
                    c[9] if c[1] == brand.pk else None,
                    1,
                    c[3],
                    "",
                    c[4],
                    c[5],
                    c[5],
                    c[6],
                )
                for c in conversations
            ),
        )
        contact_ids: dict[int, int] = {}

        def contact_rows():
            next_id = 0
            for c in conversations:
                for k in range(c[7]):
                    next_id += 1
                    if k == c[7] - 1:
                        contact_ids[c[0]] = next_id
                    channel = c[3] if k == 0 else rng.choice(CHANNELS)
                    started_at = c[4] + timedelta(minutes=k * 30)
                    yield (next_id, c[1], c[0], channel, "in", started_at, c[5], c[6])

        copy_rows(
            raw,
            "conversations_contact",
            (
                "id",
                "brand_id",
                "conversation_id",
                "channel",
                "direction",
                "started_at",
                "first_response_at",
                "ended_at",
            ),
            contact_rows(),
        )

        # Each resolved conversation's person's next conversation after its resolution, as
        # ``reports.facts`` derives it (what FCR looks at).
        by_customer: dict[int, list[datetime]] = {}
        for c in conversations:
            by_customer.setdefault(c[2], []).append(c[4])
        for opened in by_customer.values():
            opened.sort()

        def next_after(c):
            if c[6] is None:
                return None
            opened = by_customer[c[2]]
            index = bisect.bisect_right(opened, c[6])
            return opened[index] if index < len(opened) else None

        def seconds(start, end):
            return None if end is None else int((end - start).total_seconds())

        def extra_figures(c):
            """Next responses, taken (wait, handle), SLA, the assistant: as ``derive`` sets them."""
            replies = rng.randint(0, 3) if c[7] > 1 or rng.random() < 0.5 else 0
            taken = c[4] + timedelta(seconds=rng.randint(5, 3600))
            if c[6] is not None and taken > c[6]:
                taken = c[6]
            assistant = rng.random()
            return (
                sum(rng.randint(60, 4 * 3600) for _ in range(replies)),
                replies,
                taken,
                seconds(c[4], taken),
                seconds(taken, c[6]),
                rng.random() < 0.6,
                rng.random() < 0.1,
                assistant < 0.3,
                0.2 < assistant < 0.4,
            )

        copy_rows(
            raw,
            "reports_conversationfacts",
            (
                "conversation_id",
                "brand_id",
                "channel",
                "team_id",
                "agent_id",
                "intent",
                "created_at",
                "first_response_at",
                "first_response_seconds",
                "resolved_at",
                "resolution_seconds",
                "auto_closed",
                "inbound_contacts",
                "next_conversation_at",
                "next_response_seconds_total",
                "next_responses",
                "taken_at",
                "wait_seconds",
                "handle_seconds",
                "has_sla",
                "sla_breached",
                "assistant_answered",
                "assistant_handoff",
            ),
            (
                (
                    c[0],
                    c[1],
                    c[3],
                    c[9] if c[1] == brand.pk else None,
                    c[8] if c[1] == brand.pk else None,
                    c[10],
                    c[4],
                    c[5],
                    seconds(c[4], c[5]),
                    c[6],
                    seconds(c[4], c[6]),
                    False,
                    c[7],
                    next_after(c),
                    *extra_figures(c),
                )
                for c in conversations
            ),
        )

        def survey_rows():
            for c in conversations:
                if c[6] is None or rng.random() >= 0.4:
                    continue
                answered = rng.random() < 0.35
                sent = c[6] + timedelta(minutes=5)
                csat = rng.choices((1, 2, 3, 4, 5), (1, 1, 2, 4, 6))[0] if answered else None
                yield (
                    c[1],
                    c[0],
                    contact_ids[c[0]],
                    c[2],
                    c[3],
                    c[8],
                    c[9],
                    c[10],
                    "automatic",
                    "answered" if answered else "sent",
                    "fr",
                    secrets.token_hex(6),
                    sent,
                    sent,
                    sent + timedelta(hours=1) if answered else None,
                    csat,
                    rng.randint(1, 7) if answered else None,
                    "Merci" if answered else "",
                )

        surveys = copy_rows(
            raw,
            "surveys_survey",
            (
                "brand_id",
                "conversation_id",
                "contact_id",
                "customer_id",
                "channel",
                "agent_id",
                "team_id",
                "intent",
                "source",
                "status",
                "language",
                "nonce",
                "created_at",
                "sent_at",
                "answered_at",
                "csat",
                "ces",
                "comment",
            ),
            survey_rows(),
        )
        for table in ("customers_customer", "conversations_conversation", "conversations_contact"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT max(id) FROM {table}))"
            )
        copied = time.perf_counter() - started
    connection.close()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(
        f"loaded: {n} conversations, {n_customers} customers, {surveys} surveys"
        f" in {copied:.0f} s (COPY)"
    )


def build_rollups() -> None:
    """The per-day roll-ups as the catch-up keeps them (``rollups.rebuild``), timed."""
    from django.db import connection

    from comptoir.reports import rollups
    from comptoir.tenancy.models import Brand

    started = time.perf_counter()
    rows = sum(rollups.rebuild(brand.pk) for brand in Brand.objects.order_by("pk"))
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE reports_dayfigures")
    print(f"roll-ups: {rows} day rows in {time.perf_counter() - started:.0f} s (rollups.rebuild)")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure(repeat: int) -> None:
    from dataclasses import replace

    from comptoir.reports import measures
    from comptoir.reports.models import DayFigures
    from comptoir.reports.views import drill_down
    from comptoir.tenancy.models import Brand, Membership

    brand = Brand.objects.get(slug="bench")
    if not DayFigures.objects.filter(brand=brand).exists():
        build_rollups()  # a database loaded before the roll-ups existed
    agent = Membership.objects.filter(brand=brand, role="agent").order_by("pk").first()
    end = NOW.date()
    filters = measures.Filters(
        brand_id=brand.pk, start=end - timedelta(days=PERIOD_DAYS - 1), end=end
    )
    reports = {
        "summary": lambda: measures.summary(filters),
        "daily": lambda: measures.daily(filters),
        "per_channel": lambda: measures.breakdown(filters, "channel"),
        "per_team": lambda: measures.breakdown(filters, "team"),
        "per_agent": lambda: measures.breakdown(filters, "agent"),
        "per_intent": lambda: measures.breakdown(filters, "intent"),
        "csat_distribution": lambda: measures.csat_distribution(filters),
        "drill_down_fcr": lambda: list(drill_down(filters, "fcr")[:200]),
        "agent_summary": lambda: measures.summary(replace(filters, agent_id=agent.pk)),
        "agent_daily": lambda: measures.daily(replace(filters, agent_id=agent.pk)),
        "agent_per_channel": lambda: measures.breakdown(
            replace(filters, agent_id=agent.pk), "channel"
        ),
    }
    figures = measures.summary(filters)
    print(
        f"period: {filters.start} to {filters.end}: {figures['conversations']} conversations,"
        f" {figures['resolved']} resolved, FCR {figures['fcr_rate']} %,"
        f" CSAT {figures['csat']} %, {figures['surveys_sent']} surveys"
    )
    for run in reports.values():  # warm-up: plans, caches
        run()
    worst = 0.0
    for name, run in reports.items():
        timings = []
        for _ in range(repeat):
            started = time.perf_counter()
            run()
            timings.append((time.perf_counter() - started) * 1000)
        p95 = percentile(timings, 0.95)
        worst = max(worst, p95)
        print(f"report {name} p95: {p95:.1f} ms (median {statistics.median(timings):.1f} ms)")
    print(f"reports max p95: {worst:.1f} ms")


def main() -> None:
    arguments = parse_arguments()
    run_on_own_database(
        configure_environment(arguments.database_url),
        skip_load=arguments.skip_load,
        load=lambda: (load(arguments.n, arguments.seed), build_rollups()),
        measure=lambda: measure(arguments.repeat),
    )


if __name__ == "__main__":
    main()
