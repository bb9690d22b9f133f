"""The database objects behind search, for each vendor: created by this app's migrations.

PostgreSQL: the ``unaccent`` and ``pg_trgm`` extensions, two text search
configurations that fold accents (``comptoir_fr``: French stemming;
``comptoir_simple``: words as written, for names, references and English),
GIN indexes on the expressions ``search.backends.postgres`` queries (the
expressions here and there are the same strings, or the planner would not use
the indexes), and trigram indexes on customers' names and on the part of
e-mail addresses before the ``@``.

SQLite: FTS5 tables whose tokenizer folds accents (``remove_diacritics 2``),
kept in step by triggers. Triggers rather than code in the actions, because
messages are written by raw SQL on the ingest hot path
(``conversations/ingest_sql.py``), conversations and identities move between
customers with ``QuerySet.update`` in merges, and any future writer would have
to remember the index: a trigger runs inside the writing statement whatever
wrote it, so the index cannot drift from the rows. Only stored columns are
indexed, and card numbers are masked before anything is stored
(``privacy.cards``), so nothing unmasked reaches an index.

A later migration that rebuilds one of these tables on SQLite (Django remakes a
table to alter a column) drops its triggers: ``tests/test_search.py`` checks
after all migrations that every trigger exists and every index agrees with its
table, and ``sqlite_rebuild`` puts them back.

Changing anything here needs a new migration that applies the change.
"""

from django.db import connection

# PostgreSQL ------------------------------------------------------------------------------

FR = "comptoir_fr"
SIMPLE = "comptoir_simple"


def tsvector(column: str) -> str:
    """The indexed document of a text column: stemmed French words and words as written."""
    return (
        f"(to_tsvector('{FR}'::regconfig, {column})"
        f" || to_tsvector('{SIMPLE}'::regconfig, {column}))"
    )


def tsquery(placeholder: str = "%s") -> str:
    """What the agent typed (web-search syntax: quotes, ``or``, ``-word``), in both configurations.

    Takes the text twice.
    """
    return (
        f"(websearch_to_tsquery('{FR}'::regconfig, {placeholder})"
        f" || websearch_to_tsquery('{SIMPLE}'::regconfig, {placeholder}))"
    )


def folded(expression: str) -> str:
    """Lower case without accents, the form names are compared in (immutable: indexable)."""
    return f"comptoir_unaccent(lower({expression}))"


EMAIL_LOCAL_PART = "split_part(value, '@', 1)"

POSTGRES_INDEXES = {
    "search_message_text": (
        f"CREATE INDEX search_message_text ON conversations_message USING gin ({tsvector('text')})"
    ),
    "search_conversation_subject": (
        "CREATE INDEX search_conversation_subject ON conversations_conversation"
        f" USING gin ({tsvector('subject')})"
    ),
    "search_customer_name": (
        "CREATE INDEX search_customer_name ON customers_customer"
        f" USING gin ({folded('display_name')} gin_trgm_ops)"
    ),
    # The part before "@" only: domains are shared by thousands (gmail.com), and their
    # trigrams would make every address a candidate.
    "search_identity_email": (
        "CREATE INDEX search_identity_email ON customers_identity"
        f" USING gin ({EMAIL_LOCAL_PART} gin_trgm_ops) WHERE kind = 'email'"
    ),
}


# pg_trgm's ``%`` finds pairs above this similarity (its default, 0.3, lets "Hugo" alone
# bring every Hugo as a candidate for "Hugo Laurnet"; typos score 0.5 and more). Set for
# the database (new connections) and for the migrating session; without it (a restore
# that drops database settings) search only gets looser and slower.
TRIGRAM_SIMILARITY = 0.45
POSTGRES_SETTINGS = [
    "DO $$ BEGIN EXECUTE format("
    f"'ALTER DATABASE %I SET pg_trgm.similarity_threshold = {TRIGRAM_SIMILARITY}',"
    " current_database()); END $$",
    f"SET pg_trgm.similarity_threshold = {TRIGRAM_SIMILARITY}",
]


