"""Settings for Comptoir, read from the environment with embedded defaults.

Without any variable set, Comptoir runs on an SQLite database in WAL mode under
``var/`` and an in-memory channel layer, so ``make demo`` needs no server.
``DATABASE_URL`` points it at PostgreSQL and ``REDIS_URL`` fans real-time
events out through Redis so that several processes can serve one brand.
"""

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONCE as CSP_NONCE
from django.core.exceptions import ImproperlyConfigured

from comptoir.security.secret_key import InsecureSecretKey, read_secret_key
from comptoir.storage_settings import storage_settings

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("COMPTOIR_VAR_DIR", Path.cwd() / "var")).resolve()


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DEBUG", False)
# Refused when DEBUG is off and the key is missing or a published one (security/secret_key.py).
try:
    SECRET_KEY = read_secret_key(os.environ, debug=DEBUG)
except InsecureSecretKey as _error:
    raise ImproperlyConfigured(str(_error)) from None
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")
    if h.strip()
]
# Where customers reach Comptoir: the base of the links sent in messages (survey links, an
# appointment's signed link to manage it). No trailing slash.
PUBLIC_URL = os.environ.get("PUBLIC_URL", "http://localhost:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "ninja",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "comptoir.tenancy",
    "comptoir.security",
    "comptoir.tasks",
    "comptoir.events",
    "comptoir.customers",
    "comptoir.conversations",
    "comptoir.routing",
    "comptoir.sla",
    "comptoir.outbox",
    "comptoir.outbound_webhooks",
    "comptoir.moving_in",
    "comptoir.assistant",
    "comptoir.surveys",
    "comptoir.reports",
    "comptoir.gdpr",
    "comptoir.touchpoints.email",
    "comptoir.touchpoints.phone",
    "comptoir.touchpoints.messaging",
    "comptoir.search",
    "comptoir.canned",
    "comptoir.appointments",
    "comptoir.realtime",
    "comptoir.console",
    "comptoir.administration",
    "comptoir.widget",
    "comptoir.portal",
    "comptoir.api",
    "comptoir.demo",
]

MIDDLEWARE = [
    # First: answers /healthz, /readyz and /metrics ahead of everything else (no host
    # check, session or CSRF), tags every other request with an id and counts it.
    "comptoir.observability.middleware.ObservabilityMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "comptoir.text_cleaning.text_cleaning_middleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Idle timeout and absolute lifetime of agents' sessions; then the second factor.
    "comptoir.security.sessions.SessionLifetimeMiddleware",
    "comptoir.security.audit.AuditContextMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "comptoir.security.two_factor.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Content-Security-Policy on console pages (comptoir.security.csp).
    "comptoir.security.csp.ConsoleCSPMiddleware",
    # Last: lockout after failed logins, console and Django admin alike (django-axes).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "comptoir.urls"
ASGI_APPLICATION = "comptoir.asgi.application"
# Threads that run HTTP requests' Django code in one ``comptoir serve`` process
# (comptoir/http_handler.py): requests beyond them wait for one. Each holds at most one
# database connection; 0 starts a thread per request instead (Django's own way).
HTTP_THREADS = int(os.environ.get("HTTP_THREADS", "20"))

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'comptoir.sqlite3'}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers proceed while one writer commits; IMMEDIATE transactions
    # take the write lock up front so concurrent writers queue instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("SQLITE_TEST_NAME", ":memory:")}

