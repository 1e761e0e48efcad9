"""Settings shared by every environment. Everything that differs comes from the environment."""

import os
from collections.abc import Mapping
from importlib.util import find_spec
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("VITREEM_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def pg_options(environ: Mapping[str, str]) -> str:
    """The settings of the application's PostgreSQL connections (libpq `options`).

    - No JIT compilation. The statistics' grouped counts carry dozens of aggregate filters, so their
      estimated cost passes jit_above_cost even for one commune; PostgreSQL then spent 0.9-1.7 s
      compiling a query that runs in 60 ms (EXPLAIN ANALYZE on the 200,000-child demo: "JIT: ... Total
      1726 ms"). No query of ours scans enough rows for compiled expressions to pay back.
    - The cost of a random page read, VITREEM_PG_RANDOM_PAGE_COST (default 1.1; empty: the server's own).
      PostgreSQL's default of 4 prices a disk seek; a province's data is read from memory or an SSD. At 4
      the refresh of one commune's child counts (serial, as the task worker runs it) read every child of
      the province to join the commune's 9,200 residences: 223 ms; at 1.1 it probes them by key: 82 ms
      (200,000-child demo, PostgreSQL 15; docs/en/scaling.md)."""
    options = "-c jit=off"
    page_cost = environ.get("VITREEM_PG_RANDOM_PAGE_COST", "1.1").strip()
    if page_cost:
        try:
            cost = float(page_cost)
        except ValueError:
            raise ImproperlyConfigured(f"VITREEM_PG_RANDOM_PAGE_COST={page_cost!r}: a number (such as 1.1) "
                                       "or empty") from None
        if not 0 < cost < 1000:
            raise ImproperlyConfigured(f"VITREEM_PG_RANDOM_PAGE_COST={page_cost!r}: between 0 and 1000")
        options += f" -c random_page_cost={cost}"
    return options


# The development key is only for `make demo`; production refuses to start without its own.
SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-insecure-key-change-me")  # noqa: S105
DEBUG = env_bool("DEBUG", True)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Set by `make demo`: the login page then lists the demo accounts, and 2FA is not required.
DEMO_MODE = env_bool("VITREEM_DEMO", False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "vitreem.core",
    "vitreem.places",
    "vitreem.accounts",
    "vitreem.registry",
    "vitreem.imports",
    "vitreem.cases",
    "vitreem.benefits",
    "vitreem.programme",
    "vitreem.activities",
    "vitreem.stats",
    "vitreem.reports",
    "vitreem.field",
    "vitreem.privacy",
    "vitreem.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "vitreem.core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "vitreem.core.middleware.RefuseNulMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "vitreem.accounts.middleware.RequireTwoFactorMiddleware",
    "vitreem.accounts.middleware.SessionExpiryMiddleware",
    "vitreem.core.middleware.DomainErrorMiddleware",
    "vitreem.core.middleware.PermissionsPolicyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

# Content-Security-Policy (issue 15; why and how in vitreem/core/csp.py): only what vitreem serves runs —
# no inline script or style, no eval, nothing from another origin. VITREEM_CSP=enforce (the default) |
# report-only (to roll a policy out on a live installation: the browser reports, blocks nothing) | off.
_CSP_SELF, _CSP_NONE = "'self'", "'none'"
_CSP = {"DIRECTIVES": {
    "default-src": [_CSP_SELF], "script-src": [_CSP_SELF], "style-src": [_CSP_SELF],
    "img-src": [_CSP_SELF, "data:"], "font-src": [_CSP_SELF], "connect-src": [_CSP_SELF],
    "object-src": [_CSP_NONE], "base-uri": [_CSP_SELF], "form-action": [_CSP_SELF],
    "frame-ancestors": [_CSP_NONE], "report-uri": "/csp-report/",
}}
# Enforced (issue 15 item 2): the browser sweep (tests/test_e2e_csp.py) walks every persona's pages
# without one violation, after the policy ran report-only.
CSP_MODE = os.environ.get("VITREEM_CSP", "enforce")
if CSP_MODE not in {"enforce", "report-only", "off"}:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("VITREEM_CSP must be enforce, report-only or off")
CONTENT_SECURITY_POLICY = _CSP if CSP_MODE == "enforce" else None
CONTENT_SECURITY_POLICY_REPORT_ONLY = _CSP if CSP_MODE == "report-only" else None

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

# /api/docs renders Swagger UI from django-ninja's own page and static files, served by vitreem, not from
# a public CDN (issue 20 item 7: an isolated network, no third-party script). They are found by path
# (vitreem.core.api.LocalSwagger) rather than by installing ninja as an app: as an app it imported
# pydantic into every process start, 0.4 of the 1.6 s of django.setup() for a command such as
# `vitreem stats --json` (issue 13).
NINJA_DIR = Path(find_spec("ninja").origin).parent  # type: ignore[union-attr, arg-type]
STATICFILES_DIRS = [NINJA_DIR / "static"]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "vitreem" / "templates", NINJA_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "vitreem.core.context_processors.site",
            ],
        },
    }
]

# SQLite is the embedded default so that `make demo` needs nothing installed;
# production and CI set DATABASE_URL=postgres://…
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'vitreem.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets the web server read while the task worker writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # No JIT, and a random page priced for memory or an SSD (`pg_options`).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = pg_options(os.environ)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Lock-out after repeated failed logins (django-axes): 5 failures lock the username+IP for 30 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.5  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

