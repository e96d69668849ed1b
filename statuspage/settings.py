"""Settings, read from the environment.

Development works with no environment at all (SQLite under var/, jobs run in-process after
commit, mail printed and written under var/mail/). Production differs only by environment
variables; every one of them is documented in .env.example.
"""

import ipaddress
import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def env_networks(name: str) -> list[str]:
    """Comma-separated CIDRs (or single addresses), normalised; a typo fails at start-up."""
    networks = []
    for item in os.environ.get(name, "").split(","):
        if item.strip():
            try:
                networks.append(str(ipaddress.ip_network(item.strip(), strict=False)))
            except ValueError as error:
                raise ImproperlyConfigured(f"{name}: {error}") from error
    return networks


DEBUG = env_bool("DEBUG", True)
TESTING = env_bool("TESTING", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-secret-key-do-not-use-in-production-0123456789"

# --- Hosts --------------------------------------------------------------------------------
# The app host serves sign-up, the console and the API; every page also has a public host
# <slug>.<BASE_DOMAIN> or a verified custom domain. statuspage.hosts resolves each request's
# Host header to exactly one of these and answers 404 to anything else, so Django's own host
# allow-list would only duplicate that work (and cannot list custom domains).
APP_HOST = os.environ.get("APP_HOST", "localhost").lower()
BASE_DOMAIN = os.environ.get("BASE_DOMAIN", "localhost").lower()
ALLOWED_HOSTS = ["*"]
# Scheme and port of the URLs we print in emails, feeds and the console. Links are always built
# from these, never from the request's Host header.
SITE_SCHEME = os.environ.get("SITE_SCHEME", "http" if DEBUG else "https")
SITE_PORT = os.environ.get("SITE_PORT", "")
# The name a custom domain's CNAME record must point at.
CUSTOM_DOMAIN_CNAME_TARGET = os.environ.get("CUSTOM_DOMAIN_CNAME_TARGET", f"pages.{BASE_DOMAIN}")
# Dotted path of the function that looks up TXT records; tests replace it.
DNS_TXT_RESOLVER = os.environ.get("DNS_TXT_RESOLVER", "statuspage.domains.resolve_txt_records")
# An unverified custom-domain claim lapses after this many days (it never blocks anyone: the
# first page to prove the domain by DNS gets it).
CUSTOM_DOMAIN_CLAIM_DAYS = env_int("CUSTOM_DOMAIN_CLAIM_DAYS", 7)
# The reverse proxies in front of the app (CIDRs). Empty: trust none, the TCP peer is the
# client. Otherwise the client is the right-most X-Forwarded-For hop outside these networks
# (statuspage.client_address); every rate limit and login lockout keys on it.
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_rq",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "statuspage",
    "components",
    "incidents",
    "subscribers",
    "postmortems",
]

MIDDLEWARE = [
    # Outermost: what reaches no other middleware (static files, unknown hosts) gets a
    # Permissions-Policy and a restrictive CSP too.
    "statuspage.security_headers.BaselineHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before routing and the public cache: a request carrying NUL is a 400 whatever its URL.
    "statuspage.control_characters.RefuseNulMiddleware",
    "statuspage.hosts.HostRoutingMiddleware",
    "statuspage.public_cache.PublicCacheMiddleware",
    # Inside the public cache, so the policy it sets is stored (and served by the fast path)
    # with each public response; sets request.csp_nonce for console templates.
    "statuspage.security_headers.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "statuspage.urls"
PUBLIC_URLCONF = "statuspage.public_urls"
WSGI_APPLICATION = "statuspage.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "statuspage.console_nav.console_context",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite serialises writers; waiting beats failing when the in-process jobs write too.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A database that stops answering must cost a request seconds, not minutes: a bounded
    # connect, keepalives that find a dead link within ~20 s, and a server that ends a
    # transaction whose client vanished mid-way (a cut network) instead of holding its row
    # locks until TCP gives up, hours later.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "connect_timeout": env_int("DATABASE_CONNECT_TIMEOUT", 5),
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 5,
            "keepalives_count": 2,
            "options": "-c idle_in_transaction_session_timeout="
            f"{env_int('DATABASE_IDLE_IN_TRANSACTION_SECONDS', 60)}s",
        }
    )
