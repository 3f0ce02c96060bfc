"""Settings, all from the environment (see ../shared/design.md section 3 and README)."""

import os
import tempfile
import warnings
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from sessions_ui.source_config import (
    SourceConfigError,
    database_aliases,
    env_source,
    read_sources_file,
    traces_aliases,
)

# The clone's top folder, or sessions_ui/ once installed from the wheel (pyproject.toml puts config/,
# templates/ and static/ inside the app package): templates/ and static/ are in it either way.
BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DEBUG", False)
# Anyone who knows the key can sign cookies and tokens as this site: never fall back to one committed
# here, except for DEBUG on a development machine (./run keeps a generated key in .secret_key instead).
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set one (the same for every instance, kept across restarts): "
            "export SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')"
        )
    SECRET_KEY = "django-insecure-sessions-ui-development-only-key"
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",") if h.strip()
]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

# HTTPS, usually behind a proxy that ends TLS (README "Production"): each variable is Django's setting
# of the same name, off by default so that http://127.0.0.1 keeps working.
if _proxy_header := os.environ.get("SECURE_PROXY_SSL_HEADER", "").strip():
    # "X-Forwarded-Proto: https": trusted only because the proxy sets (or strips) it on every request.
    _header, _, _value = _proxy_header.partition(":")
    if not _header.strip() or not _value.strip():
        raise ImproperlyConfigured(f"SECURE_PROXY_SSL_HEADER={_proxy_header!r}: write it as 'X-Forwarded-Proto: https'")
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _header.strip().upper().replace("-", "_"), _value.strip())
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS") or 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "axes",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_filters",
    "template_partials",
    "csp",
    "sessions_ui",
    "sessions_ui.apps.SourcesConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django_htmx.middleware.HtmxMiddleware",  # before SourceMiddleware, whose login redirect asks request.htmx
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "sessions_ui.sources.SourceMiddleware",  # which source a request reads: after the login is known
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A database error in a view: a 503 page naming the setting to check, not a bare 500.
    "sessions_ui.faults.DatabaseFaultMiddleware",
    # A view's Http404: the dashboard's own page (404.html), also with DEBUG on.
    "sessions_ui.error_pages.NotFoundPageMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks: it answers for a locked-out login
]
# `sessions-ui serve --no-auth`: every request is this login (a viewer), from this machine only.
AUTO_LOGIN_USER = os.environ.get("AUTO_LOGIN_USER", "")
if AUTO_LOGIN_USER:
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
        "sessions_ui.accounts.LocalAutoLogin",
    )

# Content-Security-Policy on every response: scripts, styles, images and requests from this origin
# only; no inline script or style, no eval (so no hx-on attributes nor hx-trigger filters: see
# static/js/app.js), no plugins, no framing, no <base>, forms that post here only.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# "config" in a clone, "sessions_ui.config" in the wheel.
ROOT_URLCONF = f"{__package__}.urls"
WSGI_APPLICATION = f"{__package__}.wsgi.application"

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
                "sessions_ui.read_only.context",
                "sessions_ui.source_menu.source_menu",
            ],
        },
    },
    {
        # One fragment, the list's table, is rendered by Jinja2 for speed (templatetags/sessions_list.py).
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {"autoescape": True},
    },
]