# Sessions end after 8 hours without activity, and when the browser closes. Not saved on every request
# (an UPDATE and a commit per page doubled the dashboard's p95 at 20 connections, bench/bench_stats.py);
# accounts.middleware.SessionExpiryMiddleware renews a session at most every five minutes instead.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(8 * 3600)))
SESSION_SAVE_EVERY_REQUEST = env_bool("SESSION_SAVE_EVERY_REQUEST", False)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", "Tiếng Việt"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "vitreem" / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"

# Background work goes through Django's task API, stored in the database; `vitreem db_worker` runs it.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

OTP_TOTP_ISSUER = "vitreem"
# Roles that must log in with a second factor outside the demo.
TWO_FACTOR_REQUIRED = not DEMO_MODE and env_bool("TWO_FACTOR_REQUIRED", True)

# Personal API tokens: each expires this many days after it is made, and a user holds at most this many
# working tokens at once (issue 20).
VITREEM_API_TOKEN_DAYS = int(os.environ.get("VITREEM_API_TOKEN_DAYS", "90"))
VITREEM_API_TOKENS_PER_USER = int(os.environ.get("VITREEM_API_TOKENS_PER_USER", "5"))
# A spreadsheet to import is refused when a sheet's used range (by the cells holding a value) is wider
# or larger than this (issue 20 item 2): 6,000,000 cells hold 200,000 children × 30 columns.
VITREEM_IMPORT_MAX_COLUMNS = int(os.environ.get("VITREEM_IMPORT_MAX_COLUMNS", "256"))
VITREEM_IMPORT_MAX_CELLS = int(os.environ.get("VITREEM_IMPORT_MAX_CELLS", "6000000"))
# Uploads waiting to be imported, per user (each keeps its file on disk until imported or dropped).
VITREEM_IMPORT_PENDING_PER_USER = int(os.environ.get("VITREEM_IMPORT_PENDING_PER_USER", "10"))
# The background import stops past this time and memory (its own growth), with a message on its page.
VITREEM_JOB_SECONDS = int(os.environ.get("VITREEM_JOB_SECONDS", "3600"))
VITREEM_JOB_MEMORY_MB = int(os.environ.get("VITREEM_JOB_MEMORY_MB", "3072"))

# The task worker looks for changes to the stored figures this often and recomputes what they made
# stale (vitreem run_worker). Pages show the stored figures, so this bounds how late a change shows on
# the dashboards; each turn after a change costs about 2.3 s of one core on a 200,000-child province
# (docs/en/operations.md), so a shorter turn spends more of the server on it under steady data entry.
VITREEM_STATS_REFRESH_SECONDS = float(os.environ.get("VITREEM_STATS_REFRESH_SECONDS", "2"))
# A turn after changes recomputes today's figures, then stops after the first other date past this many
# seconds, and the next turn goes on with the dates it did not reach: a large turn (after a 500-row import, ~10 s) no longer holds the
# next change's figures back for its own length plus twice that of rest (stats.rollups).
VITREEM_STATS_TURN_SECONDS = float(os.environ.get("VITREEM_STATS_TURN_SECONDS", "2"))
# The task worker's CPU priority (`nice`, 0–19; 0: as the web server's): its imports and refresh turns come
# in bursts of seconds of CPU, and on a machine shared with the web server a page that arrived during one
# waited behind it (run_worker). Only the worker's own Python yields: PostgreSQL serves its queries as any.
VITREEM_WORKER_NICE = int(os.environ.get("VITREEM_WORKER_NICE", "10"))
# PostgreSQL's work_mem for each date of a refresh of the stored figures (SET LOCAL, that transaction
# only): its grouped counts hash and sort millions of rows on a country (stats.rollups._batch_memory).
VITREEM_STATS_WORK_MEM = os.environ.get("VITREEM_STATS_WORK_MEM", "64MB")

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "vitreem@localhost")

# Field work offline (vitreem.field): the data a worker's phone keeps is erased after this many days
# without a sync; a device clock further off than this many minutes has its recorded times flagged.
VITREEM_FIELD_WIPE_DAYS = int(os.environ.get("VITREEM_FIELD_WIPE_DAYS", "14"))
VITREEM_FIELD_CLOCK_TOLERANCE_MINUTES = int(os.environ.get("VITREEM_FIELD_CLOCK_TOLERANCE_MINUTES", "10"))

# The province this installation serves (legacy code; the 2025 successor comes from the crosswalk).
VITREEM_PROVINCE_CODE = os.environ.get("VITREEM_PROVINCE_CODE", "62")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# The audit log's hash chain (vitreem/core/audit_chain.py): the key of its links, kept out of the
# database (default: derived from SECRET_KEY, so keep that with the backups' restore instructions),
# and how often the worker seals new rows.
VITREEM_AUDIT_KEY = os.environ.get("VITREEM_AUDIT_KEY", "")
VITREEM_AUDIT_SEAL_EVERY_SECONDS = int(os.environ.get("VITREEM_AUDIT_SEAL_EVERY_SECONDS", "60"))
# Read audit rows that found SQLite busy (an import running) wait here until run_worker writes them.
VITREEM_AUDIT_SPOOL_DIR = os.environ.get("VITREEM_AUDIT_SPOOL_DIR", str(VAR_DIR / "audit-spool"))