if os.environ.get("TEST_DATABASE_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["TEST_DATABASE_NAME"]}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache and job queue -----------------------------------------------------------
# Two roles, ideally two Redis instances with different memory policies (docker-compose.yml):
# the job queue must never evict (REDIS_URL), the cache should (CACHE_REDIS_URL, default the
# same as REDIS_URL). Neither is a source of truth: with either unreachable requests degrade
# (statuspage.cache_backend, statuspage.queue) and writes still commit.
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHE_REDIS_URL = os.environ.get("CACHE_REDIS_URL", "") or REDIS_URL
# Connect and reply timeout (seconds) of the cache and of enqueueing (not of a worker's
# blocking reads): a request pays at most this once per outage, then the breaker skips Redis.
REDIS_TIMEOUT = float(os.environ.get("REDIS_TIMEOUT", "") or 0.25)
# Seconds each process skips a Redis (cache or queue) after a failure, before trying again.
REDIS_BREAKER_COOLDOWN = 5.0
# Without Redis, jobs run synchronously in-process right after the transaction commits.
JOBS_RUN_IN_PROCESS = not REDIS_URL
RQ_QUEUES = {
    "default": {"URL": REDIS_URL or "redis://127.0.0.1:6379/0", "DEFAULT_TIMEOUT": 600},
}
# Jobs run in the worker process, not in a fork per job (statuspage/worker.py says why).
RQ = {"WORKER_CLASS": "statuspage.worker.Worker"}


def redis_cache(url: str) -> dict[str, object]:
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return {
        "BACKEND": "statuspage.cache_backend.ResilientRedisCache",
        "LOCATION": url,
        "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "sp"),
        "OPTIONS": {
            # No CLIENT SETINFO on connect: redis-py reads its own package metadata for it,
            # ~3 ms and two round trips per new connection.
            "driver_info": None,
            "socket_connect_timeout": REDIS_TIMEOUT,
            "socket_timeout": REDIS_TIMEOUT,
            # No retries: the breaker decides when to try again (redis-py's default schedule
            # turned one frozen server into ~15 s per request).
            "retry": Retry(NoBackoff(), 0),
            "retry_on_timeout": False,
            # Seconds the breaker skips Redis after a failure; seconds between log lines.
            "BREAKER_COOLDOWN": REDIS_BREAKER_COOLDOWN,
            "LOG_INTERVAL": 60.0,
            # Run when Redis answers again, before the call that found it up.
            "RECOVERY_HOOKS": [
                "statuspage.publishing.reconcile_after_outage",
                "statuspage.hosts.forget_after_outage",
            ],
        },
    }


if CACHE_REDIS_URL:
    CACHES = {"default": redis_cache(CACHE_REDIS_URL)}
else:
    # Shared by every local process (the server and the periodic-jobs runner of `make run`),
    # so a content-version bump made by one is seen by the other.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Auth ---------------------------------------------------------------------------------
AUTH_USER_MODEL = "statuspage.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ["email", "name"]},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "console:home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 3
INVITATION_MAX_AGE = 60 * 60 * 24 * 7

# Login protection (statuspage.login_protection says why it is shaped so):
# - one client address failing LOGIN_ADDRESS_FAILURE_LIMIT times, on any accounts, is locked
#   out for LOGIN_LOCKOUT_MINUTES (django-axes, keyed on the real client address only, so
#   nobody can lock another person's address out);
# - one account failing LOGIN_FAILURE_LIMIT times slows down, exponentially, every address
#   that has failed on it (LOGIN_DELAY_SECONDS, doubling, at most LOGIN_DELAY_MAX_SECONDS);
#   an address that has not failed on the account, like its owner's, is not slowed.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 20)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15)
LOGIN_DELAY_SECONDS = env_int("LOGIN_DELAY_SECONDS", 30)
LOGIN_DELAY_MAX_SECONDS = env_int("LOGIN_DELAY_MAX_SECONDS", 15 * 60)
LOGIN_FAILURE_WINDOW_SECONDS = 24 * 60 * 60
AXES_FAILURE_LIMIT = LOGIN_ADDRESS_FAILURE_LIMIT
AXES_COOLOFF_TIME = LOGIN_LOCKOUT_MINUTES / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["ip_address"]
AXES_CLIENT_IP_CALLABLE = "statuspage.client_address.client_key"
AXES_USERNAME_FORM_FIELD = "username"
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_RESET_ON_SUCCESS = False  # a success must not wipe an attacker's count on a shared address
AXES_VERBOSE = False
AXES_ENABLED = env_bool("AXES_ENABLED", True)
# Sign-ups per client address per hour (each creates an organisation and a page).
SIGNUP_LIMIT_PER_HOUR = env_int("SIGNUP_LIMIT_PER_HOUR", 5)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- Email --------------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Status <status@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_URL = os.environ.get("EMAIL_URL", "")


def _email_settings(url: str) -> dict[str, object]:
    if not url:
        # Development: print to the console and keep a copy of every message under var/mail/.
        return {
            "EMAIL_BACKEND": "statuspage.mail_backends.ConsoleAndFileBackend",
            "EMAIL_FILE_PATH": str(VAR_DIR / "mail"),
        }
    parts = urlsplit(url)
    if parts.scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parts.scheme == "locmem":
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    if parts.scheme not in {"smtp", "smtps"}:
        raise ImproperlyConfigured(f"EMAIL_URL scheme {parts.scheme!r} is not supported.")
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname or "localhost",
        "EMAIL_PORT": parts.port or (465 if parts.scheme == "smtps" else 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_SSL": parts.scheme == "smtps",
        "EMAIL_USE_TLS": options.get("tls", "0") in {"1", "true", "yes"},
        "EMAIL_TIMEOUT": int(options.get("timeout", "30")),
    }


globals().update(_email_settings(EMAIL_URL))

# --- Static files -------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"

# --- I18N / time --------------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Security -----------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = [
    f"{SITE_SCHEME}://{APP_HOST}" + (f":{SITE_PORT}" if SITE_PORT else ""),
]
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^internal/", r"^healthz(/ready)?$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    if env_bool("BEHIND_TLS_PROXY", True):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