else:
    # Server-side binding lets PostgreSQL reuse the plans of prepared statements
    # (about a third less time per ingested message). PgBouncer in transaction
    # mode cannot keep prepared statements: set DATABASE_PREPARED_STATEMENTS=0.
    # PGBOUNCER_TRANSACTION_POOLING=1 sets both for a pooler in transaction mode
    # (docs/deployment.md): no prepared statements, no server-side cursors.
    PGBOUNCER_TRANSACTION_POOLING = env_bool("PGBOUNCER_TRANSACTION_POOLING", False)
    DATABASES["default"]["OPTIONS"] = {
        # A database that does not answer fails a request in seconds, not minutes.
        "connect_timeout": int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "5"))
    }
    if env_bool("DATABASE_PREPARED_STATEMENTS", not PGBOUNCER_TRANSACTION_POOLING):
        DATABASES["default"]["OPTIONS"].update(server_side_binding=True, prepare_threshold=5)
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = PGBOUNCER_TRANSACTION_POOLING
    # A pool of connections per process (psycopg_pool). Under ASGI, Django runs each
    # request's sync code in a thread of its own, so without a pool every request
    # opened a connection (a new PostgreSQL backend, ~3 ms) and closed it, and its
    # prepared statements were never reused: four times fewer messages per second.
    # Requests beyond the pool's size wait up to DATABASE_POOL_TIMEOUT seconds for a
    # connection (then the database counts as unavailable: 503 where it is handled).
    # DATABASE_POOL_MAX_SIZE=0 (or CONN_MAX_AGE > 0) turns it off.
    pool_max_size = int(os.environ.get("DATABASE_POOL_MAX_SIZE", "20"))
    if pool_max_size > 0 and DATABASES["default"]["CONN_MAX_AGE"] == 0:
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": min(int(os.environ.get("DATABASE_POOL_MIN_SIZE", "2")), pool_max_size),
            "max_size": pool_max_size,
            "timeout": float(os.environ.get("DATABASE_POOL_TIMEOUT", "10")),
        }
        # A pooled connection may have died idle (a database restart): checked on
        # checkout, one empty round trip, instead of failing the request that gets it.
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = env_bool("CONN_HEALTH_CHECKS", True)
    # One test database per test run, so that concurrent runs never drop each other's.
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get("TEST_DATABASE_NAME")
        or f"test_{DATABASES['default']['NAME']}_{os.getpid()}"
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Background tasks (comptoir.tasks): Procrastinate on PostgreSQL; on SQLite the same
# tasks run from the TaskJob table in ``comptoir serve --worker``.
TASKS_BACKEND = os.environ.get("TASKS_BACKEND") or (
    "database"
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
    else "procrastinate"
)
if TASKS_BACKEND == "procrastinate":
    INSTALLED_APPS.insert(INSTALLED_APPS.index("comptoir.tenancy"), "procrastinate.contrib.django")
    # Our tasks are registered by comptoir.tasks, not by Procrastinate's module discovery.
    PROCRASTINATE_AUTODISCOVER_MODULE_NAME = ""
# Procrastinate workers LISTEN for new jobs, which needs a session of their own: behind
# PgBouncer in transaction mode, give them a direct URL to PostgreSQL (queueing and the
# tasks themselves keep DATABASE_URL). Empty: workers use DATABASE_URL.
TASKS_DATABASE_URL = os.environ.get("TASKS_DATABASE_URL", "")
# How often an idle worker of the database engine looks for due jobs (seconds); a
# job queued in this process wakes it at once.
TASKS_POLL_SECONDS = float(os.environ.get("TASKS_POLL_SECONDS", "1"))
# Procrastinate workers send a heartbeat this often; a worker silent for
# TASKS_STALLED_AFTER_SECONDS is taken for dead and its running jobs are retried
# On the database engine, without heartbeats, a run older than
# TASKS_DATABASE_LEASE_SECONDS is taken for dead.
TASKS_HEARTBEAT_SECONDS = float(os.environ.get("TASKS_HEARTBEAT_SECONDS", "5"))
TASKS_STALLED_AFTER_SECONDS = float(os.environ.get("TASKS_STALLED_AFTER_SECONDS", "30"))
TASKS_DATABASE_LEASE_SECONDS = float(os.environ.get("TASKS_DATABASE_LEASE_SECONDS", "900"))
# When workers look for stalled jobs (cron; the 6th field counts seconds).
TASKS_STALLED_SWEEP_CRON = os.environ.get("TASKS_STALLED_SWEEP_CRON", "* * * * * */15")
# Check every event payload against its kind's schema (comptoir.events.kinds).
EVENTS_VALIDATE_PAYLOADS = env_bool("EVENTS_VALIDATE_PAYLOADS", DEBUG)