def postgres_setup(schema_of_unaccent: str) -> list[str]:
    """Extensions first (``unaccent``'s schema is read in between), then functions and configs."""
    unaccent = f'"{schema_of_unaccent}".unaccent'
    return [
        # SQL functions are inlined; the schema is written out so that the indexes
        # never depend on the search_path (pg_dump restores with an empty one).
        f"""CREATE OR REPLACE FUNCTION comptoir_unaccent(text) RETURNS text
            LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
            AS $$ SELECT {unaccent}('{unaccent}'::regdictionary, $1) $$""",
        f"CREATE TEXT SEARCH CONFIGURATION {FR} (COPY = pg_catalog.french)",
        f"ALTER TEXT SEARCH CONFIGURATION {FR} ALTER MAPPING FOR hword, hword_part, word"
        f" WITH {unaccent}, french_stem",
        f"CREATE TEXT SEARCH CONFIGURATION {SIMPLE} (COPY = pg_catalog.simple)",
        f"ALTER TEXT SEARCH CONFIGURATION {SIMPLE} ALTER MAPPING FOR hword, hword_part, word"
        f" WITH {unaccent}, simple",
    ]


POSTGRES_EXTENSIONS = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
]

POSTGRES_TEARDOWN = [
    *(f"DROP INDEX IF EXISTS {name}" for name in POSTGRES_INDEXES),
    "DO $$ BEGIN EXECUTE format("
    "'ALTER DATABASE %I RESET pg_trgm.similarity_threshold', current_database()); END $$",
    f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {FR}",
    f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {SIMPLE}",
    "DROP FUNCTION IF EXISTS comptoir_unaccent(text)",
]

# SQLite ----------------------------------------------------------------------------------

TOKENIZER = "unicode61 remove_diacritics 2"

# Message texts and conversation subjects: external-content tables (the text is
# stored once, in its own table; the index holds only the terms).
SQLITE_TABLES = {
    "search_message_fts": (
        "CREATE VIRTUAL TABLE search_message_fts USING fts5(text,"
        f" content='conversations_message', content_rowid='id', tokenize='{TOKENIZER}')"
    ),
    "search_subject_fts": (
        "CREATE VIRTUAL TABLE search_subject_fts USING fts5(subject,"
        f" content='conversations_conversation', content_rowid='id', tokenize='{TOKENIZER}')"
    ),
    # One row per customer (rowid = customer id): the name and every identity value.
    "search_customer_fts": (
        "CREATE VIRTUAL TABLE search_customer_fts USING fts5(name, identities,"
        f" tokenize='{TOKENIZER}')"
    ),
}


def _refresh_customer(customer_id: str) -> str:
    return f"""
    DELETE FROM search_customer_fts WHERE rowid = {customer_id};
    INSERT INTO search_customer_fts(rowid, name, identities)
         SELECT c.id, c.display_name,
                coalesce((SELECT group_concat(i.value, ' ') FROM customers_identity i
                           WHERE i.customer_id = c.id), '')
           FROM customers_customer c WHERE c.id = {customer_id};"""  # noqa: S608 (constants)


def _external(table: str, fts: str, column: str) -> dict[str, str]:
    insert = f"INSERT INTO {fts}(rowid, {column}) VALUES (new.id, new.{column});"  # noqa: S608
    delete = f"INSERT INTO {fts}({fts}, rowid, {column}) VALUES ('delete', old.id, old.{column});"  # noqa: S608
    return {
        f"{fts}_insert": f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN {insert} END",
        f"{fts}_delete": f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN {delete} END",
        f"{fts}_update": (
            f"CREATE TRIGGER {fts}_update AFTER UPDATE OF {column} ON {table}"
            f" BEGIN {delete} {insert} END"
        ),
    }


