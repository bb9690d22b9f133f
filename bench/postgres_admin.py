"""The benches' PostgreSQL databases: created when missing, or dropped and created afresh."""

import os
import platform
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import dj_database_url
import psycopg
from psycopg import sql


@contextmanager
def _server(url: str) -> Iterator[tuple[psycopg.Connection, sql.Identifier, str]]:
    """An autocommit connection to the server's ``postgres`` database, and the bench's name."""
    config = dj_database_url.parse(url)
    with psycopg.connect(
        dbname="postgres",
        user=config["USER"] or None,
        password=config["PASSWORD"] or None,
        host=config["HOST"] or None,
        port=config["PORT"] or None,
        autocommit=True,
    ) as admin:
        yield admin, sql.Identifier(config["NAME"]), config["NAME"]


def create_database_if_missing(url: str) -> None:
    with _server(url) as (admin, identifier, name):
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(sql.SQL("CREATE DATABASE {}").format(identifier))


def recreate_database(url: str) -> None:
    """Drop and create the bench database: each run starts from empty tables."""
    with _server(url) as (admin, identifier, _name):
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(identifier))


def run_on_own_database(
    url: str, *, skip_load: bool, load: Callable[[], None], measure: Callable[[], None]
) -> None:
    """A benchmark on its own PostgreSQL database, as search, inbox and reports run.

    Unless ``skip_load``: the database dropped and created, then ``load``. Migrated either
    way (a database kept from an older run gets the new tables and columns).
    Django is set up once the database exists; one line says what it runs on.
    """
    if not skip_load:
        recreate_database(url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    print(
        f"database: PostgreSQL {version}; Python {platform.python_version()};"
        f" {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}"
    )
    if not skip_load:
        load()
    measure()
