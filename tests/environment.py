"""A pytest plugin loaded before Django's settings (``-p tests.environment`` in pyproject).

Settings refuse to start with ``DEBUG`` off and no secret key (comptoir.security.secret_key):
the test run gets a random key of its own, which the servers it starts inherit.
"""

import os
import secrets

os.environ.setdefault("SECRET_KEY", "test-run-" + secrets.token_urlsafe(40))
# Administrators' second factor is tested where it is the subject (tests/test_security.py);
# elsewhere, and in the servers tests start, consoles open after the password.
os.environ.setdefault("TWO_FACTOR_REQUIRED_ROLES", "")
