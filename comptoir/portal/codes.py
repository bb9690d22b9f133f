"""The secrets of sign-in: codes, link tokens and session keys, and how they are stored (hashed).

A six-digit code has few possibilities: it is hashed with the project's secret
(HMAC), bound to one ``SignInCode`` row and to the browser that asked for it,
refused after ``MAX_ATTEMPTS`` wrong tries and after ``CODE_LIFETIME``. Link
tokens and session keys are long random strings: a plain SHA-256 is enough.
"""

import hashlib
import secrets
from datetime import timedelta

from django.utils.crypto import constant_time_compare, salted_hmac

CODE_LIFETIME = timedelta(minutes=10)
MAX_ATTEMPTS = 5
SESSION_LIFETIME = timedelta(days=30)


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def code_hash(code_id: int, code: str) -> str:
    return salted_hmac("comptoir.portal.code", f"{code_id}:{code}", algorithm="sha256").hexdigest()


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def code_matches(code_id: int, code: str, stored_hash: str) -> bool:
    return bool(stored_hash) and constant_time_compare(code_hash(code_id, code), stored_hash)