def database_config(url: str, *, read_only: bool = False) -> dict:
    config = dj_database_url.parse(url, conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")))
    if config["ENGINE"] == "django.db.backends.postgresql":
        # Pin the search path: connected as a role named like the Agno schema ("ai"), PostgreSQL's
        # default "$user", public would put Django's own tables into the Agno schema.
        options = "-c search_path=public"
        if read_only:
            options += " -c default_transaction_read_only=on"
        config.setdefault("OPTIONS", {})["options"] = options
    elif read_only and config["ENGINE"] == "django.db.backends.sqlite3":
        # SQLite's own read-only mode: Django opens every SQLite database as a URI.
        config["NAME"] = f"file:{quote(str(config['NAME']))}?mode=ro"
    return config


# The Agno session tables shown (sources/source_config.py): AGNO_SOURCES_FILE lists them, else the
# AGNO_* variables define one. One database alias per distinct database: `default` is the dashboard's.
AGNO_SOURCES_FILE = os.environ.get("AGNO_SOURCES_FILE", "")
try:
    _source_specs = read_sources_file(AGNO_SOURCES_FILE, os.environ) if AGNO_SOURCES_FILE else [env_source(os.environ)]
except SourceConfigError as error:
    raise ImproperlyConfigured(str(error)) from None
_source_aliases = database_aliases(_source_specs)
_traces_aliases = traces_aliases(_source_specs, _source_aliases)

DATABASES = {
    "default": database_config(os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not SQLite's in-memory test database: the Agno contract tests run the real agno in a
    # subprocess, writing into the database the tests read. One per run, as runs go side by side.
    _test_name = os.environ.get("TEST_DATABASE_NAME") or f"sessions_ui_test_{os.getpid()}"
    DATABASES["default"]["TEST"] = {"NAME": str(Path(tempfile.gettempdir()) / f"{_test_name}.sqlite3")}
elif os.environ.get("TEST_DATABASE_NAME"):
    # Lets parallel test runs on one PostgreSQL server use test databases of their own.
    DATABASES["default"]["TEST"] = {"NAME": os.environ["TEST_DATABASE_NAME"]}
# READ_ONLY=1 (sessions-ui serve --read-only): nobody edits or deletes (sessions_ui/read_only.py), and the
# sources' own databases are opened read-only where the driver allows it.
READ_ONLY = env_bool("READ_ONLY", False)
_databases = [(_source_aliases[_spec.id], _spec.url) for _spec in _source_specs if _spec.url]
_databases += [(_traces_aliases[_spec.id], _spec.traces_url) for _spec in _source_specs if _spec.traces_url]
for _alias, _url in _databases:
    if _alias not in DATABASES:
        DATABASES[_alias] = _source_database = database_config(_url, read_only=READ_ONLY)
        if _source_database["ENGINE"] == "django.db.backends.postgresql":
            # A source's host that is gone would hold every page's source menu for the system's TCP
            # timeout (minutes); after this many seconds the source is shown as down instead.
            _source_database["OPTIONS"].setdefault(
                "connect_timeout", int(os.environ.get("SOURCE_CONNECT_TIMEOUT") or 3)
            )


def _source_schema(spec) -> str:
    """Its PostgreSQL schema (Agno's PostgresDb default: "ai"); SQLite has none."""
    is_postgres = DATABASES[_source_aliases[spec.id]]["ENGINE"] == "django.db.backends.postgresql"
    return (spec.schema or "ai") if is_postgres else ""


def _traces_schema(spec) -> str | None:
    """The PostgreSQL schema of its traces in their other database (Agno's default "ai"); None: beside its sessions."""
    if spec.id not in _traces_aliases:
        return spec.traces_schema  # another schema of the sessions' database, or None
    is_postgres = DATABASES[_traces_aliases[spec.id]]["ENGINE"] == "django.db.backends.postgresql"
    return (spec.traces_schema or "ai") if is_postgres else ""


AGNO_SOURCES = [
    {
        "id": spec.id,
        "name": spec.name,
        "alias": _source_aliases[spec.id],
        "schema": _source_schema(spec),
        "session_table": spec.session_table,
        "runs_table": spec.runs_table,
        "traces_alias": _traces_aliases.get(spec.id, ""),
        "traces_schema": _traces_schema(spec),
    }
    for spec in _source_specs
]
# The first source is the default one (its pages are /sessions/...): these name it.
AGNO_SOURCE_ID = AGNO_SOURCES[0]["id"]
AGNO_SOURCE_NAME = AGNO_SOURCES[0]["name"]
AGNO_DB_ALIAS = AGNO_SOURCES[0]["alias"]
AGNO_DB_SCHEMA = AGNO_SOURCES[0]["schema"]
AGNO_SESSION_TABLE = AGNO_SOURCES[0]["session_table"]
AGNO_RUNS_TABLE = AGNO_SOURCES[0]["runs_table"]
AGNO_TRACES_DB_ALIAS = AGNO_SOURCES[0]["traces_alias"]
AGNO_TRACES_DB_SCHEMA = AGNO_SOURCES[0]["traces_schema"]
DATABASE_ROUTERS = ["sessions_ui.routers.AgnoRouter"]

# One cache for every instance (filter choices, which Agno tables exist, list bounds): Django's
# database cache in the dashboard's database by default (its table made by `migrate`), or Redis.
CACHE_TABLE = "sessions_ui_cache"


def cache_config(url: str) -> dict:
    """CACHE_URL: db:// (the default), redis://[:password@]host:6379/0 (or rediss://, unix://), or
    locmem:// (one cache per process: for a single process only)."""
    scheme, separator, _ = url.partition("://")
    if url in ("", "db://"):
        return {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": CACHE_TABLE}
    if separator and scheme in ("redis", "rediss", "unix"):
        # Short timeouts: a Redis that stops answering fails a request in seconds, not minutes.
        options = {"socket_connect_timeout": 2, "socket_timeout": 2}
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url, "OPTIONS": options}
    if url == "locmem://":
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "sessions_ui"}
    raise ImproperlyConfigured(f"CACHE_URL={url!r}: use db:// (the default), redis://host:6379/0 or locmem://")


CACHES = {
    "default": {**cache_config(os.environ.get("CACHE_URL", "")), "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "")}
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Served by WhiteNoise straight from the finders, so no collectstatic step is needed to run;
# STATIC_ROOT only exists once a production deploy ran collectstatic.
WHITENOISE_USE_FINDERS = True
warnings.filterwarnings("ignore", message="No directory at")  # WhiteNoise's, raised where Django loads it

# Session state and metadata are edited as JSON text and can be megabytes; Django's 2.5 MB default
# would answer such an edit with a bare 400.
DATA_UPLOAD_MAX_MEMORY_SIZE = 32 * 1024 * 1024

# Login throttling (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one username (from
# anywhere) or from one address (whatever the usernames), that username or address is locked for
# LOGIN_LOCKOUT_MINUTES after its last attempt. Unlock: manage.py axes_reset_username NAME (README).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT") or 5)
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("LOGIN_LOCKOUT_MINUTES") or 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "sessions_ui.accounts.locked_out"
AXES_CLIENT_IP_CALLABLE = "sessions_ui.accounts.client_ip"
# How many proxies in front append to X-Forwarded-For (sessions_ui.accounts.client_ip); 0: none.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT") or 0)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"  # the first source the user may view
LOGOUT_REDIRECT_URL = "login"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
