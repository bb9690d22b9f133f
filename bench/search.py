"""Search benchmark: ``search_conversations`` on PostgreSQL over a million messages.

Loads a fresh PostgreSQL database (dropped and created again, then migrated)
with a seeded generator and ``COPY``: customers with French and English names,
an e-mail address and a mobile number each; conversations of two brands (one in
ten belongs to a rival brand, so every lookup has another brand's rows to leave
out); messages of one to four sentences from French and English customer
service (orders, parcels, refunds, invoices, accounts…), agents' replies and
notes, some with an order number, a phone number or an address in the text.
The search indexes (``comptoir.search.ddl``) are dropped for the load and built
again after it, as the migration builds them; then ``VACUUM ANALYZE``.

Then a fixed set of searches, each run ``--repeat`` times through the one query
interface the console and the API use (page of 50 results, total, snippets):
words, a phone number typed as agents type it, an e-mail address, a name with a
typo. Baseline in the same run: the ORM's primary-key lookup of a conversation,
as many times. Prints per query its median and p95, then exactly
``search p95: <ms> ms``, ``baseline p95: <ms> ms`` and ``ratio: <x>``.

    .venv/bin/python bench/search.py                 # 1,000,000 messages (several minutes)
    .venv/bin/python bench/search.py --n 100000      # while developing
    .venv/bin/python bench/search.py --skip-load     # measure the database already loaded

Goal: search p95 < 50 ms. The machine's load changes the figures: the load
average is printed with them.
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench_secret import ensure_secret_key
from postgres_admin import run_on_own_database

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/comptoir_bench_search"

FIRST_NAMES = (  # noqa: SIM905 (a paragraph of names reads better than quoted strings)
    "Hugo Léa Camille Louis Chloé Gabriel Manon Arthur Inès Jules Zoé Raphaël Lucie Adam Emma "
    "Sophie Thomas Élodie Nicolas Julie Antoine Sarah Maxime Clara Olivier Anaïs Mathieu Laura "
    "James Emily Oliver Grace Jack Olivia Harry Amelia George Isla Noah Ava Liam Mia Ethan Lily"
).split()
LAST_NAMES = (  # noqa: SIM905
    "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefèvre "
    "Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard André Lefebvre Mercier Dupont "
    "Lambert Bonnet François Martinez Smith Jones Taylor Brown Williams Wilson Johnson Davies "
    "Robinson Wright Thompson Evans Walker White Roberts Green Hall Wood Jackson Clarke"
).split()
DOMAINS = ("gmail.com", "orange.fr", "free.fr", "yahoo.fr", "outlook.com", "laposte.net")
PRODUCTS = (
    "chaussures de randonnée",
    "veste en lin",
    "cafetière italienne",
    "lampe de bureau",
    "sac à dos",
    "montre connectée",
    "running shoes",
    "linen shirt",
    "coffee grinder",
    "desk lamp",
    "wool sweater",
    "phone case",
)
CITIES = ("Paris", "Lyon", "Marseille", "Lille", "Nantes", "Bordeaux", "London", "Manchester")

CUSTOMER_FR = (
    "Bonjour, ma commande {order} n'est toujours pas arrivée.",
    "Le colis est arrivé abîmé, la boîte était ouverte.",
    "Je souhaite un remboursement pour {product}.",
    "Pouvez-vous changer l'adresse de livraison pour {city} ?",
    "Ma facture du mois dernier comporte une erreur de montant.",
    "Le code promo {code} ne fonctionne pas au moment du paiement.",
    "Je n'arrive plus à me connecter à mon compte client.",
    "La taille ne convient pas, comment faire un échange ?",
    "Le livreur a indiqué que le colis était livré mais je n'ai rien reçu.",
    "Vous pouvez me rappeler au {phone} après 18 h.",
    "Mon adresse e-mail a changé : {email}.",
    "Il manque un article dans ma commande {order}.",
    "Quels sont vos horaires d'ouverture à {city} ?",
    "J'ai été débité deux fois pour la même commande.",
    "Merci beaucoup pour votre aide !",
    "Toujours aucune nouvelle de ma demande, c'est inadmissible.",
)
CUSTOMER_EN = (
    "Hi, my order {order} still hasn't arrived.",
    "The parcel arrived damaged and the box was open.",
    "I would like a refund for the {product}.",
    "Can you change the delivery address to {city}?",
    "My invoice shows the wrong amount.",
    "The discount code {code} is not accepted at checkout.",
    "I can't log in to my account anymore.",
    "The size doesn't fit, how do I exchange it?",
    "Tracking says delivered but I never received anything.",
    "Please call me back on {phone}.",
    "I was charged twice for the same order.",
    "Thanks a lot for your help!",
)
AGENT_FR = (
    "Bonjour {first}, je suis désolée pour ce désagrément.",
    "Nous avons lancé une enquête auprès du transporteur.",
    "Le remboursement sera effectué sous 5 jours ouvrés.",
    "Je vous envoie une étiquette de retour par e-mail.",
    "Votre commande {order} a été expédiée aujourd'hui.",
    "Pouvez-vous nous envoyer une photo du produit ?",
)
AGENT_EN = (
    "Hello {first}, sorry for the trouble.",
    "We have opened an investigation with the carrier.",
    "The refund will be processed within 5 business days.",
    "I am sending you a return label by e-mail.",
    "Your order {order} shipped today.",
)
NOTES = (
    "Client VIP, geste commercial accordé.",
    "Transporteur relancé, litige ouvert.",
    "Customer called twice, escalate if no answer tomorrow.",
)

# The fixed set of searches (the phone, e-mail and name ones are filled from the data).
WORD_QUERIES = (
    "colis abîmé",
    "remboursement chaussures",
    "refund damaged",
    "facture erreur montant",
    "code promo",
    '"adresse de livraison" Lyon',
)


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="messages (default 1,000,000)")
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
        sys.exit("bench/search.py measures PostgreSQL: give a postgres:// URL")
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)
    os.environ["DEBUG"] = "0"
    ensure_secret_key()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "comptoir.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    return url


class Generator:
    """Seeded rows for COPY: customers, identities, conversations and messages."""

    def __init__(self, seed: int, n_messages: int, brand_id: int, rival_id: int) -> None:
        self.rng = random.Random(seed)
        self.n_messages = n_messages
        self.brands = (brand_id, rival_id)
        self.now = datetime.now(UTC)
        self.customers: list[tuple] = []  # (id, brand, first name, email, phone)

    def phone(self, n: int) -> str:
        return f"+336{10_000_000 + n * 7919 % 89_999_999:08d}"

    def build_customers(self, count: int):
        rng = self.rng
        for customer_id in range(1, count + 1):
            brand = self.brands[1] if customer_id % 10 == 0 else self.brands[0]
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            if customer_id == 1:
                first, last = "Hugo", "Laurent"  # whom the typo searches look for
            email = f"{first}.{last}{customer_id}@{rng.choice(DOMAINS)}".lower()
            self.customers.append((customer_id, brand, first, last, email, self.phone(customer_id)))

    def fill(self, template: str, customer: tuple) -> str:
        rng = self.rng
        return template.format(
            order=f"MD-{rng.randrange(10000, 99999)}",
            product=rng.choice(PRODUCTS),
            city=rng.choice(CITIES),
            code=rng.choice(("PRINTEMPS10", "BIENVENUE", "SUMMER15", "NOEL20")),
            phone=_national(customer[5]),
            email=customer[4],
            first=customer[2],
        )

    def text(self, customer: tuple, author: str, english: bool) -> str:
        if author == "customer":
            pool = CUSTOMER_EN if english else CUSTOMER_FR
        elif author == "note":
            pool = NOTES
        else:
            pool = AGENT_EN if english else AGENT_FR
        sentences = self.rng.randint(1, 3 if author == "customer" else 2)
        return " ".join(self.fill(self.rng.choice(pool), customer) for _ in range(sentences))


def _national(e164: str) -> str:
    digits = "0" + e164[3:]
    return " ".join(digits[i : i + 2] for i in range(0, 10, 2))


def copy_rows(cursor, table: str, columns: tuple[str, ...], rows) -> int:
    count = 0
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def load(n_messages: int, seed: int) -> None:
    """Two brands, 50 agents, and the generated rows."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from comptoir.search import ddl
    from comptoir.tenancy.models import Brand, Membership, Role

    brand = Brand.objects.create(name="Bench", slug="bench")
    rival = Brand.objects.create(name="Rival", slug="rival")
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"agent{n}", first_name=f"Agent{n}") for n in range(50)
    )
    agents = Membership.objects.bulk_create(
        Membership(user=user, brand=brand, role=Role.AGENT) for user in users
    )
    generator = Generator(seed, n_messages, brand.pk, rival.pk)
    n_conversations = max(n_messages // 5, 1)
    generator.build_customers(max(n_conversations // 2, 1))
    customers = generator.customers
    rng = generator.rng
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for name in ddl.POSTGRES_INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")
        raw = cursor.cursor  # psycopg's own cursor, for COPY
        now = generator.now
        copy_rows(
            raw,
            "customers_customer",
            ("id", "brand_id", "display_name", "language", "is_vip", "created_at", "updated_at"),
            ((c[0], c[1], f"{c[2]} {c[3]}", "fr", False, now, now) for c in customers),
        )
        identity_columns = (
            "brand_id",
            "customer_id",
            "kind",
            "value",
            "verified",
            "failure_reason",
            "created_at",
        )
        copy_rows(
            raw,
            "customers_identity",
            identity_columns,
            (
                row
                for c in customers
                for row in (
                    (c[1], c[0], "email", c[4], True, "", now),
                    (c[1], c[0], "phone", c[5], False, "", now),
                )
            ),
        )
        conversations = []
        for conversation_id in range(1, n_conversations + 1):
            customer = customers[rng.randrange(len(customers))]
            created = now - timedelta(minutes=rng.randrange(0, 60 * 24 * 365))
            status = rng.choices(("open", "pending", "resolved"), (1, 1, 8))[0]
            conversations.append((conversation_id, customer, created, status, rng.random() < 0.4))
        conversation_columns = (
            "id",
            "brand_id",
            "customer_id",
            "status",
            "assignee_id",
            "priority",
            "channel",
            "subject",
            "created_at",
            "last_message_at",
            "resolved_at",
        )

        def conversation_rows():
            for cid, customer, created, status, _ in conversations:
                assignee = rng.choice(agents).pk if customer[1] == brand.pk else None
                channel = rng.choice(("webchat", "email", "email", "whatsapp", "phone"))
                subject = (
                    generator.text(customer, "customer", False)[:120] if channel == "email" else ""
                )
                resolved = created + timedelta(hours=2) if status == "resolved" else None
                yield (
                    cid,
                    customer[1],
                    customer[0],
                    status,
                    assignee,
                    1,
                    channel,
                    subject,
                    created,
                    created + timedelta(hours=1),
                    resolved,
                )

        copy_rows(raw, "conversations_conversation", conversation_columns, conversation_rows())
        message_columns = (
            "brand_id",
            "conversation_id",
            "direction",
            "author_kind",
            "text",
            "is_internal_note",
            "channel",
            "created_at",
        )

        def message_rows():
            written = 0
            for index, (cid, customer, created, _, english) in enumerate(conversations):
                remaining = n_messages - written
                left = n_conversations - index
                count = remaining if left == 1 else min(remaining, rng.randint(2, 8))
                for k in range(count):
                    author = rng.choices(("customer", "agent", "note"), (6, 4, 1))[0]
                    yield (
                        customer[1],
                        cid,
                        "in" if author == "customer" else "out",
                        "customer" if author == "customer" else "agent",
                        generator.text(customer, author, english),
                        author == "note",
                        "webchat",
                        created + timedelta(minutes=k * 7),
                    )
                written += count

        loaded = copy_rows(raw, "conversations_message", message_columns, message_rows())
        copied = time.perf_counter() - started
        for table in ("customers_customer", "conversations_conversation"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT max(id) FROM {table}))"
            )
        started = time.perf_counter()
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for statement in ddl.POSTGRES_INDEXES.values():
            cursor.execute(statement)
        indexed = time.perf_counter() - started
    connection.close()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(
        f"loaded: {loaded} messages, {n_conversations} conversations, {len(customers)} customers"
        f" in {copied:.0f} s (COPY); search indexes built in {indexed:.0f} s"
    )


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure(repeat: int) -> None:
    from django.db import connection

    from comptoir.conversations.models import Conversation
    from comptoir.search.query import search_conversations
    from comptoir.tenancy.models import Membership

    agent = Membership.objects.select_related("brand").filter(brand__slug="bench").first()
    brand_id = agent.brand_id
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.display_name, e.value, p.value FROM customers_customer c"
            " JOIN customers_identity e ON e.customer_id = c.id AND e.kind = 'email'"
            " JOIN customers_identity p ON p.customer_id = c.id AND p.kind = 'phone'"
            " WHERE c.brand_id = %s AND c.display_name = 'Hugo Laurent' ORDER BY c.id LIMIT 1",
            [brand_id],
        )
        name, email, phone = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM conversations_message")
        messages = cursor.fetchone()[0]
        cursor.execute("SELECT min(id), max(id) FROM conversations_conversation")
        low, high = cursor.fetchone()
    queries = [
        *WORD_QUERIES,
        _national(phone),  # "06 12 34 56 78", as agents type it
        email,
        "Hugo Laurnet",  # a typo of the name
        email.replace("hugo", "hgo", 1),  # a typo of the address
    ]
    print(f"messages: {messages}; name searched: {name}; e-mail: {email}; phone: {phone}")
    # Warm-up: one run of each (plans, caches), not timed.
    for query in queries:
        search_conversations(agent, query)
    timings: dict[str, list[float]] = {query: [] for query in queries}
    found: dict[str, int] = {}
    for _ in range(repeat):
        for query in queries:
            started = time.perf_counter()
            results = search_conversations(agent, query)
            timings[query].append((time.perf_counter() - started) * 1000)
            found[query] = results.total
    rng = random.Random(1)
    baseline = []
    for _ in range(repeat * len(queries)):
        pk = rng.randint(low, high)
        started = time.perf_counter()
        Conversation.objects.filter(pk=pk).first()
        baseline.append((time.perf_counter() - started) * 1000)
    for query in queries:
        values = timings[query]
        print(
            f"  {query!r:42} {found[query]:>5} found"
            f"  median {statistics.median(values):6.1f} ms  p95 {percentile(values, 0.95):6.1f} ms"
        )
    everything = [value for values in timings.values() for value in values]
    search_p95 = percentile(everything, 0.95)
    baseline_p95 = percentile(baseline, 0.95)
    print(f"search p95: {search_p95:.1f} ms")
    print(f"baseline p95: {baseline_p95:.2f} ms (primary-key lookup of a conversation)")
    print(f"ratio: {search_p95 / baseline_p95:.0f}")


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