REDIS_URL = os.environ.get("REDIS_URL", "")
# The cache holds rate-limit counters: shared through Redis when there is one.
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("REDIS_PREFIX", "comptoir") + ":cache",
            # A frozen Redis costs a request this long once; then limits are lifted for a
            # while (security.ratelimit.CACHE_RETRY_SECONDS).
            "OPTIONS": {
                "socket_timeout": float(os.environ.get("CACHE_REDIS_TIMEOUT", "0.5")),
                "socket_connect_timeout": float(os.environ.get("CACHE_REDIS_TIMEOUT", "0.5")),
            },
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# Live delivery (comptoir.realtime; docs/architecture.md, "Live delivery"). Messages a
# process's sockets have not read yet, per process (channels_redis counts capacity per
# process, not per socket): beyond it the oldest are dropped, counted, logged, and the
# sockets concerned catch up from the event log.
REALTIME_CHANNEL_CAPACITY = int(os.environ.get("REALTIME_CHANNEL_CAPACITY", "2000"))
# A socket's group membership expires after this many seconds unless renewed; consumers
# renew theirs every quarter of it.
REALTIME_GROUP_EXPIRY = int(os.environ.get("REALTIME_GROUP_EXPIRY", "86400"))
# Redis connections per process and event loop; beyond it callers wait (at most
# REALTIME_POOL_TIMEOUT seconds) for a free connection instead of failing.
REALTIME_MAX_CONNECTIONS = int(os.environ.get("REALTIME_MAX_CONNECTIONS", "64"))
REALTIME_POOL_TIMEOUT = float(os.environ.get("REALTIME_POOL_TIMEOUT", "10"))
# Longest wait for any one Redis call made on a publication or a join; a frozen Redis
# delays live delivery by this much, never an acknowledgement.
REALTIME_REDIS_TIMEOUT = float(os.environ.get("REALTIME_REDIS_TIMEOUT", "2"))
# Publications waiting for Redis, per process; beyond it they are dropped and counted,
# and every socket catches up from the event log once Redis answers again.
REALTIME_PUBLISH_QUEUE = int(os.environ.get("REALTIME_PUBLISH_QUEUE", "10000"))
# How often each process compares its sockets' sequence numbers with Redis's.
REALTIME_WATCH_SECONDS = float(os.environ.get("REALTIME_WATCH_SECONDS", "2"))
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "comptoir.realtime.layer.RedisChannelLayer",
            "CONFIG": {
                # A read may block for channels_redis's BZPOPMIN (5 s): a socket timeout
                # above it (redis-py 8's default of 5 s tore down quiet WebSockets,
                # django/channels_redis#422) still ends a read from a dead connection.
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": 15,
                        "socket_connect_timeout": REALTIME_REDIS_TIMEOUT,
                        "max_connections": REALTIME_MAX_CONNECTIONS,
                        "timeout": REALTIME_POOL_TIMEOUT,
                    }
                ],
                "prefix": os.environ.get("REDIS_PREFIX", "comptoir"),
                "capacity": REALTIME_CHANNEL_CAPACITY,
                "group_expiry": REALTIME_GROUP_EXPIRY,
            },
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "comptoir.realtime.layer.InMemoryChannelLayer",
            "CONFIG": {
                "capacity": REALTIME_CHANNEL_CAPACITY,
                "group_expiry": REALTIME_GROUP_EXPIRY,
            },
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": int(os.environ.get("PASSWORD_MIN_LENGTH", "12"))},
    },
    # Django's shipped list of 20,000 common (breached) passwords.
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Axes first: a locked-out account or address is refused before its password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

LOGIN_URL = "console:login"
LOGIN_REDIRECT_URL = "console:inbox"
LOGOUT_REDIRECT_URL = "console:login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Paris")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = os.environ.get("STATIC_ROOT") or None  # whitenoise serves app static files
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# Attachments: files under MEDIA_ROOT by default; on several machines, an S3-compatible
# bucket shared by every process (comptoir.storage_settings, docs/deployment.md).
STORAGES = storage_settings(os.environ)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
# An agent's session ends after SESSION_IDLE_TIMEOUT seconds without a request and, in any
# case, SESSION_ABSOLUTE_LIFETIME seconds after the login (security.sessions).
SESSION_IDLE_TIMEOUT = int(os.environ.get("SESSION_IDLE_TIMEOUT", str(4 * 3600)))
SESSION_ABSOLUTE_LIFETIME = int(os.environ.get("SESSION_ABSOLUTE_LIFETIME", str(12 * 3600)))
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_LIFETIME