SILENCED_SYSTEM_CHECKS = [
    # HSTS preload is a deliberate operator choice (it is hard to undo), off by default.
    "security.W021",
]

# --- Logging ------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # A database outage is logged once a minute by statuspage.outage, not with a traceback
    # for every request Django answers 503 meanwhile.
    "filters": {"database_outage": {"()": "statuspage.outage.OutageLogFilter"}},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        "django.request": {"filters": ["database_outage"]},
    },
}

# --- Periodic jobs ------------------------------------------------------------------------
# (dotted path, interval in seconds), enqueued by `manage.py run_periodic_jobs`.
PERIODIC_JOBS: list[tuple[str, int]] = [
    ("incidents.jobs.advance_maintenance_job", 30),
    ("subscribers.jobs.sweep_job", 60),
    # A dead worker's send jobs, released as soon as its heartbeat expires (statuspage.worker).
    ("subscribers.jobs.release_abandoned_sends_job", 15),
    ("incidents.jobs.responder_checks_job", 60),
    # Content versions whose Redis mirror update failed (statuspage.publishing); usually none.
    ("statuspage.jobs.reconcile_content_versions_job", 10),
]

# --- Subscribers ----------------------------------------------------------------------------
SUBSCRIPTION_CONFIRM_MAX_AGE = 60 * 60 * 48
# A pending subscriber gets at most one confirmation email per this many seconds.
SUBSCRIPTION_RESEND_AFTER = 5 * 60
# Hard bounces (5xx) after which a subscriber is quarantined.
SUBSCRIBER_QUARANTINE_AFTER = env_int("SUBSCRIBER_QUARANTINE_AFTER", 3)
# Deliveries per send job, and how long a job's lease on its claimed rows lasts before the
# sweep hands them to another worker (the first one died).
DELIVERY_BATCH_SIZE = env_int("DELIVERY_BATCH_SIZE", 1000)
# The lease is renewed while its job sends (every quarter of it), so it bounds how long a
# killed worker's rows wait when its RQ heartbeat cannot tell (statuspage.worker).
DELIVERY_LEASE_SECONDS = env_int("DELIVERY_LEASE_SECONDS", 60)
DELIVERY_MAX_ATTEMPTS = env_int("DELIVERY_MAX_ATTEMPTS", 8)
# After the n-th transient failure the next attempt waits base × 2^(n-1) seconds, at most the
# cap, less up to JITTER percent at random (so a failed batch does not come back at once).
DELIVERY_RETRY_BASE_SECONDS = env_int("DELIVERY_RETRY_BASE_SECONDS", 30)
DELIVERY_RETRY_MAX_SECONDS = env_int("DELIVERY_RETRY_MAX_SECONDS", 3600)
DELIVERY_RETRY_JITTER_PERCENT = env_int("DELIVERY_RETRY_JITTER_PERCENT", 20)
# Accepted messages are marked sent in groups of this size (the duplicate window of a crash).
DELIVERY_MARK_EVERY = env_int("DELIVERY_MARK_EVERY", 100)
# SMTP connections each send job opens in parallel (raise it for a distant relay).
DELIVERY_CONNECTIONS = env_int("DELIVERY_CONNECTIONS", 1)
WEBHOOK_TIMEOUT = env_int("WEBHOOK_TIMEOUT", 30)
# Let webhooks reach private and loopback addresses (development and tests only).
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env_bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", DEBUG)

