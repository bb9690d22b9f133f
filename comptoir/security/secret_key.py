"""The secret key: read from the environment, refused when it is a published one.

The key signs sessions and widget visitor tokens. A key anyone can read in
this repository lets anyone forge a visitor token and read that customer's
chat history, so with ``DEBUG`` off Comptoir refuses to start on one
(``settings.py`` raises), and ``check --deploy`` fails on it even with
``DEBUG`` on (``security.checks``).
"""

import os
from pathlib import Path

# The development key used when SECRET_KEY is not set (DEBUG only), and the
# placeholder of deploy/systemd/comptoir.env.example: both are public.
DEVELOPMENT_KEY = "comptoir-insecure-development-key-change-me-in-production"
PUBLISHED_KEYS = frozenset({DEVELOPMENT_KEY, "change-me-to-a-long-random-string"})


class InsecureSecretKey(Exception):
    """Raised by ``read_secret_key`` with the message an operator needs to fix it."""


def read_secret_key(environ: os._Environ | dict, *, debug: bool) -> str:
    """``SECRET_KEY``, or the content of the file ``SECRET_KEY_FILE`` names.

    Without either, the development key, which only ``DEBUG`` accepts.
    """
    key = environ.get("SECRET_KEY", "")
    path = environ.get("SECRET_KEY_FILE", "")
    if not key and path:
        try:
            key = Path(path).read_text(encoding="utf-8").strip()
        except OSError as error:
            raise InsecureSecretKey(f"SECRET_KEY_FILE={path} cannot be read: {error}") from error
    key = key or DEVELOPMENT_KEY
    if not debug and is_published(key):
        raise InsecureSecretKey(
            "SECRET_KEY is not set, or set to a published example value, and DEBUG is off: "
            "anyone could forge sessions and widget visitor tokens. Set SECRET_KEY (the same "
            "on every process) to a long random string, e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`, "
            "or SECRET_KEY_FILE to a file holding one; set DEBUG=1 only on a developer's machine."
        )
    return key


def is_published(key: str) -> bool:
    return key in PUBLISHED_KEYS