# Behind TLS (the documented production, docs/deployment.md): HTTPS=1 makes cookies Secure,
# redirects plain HTTP to HTTPS and sends HSTS; `comptoir check --deploy` expects it.
HTTPS = env_bool("HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000" if HTTPS else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", HTTPS)
# The proxy terminating TLS says so in X-Forwarded-Proto (uvicorn trusts it from
# FORWARDED_ALLOW_IPS); probes and the SMTP/HTTP mail endpoint of the machine stay on HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]

# Content-Security-Policy of console pages (django-csp, limited to /console/ by
# security.csp): scripts and styles from this origin only (the one inline script carries
# the request's nonce), no plugins, no framing. The widget runs on brands' own sites.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", CSP_NONCE],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "media-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Login lockout (django-axes), console and Django admin alike: after AXES_FAILURE_LIMIT
# failures for one account, or from one address, further attempts are refused (429 with
# Retry-After) for AXES_COOLOFF_MINUTES; a successful login resets the account's count.
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_MINUTES", "15")) / 60
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "comptoir.security.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "comptoir.security.ratelimit.axes_client_ip"
# Successful logins are in Comptoir's own audit log (security.models.AuditEntry).
AXES_DISABLE_ACCESS_LOG = True
AXES_USERNAME_FORM_FIELD = "username"
AXES_VERBOSE = False

# Second factor (django-otp TOTP + recovery codes): roles that must use one to reach the
# console (security.two_factor). Comma-separated roles (agent, supervisor, admin); empty: none.
TWO_FACTOR_REQUIRED_ROLES = [
    r.strip() for r in os.environ.get("TWO_FACTOR_REQUIRED_ROLES", "admin").split(",") if r.strip()
]
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Comptoir")

# Origins (scheme://host[:port]) the assistant may call even on private addresses, set by
# the operator (`make demo` sets its own shop's); brands' administrators cannot lift the guard
# otherwise except with AssistantSettings.allow_private_addresses in the Django admin.
ASSISTANT_PRIVATE_ORIGINS = [
    o.strip().lower().rstrip("/")
    for o in os.environ.get("ASSISTANT_PRIVATE_ORIGINS", "").split(",")
    if o.strip()
]

# Channel secrets encrypted at rest (security.fields): comma-separated Fernet keys, the first
# encrypting, all decrypting (rotation: put a new key first, run `comptoir
# rotate_encryption_keys`, then drop the old one). Empty: a key derived from SECRET_KEY.
FIELD_ENCRYPTION_KEYS = [
    k.strip() for k in os.environ.get("FIELD_ENCRYPTION_KEYS", "").split(",") if k.strip()
]

# Audit log (security.models.AuditEntry): entries older than this are purged every night.
AUDIT_RETENTION_DAYS = int(os.environ.get("AUDIT_RETENTION_DAYS", "365"))

# Rate limits (security.ratelimit): "<requests>/<seconds>" per scope, overridable with
# RATE_LIMIT_<SCOPE> (e.g. RATE_LIMIT_WIDGET_MESSAGE=60/60); RATE_LIMITS_ENABLED=0 lifts them.
# Counted in the cache: Redis when REDIS_URL is set (shared by every process), else in
# the process.
RATE_LIMITS_ENABLED = env_bool("RATE_LIMITS_ENABLED", True)
_DEFAULT_RATE_LIMITS = {
    "widget_session": "30/600",  # new widget sessions per client address
    "widget_message": "30/60",  # messages per visitor
    "widget_message_address": "120/60",  # messages per client address, all visitors
    "widget_identify": "10/600",  # e-mail submissions per visitor
    "callback": "5/3600",  # callback requests per visitor
    "callback_numbers": "2/86400",  # different numbers a visitor may ask to be called on
    "widget_privacy": "20/3600",  # consent changes and data requests per visitor
    "login": "30/600",  # login form posts per client address (console and admin)
    "api": "600/60",  # REST API requests per token
    "portal_code": "5/3600",  # portal sign-in codes sent to one address
    "portal_code_address": "20/3600",  # portal sign-in codes asked from one client address
    "portal_verify": "30/600",  # portal codes typed (or links opened) from one client address
}
RATE_LIMITS = {
    scope: os.environ.get(f"RATE_LIMIT_{scope.upper()}", default)
    for scope, default in _DEFAULT_RATE_LIMITS.items()
}

# Attachments accepted from customers: size in bytes and allowed MIME type prefixes.
ATTACHMENT_MAX_BYTES = int(os.environ.get("ATTACHMENT_MAX_BYTES", str(20 * 1024 * 1024)))
ATTACHMENT_ALLOWED_TYPES = [
    t.strip()
    for t in os.environ.get(
        "ATTACHMENT_ALLOWED_TYPES", "image/,video/,application/pdf,text/plain"
    ).split(",")
    if t.strip()
]


def parse_email_url(url: str) -> dict:
    """Django's EMAIL_* settings from ``smtp://``, ``smtp+starttls://`` or ``smtps://`` URLs."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    if parts.scheme == "file":
        # file:var/sent-mail or file:///srv/mail: each mail written as a file (demo, staging).
        return {"EMAIL_FILE_PATH": str(Path(unquote(parts.netloc + parts.path)).resolve())}
    schemes = {"smtp": (False, False, 25), "smtp+starttls": (True, False, 587)}
    schemes["smtps"] = (False, True, 465)
    if parts.scheme not in schemes:
        raise ValueError(
            f"EMAIL_URL: scheme {parts.scheme!r} is not smtp, smtp+starttls, smtps or file"
        )
    use_tls, use_ssl, default_port = schemes[parts.scheme]
    return {
        "EMAIL_HOST": parts.hostname or "127.0.0.1",
        "EMAIL_PORT": parts.port or default_port,
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": use_tls,
        "EMAIL_USE_SSL": use_ssl,
    }


# Outbound mail (agent replies, acknowledgements): smtp://user:pass@host:port,
# smtp+starttls://… or smtps://…, user and password percent-encoded; or file:DIR
# to write each mail into DIR instead (what ``make demo`` does).
EMAIL_URL = os.environ.get("EMAIL_URL", "smtp://127.0.0.1:25")
_email = parse_email_url(EMAIL_URL)
EMAIL_FILE_PATH = _email.get("EMAIL_FILE_PATH", "")
EMAIL_HOST = _email.get("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = _email.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "20"))
# The From of a brand without a Mailbox: <brand slug>@DEFAULT_FROM_DOMAIN.
DEFAULT_FROM_DOMAIN = os.environ.get("DEFAULT_FROM_DOMAIN", "comptoir.localhost")

# Inbound mail authentication (touchpoints/email/authentication.py): the authserv-ids of
# the receiving MTAs whose Authentication-Results header (SPF, DKIM, DMARC) is believed.
EMAIL_TRUSTED_AUTHSERV_IDS = [
    h.strip().lower()
    for h in os.environ.get("EMAIL_TRUSTED_AUTHSERV_IDS", "").split(",")
    if h.strip()
]

# Largest raw inbound mail accepted (SMTP answers 552, the HTTP endpoint 413).
EMAIL_MAX_MESSAGE_BYTES = int(os.environ.get("EMAIL_MAX_MESSAGE_BYTES", str(25 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Lifetime of the signed token a chat visitor's browser keeps (seconds).
# Outbound deliveries (e-mail, messaging): tries and exponential backoff between them.
# When workers look for duplicates among customers who gained identities (cron).
DUPLICATE_SCAN_CRON = os.environ.get("DUPLICATE_SCAN_CRON", "*/5 * * * *")

# The router's sweep (routing.tasks.sweep): waiting conversations decided again every 10 s
# (advisor's extra wait, widening thresholds, consoles opened).
ROUTING_SWEEP_CRON = os.environ.get("ROUTING_SWEEP_CRON", "* * * * * */10")
# How long a process trusts its list of brands routing new conversations on a channel.
ROUTING_CACHE_SECONDS = 5
OUTBOX_MAX_ATTEMPTS = int(os.environ.get("OUTBOX_MAX_ATTEMPTS", "10"))
OUTBOX_RETRY_BASE_SECONDS = int(os.environ.get("OUTBOX_RETRY_BASE_SECONDS", "30"))
OUTBOX_RETRY_MAX_SECONDS = int(os.environ.get("OUTBOX_RETRY_MAX_SECONDS", "3600"))
# Outbound webhooks (comptoir.outbound_webhooks; docs/webhooks.md): the timeout of one
# delivery (s); the backoff after the n-th failure, base * 2^(n-1) capped at the max; an
# endpoint failing without a success for that many days is switched off and its brand's
# administrators told; the previous secret still signs for that many hours after a rotation.
WEBHOOKS_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOKS_TIMEOUT_SECONDS", "10"))
WEBHOOKS_RETRY_BASE_SECONDS = int(os.environ.get("WEBHOOKS_RETRY_BASE_SECONDS", "30"))
WEBHOOKS_RETRY_MAX_SECONDS = int(os.environ.get("WEBHOOKS_RETRY_MAX_SECONDS", str(6 * 3600)))
WEBHOOKS_DISABLE_AFTER_DAYS = float(os.environ.get("WEBHOOKS_DISABLE_AFTER_DAYS", "3"))
WEBHOOKS_SECRET_OVERLAP_HOURS = float(os.environ.get("WEBHOOKS_SECRET_OVERLAP_HOURS", "24"))
# Deliveries one job sends before it gives its worker back (and queues the rest).
WEBHOOKS_BATCH = int(os.environ.get("WEBHOOKS_BATCH", "50"))
# When workers look for endpoints whose backoff has passed (cron; 6th field: seconds).
WEBHOOKS_WAKE_CRON = os.environ.get("WEBHOOKS_WAKE_CRON", "* * * * * */15")
# How long a process trusts its map of the brands' subscriptions (seconds).
WEBHOOKS_CACHE_SECONDS = 5
# Moving in: the largest export accepted on the console, once unpacked (bytes).
MOVING_IN_MAX_BYTES = int(os.environ.get("MOVING_IN_MAX_BYTES", str(2 * 1024**3)))
# WhatsApp/Messenger: largest webhook body accepted (413 beyond), Graph API timeout (s).
MESSAGING_WEBHOOK_MAX_BYTES = int(os.environ.get("MESSAGING_WEBHOOK_MAX_BYTES", str(1024 * 1024)))
MESSAGING_HTTP_TIMEOUT = float(os.environ.get("MESSAGING_HTTP_TIMEOUT", "10"))
# Fetch attachment URLs of webhook payloads on loopback/private addresses (tests, local demo only).
MESSAGING_MEDIA_ALLOW_PRIVATE_HOSTS = os.environ.get("MESSAGING_MEDIA_ALLOW_PRIVATE_HOSTS") == "1"

WIDGET_TOKEN_MAX_AGE = int(os.environ.get("WIDGET_TOKEN_MAX_AGE", str(180 * 24 * 3600)))

# Health checks and metrics (comptoir.observability, docs/deployment.md).
# How long /readyz waits for the database and Redis before answering 503 (seconds).
READINESS_TIMEOUT_SECONDS = float(os.environ.get("READINESS_TIMEOUT_SECONDS", "2"))
# /metrics answers clients of these networks, or anyone with "Authorization: Bearer
# METRICS_TOKEN" (empty: no token accepted).
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
METRICS_ALLOWED_NETWORKS = [
    n.strip()
    for n in os.environ.get("METRICS_ALLOWED_NETWORKS", "127.0.0.0/8,::1/128").split(",")
    if n.strip()
]

# LOG_FORMAT=json: one JSON object per line (time, level, logger, message, request_id).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "comptoir.observability.logs.RequestIdFilter"}},
    "formatters": {"json": {"()": "comptoir.observability.logs.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            **({"formatter": "json"} if LOG_FORMAT == "json" else {}),
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    "loggers": {"comptoir": {"level": os.environ.get("LOG_LEVEL", "INFO"), "propagate": True}},
}
