"""The benches' PostgreSQL databases: created when missing, or dropped and created afresh."""

from collections.abc import Iterator
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