# --- Alert intake (/integrations/<kind>/<token>) ------------------------------------------
# One request: at most this many bytes, alerts (Alertmanager's `max_alerts` keeps a group
# within it) and levels of JSON nesting (Alertmanager's deepest path is 4); an integration
# takes at most this many requests a minute (429 + Retry-After past it). Firing alerts join the
# integration's open incident while one of its alerts joined it within the grouping window.
INTAKE_MAX_BODY_BYTES = env_int("INTAKE_MAX_BODY_BYTES", 1024 * 1024)
INTAKE_MAX_ALERTS = env_int("INTAKE_MAX_ALERTS", 100)
INTAKE_MAX_DEPTH = env_int("INTAKE_MAX_DEPTH", 20)
INTAKE_RATE_LIMIT_PER_MINUTE = env_int("INTAKE_RATE_LIMIT_PER_MINUTE", 120)
INTAKE_GROUP_WINDOW_MINUTES = env_int("INTAKE_GROUP_WINDOW_MINUTES", 30)

# --- Management API -------------------------------------------------------------------------
API_REQUESTS_PER_MINUTE = env_int("API_REQUESTS_PER_MINUTE", 60)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["statuspage.api_auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["statuspage.api_auth.HasAccess"],
    "DEFAULT_THROTTLE_CLASSES": ["statuspage.api_auth.ApiKeyThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "statuspage.api_parsers.DepthLimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "statuspage.api.handle_exception",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Status page management API",
    "DESCRIPTION": "Statuspage-compatible v1: change the base URL and the key, keep your scripts.",
    "VERSION": "1.0.0",
    # The reference page's scripts are served by us (whitenoise), never from a CDN.
    "REDOC_DIST": "SIDECAR",
    # Our views are plain APIViews (Statuspage's shapes are hand-written); the schema lists
    # their paths and parameters, and its generator's hints are not deployment problems.
    "ENABLE_DJANGO_DEPLOY_CHECK": False,
}
