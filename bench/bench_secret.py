"""A secret key for a benchmark run: settings refuse to start without one when DEBUG is off.

Benchmarks run with ``DEBUG`` off (it would keep every query in memory); the key is
random per run and inherited by the servers and workers a benchmark starts.
"""

import os
import secrets


def ensure_secret_key() -> None:
    os.environ.setdefault("SECRET_KEY", "bench-" + secrets.token_urlsafe(40))