SQLITE_TRIGGERS = {
    **_external("conversations_message", "search_message_fts", "text"),
    **_external("conversations_conversation", "search_subject_fts", "subject"),
    "search_customer_insert": (
        "CREATE TRIGGER search_customer_insert AFTER INSERT ON customers_customer"
        f" BEGIN {_refresh_customer('new.id')} END"
    ),
    "search_customer_update": (
        "CREATE TRIGGER search_customer_update AFTER UPDATE OF display_name ON customers_customer"
        f" BEGIN {_refresh_customer('new.id')} END"
    ),
    "search_customer_delete": (
        "CREATE TRIGGER search_customer_delete AFTER DELETE ON customers_customer"
        " BEGIN DELETE FROM search_customer_fts WHERE rowid = old.id; END"
    ),
    "search_identity_insert": (
        "CREATE TRIGGER search_identity_insert AFTER INSERT ON customers_identity"
        f" BEGIN {_refresh_customer('new.customer_id')} END"
    ),
    # A merge moves identities to the survivor: both customers' rows change.
    "search_identity_update": (
        "CREATE TRIGGER search_identity_update AFTER UPDATE OF value, customer_id"
        " ON customers_identity"
        f" BEGIN {_refresh_customer('old.customer_id')} {_refresh_customer('new.customer_id')} END"
    ),
    "search_identity_delete": (
        "CREATE TRIGGER search_identity_delete AFTER DELETE ON customers_identity"
        f" BEGIN {_refresh_customer('old.customer_id')} END"
    ),
}

# Fill the indexes from the rows already there (the migration, ``sqlite_rebuild``).
SQLITE_FILL = [
    "INSERT INTO search_message_fts(search_message_fts) VALUES ('rebuild')",
    "INSERT INTO search_subject_fts(search_subject_fts) VALUES ('rebuild')",
    "DELETE FROM search_customer_fts",
    """INSERT INTO search_customer_fts(rowid, name, identities)
       SELECT c.id, c.display_name,
              coalesce((SELECT group_concat(i.value, ' ') FROM customers_identity i
                         WHERE i.customer_id = c.id), '')
         FROM customers_customer c""",
]

SQLITE_TEARDOWN = [
    *(f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS),
    *(f"DROP TABLE IF EXISTS {name}" for name in SQLITE_TABLES),
]


def sqlite_rebuild(cursor) -> None:
    """Recreate the missing triggers and refill every index from its table.

    For a database whose triggers a table rebuild dropped; safe to run at any time.
    """
    for name, statement in SQLITE_TABLES.items():
        cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(statement)
    for name, statement in SQLITE_TRIGGERS.items():
        cursor.execute("DROP TRIGGER IF EXISTS " + name)
        cursor.execute(statement)
    for statement in SQLITE_FILL:
        cursor.execute(statement)


def install(connection) -> None:
    """Create the search objects of ``connection``'s vendor (the migration's forward step)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for statement in POSTGRES_EXTENSIONS:
                cursor.execute(statement)
            cursor.execute(
                "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
                " WHERE e.extname = 'unaccent'"
            )
            for statement in postgres_setup(cursor.fetchone()[0]):
                cursor.execute(statement)
            for statement in POSTGRES_INDEXES.values():
                cursor.execute(statement)
            for statement in POSTGRES_SETTINGS:
                cursor.execute(statement)
        elif connection.vendor == "sqlite":
            sqlite_rebuild(cursor)


def uninstall(connection) -> None:
    """Drop them (the migration's backward step); the extensions stay, others may use them."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for statement in POSTGRES_TEARDOWN:
                cursor.execute(statement)
        elif connection.vendor == "sqlite":
            for statement in SQLITE_TEARDOWN:
                cursor.execute(statement)


def purge_deleted_terms() -> None:
    """Merge each SQLite FTS5 index into one segment, dropping deleted rows' terms for good.

    FTS5 keeps a deleted row's terms in older segments until they merge; an erasure
    (``gdpr.erasure``) must not leave a person's name or texts there. PostgreSQL's
    indexes read from the rows themselves: nothing to do.
    """
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for name in SQLITE_TABLES:
            cursor.execute(f"INSERT INTO {name}({name}) VALUES ('optimize')")  # noqa: S608
