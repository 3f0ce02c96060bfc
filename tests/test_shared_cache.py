"""One cache for every instance (issue 12, item 11): CACHE_URL, the database cache's table, the layout
through the cache, and two gunicorn instances on one database that agree, with the database cache and
with a real Redis (Debian's redis-server, started here on a free port unless REDIS_URL names one).

The rest of the suite runs on a per-process cache (tests/settings.py), for its query counts.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from config.settings import CACHE_TABLE, cache_config
from sessions_ui import schema
from sessions_ui.schema import agno_connection, forget_layout, layout, quoted_table
from sessions_ui.sources import current_source
from tests.factories import create_session

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


# --- configuration -------------------------------------------------------------------------------


def test_cache_url_picks_the_backend():
    assert cache_config("") == cache_config("db://")
    assert cache_config("") == {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": CACHE_TABLE}
    redis = cache_config("redis://:pw@cache.internal:6379/2")
    assert redis["BACKEND"] == "django.core.cache.backends.redis.RedisCache"  # Django's own, no extra package
    assert redis["LOCATION"] == "redis://:pw@cache.internal:6379/2"
    assert cache_config("rediss://cache.internal:6380/0")["BACKEND"].endswith("RedisCache")
    assert cache_config("locmem://")["BACKEND"].endswith("LocMemCache")
    for wrong in ("memcached://x", "db://other_table", "redis", "file:///tmp/x"):
        with pytest.raises(ImproperlyConfigured, match="CACHE_URL"):
            cache_config(wrong)


def test_without_cache_url_the_database_cache_is_used():
    env = {k: v for k, v in os.environ.items() if k not in ("CACHE_URL", "DJANGO_SETTINGS_MODULE")}
    code = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'], settings.CACHES['default']['LOCATION'])"
    completed = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert completed.stdout.strip().splitlines()[-1] == f"django.core.cache.backends.db.DatabaseCache {CACHE_TABLE}"


@pytest.mark.django_db
def test_migrate_makes_the_cache_table_in_the_dashboard_database_not_in_agnos():
    assert CACHE_TABLE in connection.introspection.table_names()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT table_schema FROM information_schema.tables WHERE table_name = %s", [CACHE_TABLE])
            assert [row[0] for row in cursor.fetchall()] == ["public"]  # not Agno's schema "ai"


# --- the layout goes through the configured cache --------------------------------------------------


@pytest.mark.django_db
def test_layout_is_kept_in_the_configured_cache_and_forgotten_everywhere():
    assert layout() == (True, True)
    key = schema._layout_key(current_source())
    assert cache.get(key) == (True, True)
    cache.set(key, (False, True))  # what another instance would have stored
    assert layout() == (False, True) and not schema.has_inline_runs() and schema.has_runs_table()
    forget_layout()
    assert cache.get(key) is None
    assert layout() == (True, True)


@pytest.mark.django_db
def test_a_changed_schema_is_seen_once_the_entry_expires(monkeypatch):
    monkeypatch.setattr(schema, "LAYOUT_SECONDS", 1)
    assert layout() == (True, True)
    with agno_connection().cursor() as cursor:
        cursor.execute(f"DROP TABLE {quoted_table(settings.AGNO_RUNS_TABLE)}")
    assert layout() == (True, True)  # cached
    time.sleep(1.2)
    assert layout() == (True, False)  # no restart, no forget_layout()


@pytest.mark.django_db
def test_the_database_cache_holds_the_layout_and_the_filter_choices(admin_client):
    with override_settings(CACHES={"default": cache_config("db://")}):
        from django.core.cache import cache as db_cache  # the proxy follows the setting

        db_cache.clear()
        forget_layout()
        create_session(session_id="cached", user_id="ada@example.com")  # choices to count (none are not kept)
        with CaptureQueriesContext(connection) as captured:
            assert layout() == (True, True)
        assert any(CACHE_TABLE in query["sql"] for query in captured.captured_queries)
        admin_client.get("/sessions/", headers={"HX-Request": "true", "HX-Target": "filter-choices"})
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT cache_key FROM {CACHE_TABLE}")
            keys = {row[0] for row in cursor.fetchall()}
        choices_key = f":1:sessions_ui:choices:2:{current_source().key}"
        assert {f":1:{schema._layout_key(current_source())}", choices_key} <= keys
        db_cache.clear()
    forget_layout()


@pytest.mark.django_db
def test_a_request_reads_each_entry_of_the_shared_cache_once():
    key = schema._layout_key(current_source())
    assert layout() == (True, True)
    schema._start_request()  # what request_started does (the detail page test below goes through it)
    try:
        assert layout() == (True, True)
        cache.set(key, (False, True))  # another instance's write during this request
        assert layout() == (True, True)  # this request keeps what it read
        forget_layout()  # but not past a forget (a fault handler reads the schema again)
        assert layout() == (True, True) and cache.get(key) == (True, True)
        cache.set(key, (False, True))
    finally:
        schema._end_request()
    assert layout() == (False, True)  # the next request (or code outside one) reads the cache again
    forget_layout()


@pytest.mark.django_db
def test_the_database_cache_is_asked_once_per_entry_on_a_detail_page(admin_client):
    create_session(session_id="s1")
    with override_settings(CACHES={"default": cache_config("db://")}):
        from django.core.cache import cache as db_cache

        db_cache.clear()
        forget_layout()
        admin_client.get("/sessions/s1/")  # fills the cache
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get("/sessions/s1/").status_code == 200
        reads = [query["sql"] for query in captured.captured_queries if CACHE_TABLE in query["sql"]]
        assert reads and len(reads) == len(set(reads)), reads  # each key once (13 layout reads before)
        db_cache.clear()
    forget_layout()


# --- two gunicorn instances on one database ------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check, what: str, timeout: float = 60, errors: tuple = (OSError,)) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except errors:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def redis_url():
    """A real Redis: REDIS_URL if set, else Debian's redis-server on a free port, for this module only."""
    import redis

    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    server = shutil.which("redis-server")
    if not server:
        pytest.fail("redis-server is missing: apt-get install -y redis-server (./test installs it as root)")
    port = free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        wait_for(lambda: redis.Redis.from_url(url).ping(), "redis-server", errors=(redis.ConnectionError,))
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


class Instance:
    """One gunicorn serving config.wsgi, with its own cookie jar (the login session is in the shared database)."""

    def __init__(self, env: dict[str, str], jar: http.cookiejar.CookieJar):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{self.port}", "--workers", "1"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def get(self, path: str, headers: dict | None = None) -> str:
        request = urllib.request.Request(self.url + path, headers=headers or {})
        with self.opener.open(request, timeout=20) as response:
            return response.read().decode()

    def ready(self) -> bool:
        assert self.process.poll() is None, self.process.stderr.read().decode()
        return "Log in" in self.get("/accounts/login/")

    def login(self, username: str, password: str) -> None:
        form = self.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
        data = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token})
        with self.opener.open(self.url + "/accounts/login/", data.encode(), timeout=20) as response:
            assert "/sessions/" in response.url

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)
        self.process.stderr.close()


def user_choices(html: str) -> list[str] | None:
    """The user ids the page offers in its user filter's datalist, None when it has none."""
    datalist = re.search(r'<datalist id="choices-user_id">(.*?)</datalist>', html, re.S)
    return re.findall(r'<option value="([^"]+)"', datalist.group(1)) if datalist else None


def add_session(database: Path, session_id: str, user_id: str) -> None:
    with sqlite3.connect(database) as db:
        db.execute(
            "INSERT INTO agno_sessions (session_id, session_type, agent_id, user_id, session_data, created_at)"
            " VALUES (?, 'agent', 'agent-x', ?, '{}', ?)",
            [session_id, user_id, int(time.time())],
        )


@pytest.mark.sqlite  # its own SQLite file whatever the leg: once is enough
@pytest.mark.parametrize("cache_kind", ["database", "redis", "per-process"])
def test_two_gunicorn_instances_on_one_database_agree(tmp_path, request, cache_kind):
    database = tmp_path / "shared.sqlite3"
    cache_url = {"database": "db://", "redis": None, "per-process": "locmem://"}[cache_kind]
    if cache_kind == "redis":
        cache_url = request.getfixturevalue("redis_url")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGNO_", "TEST_DATABASE", "DJANGO_SETTINGS"))}
    env.update(
        DATABASE_URL=f"sqlite:///{database}",
        CACHE_URL=cache_url,
        CACHE_KEY_PREFIX=f"test-{uuid.uuid4().hex[:8]}",  # a Redis named by REDIS_URL may be shared
        SECRET_KEY="shared-by-both-instances-" + "k" * 40,
        DEBUG="0",
        ALLOWED_HOSTS="127.0.0.1",
    )
    for command in (
        ["migrate", "--no-input", "-v0"],
        ["dashboard_user", "ada", "--role", "viewer", "--password", "pw-for-ada-1"],
    ):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True)
    add_session(database, "first", "ada@example.com")

    jar = http.cookiejar.CookieJar()
    one, two = Instance(env, jar), Instance(env, jar)
    try:
        for instance in (one, two):
            wait_for(instance.ready, f"gunicorn on {instance.url}")
        one.login("ada", "pw-for-ada-1")
        assert user_choices(two.get("/sessions/")) is None  # nothing counted yet, by anyone

        # Instance one counts the filter choices (the page asks when the filters are first used)...
        fragment = one.get("/sessions/", {"HX-Request": "true", "HX-Target": "filter-choices"})
        assert user_choices(fragment) == ["ada@example.com"]
        add_session(database, "second", "newcomer@example.com")  # ...and the data moves on.

        # Instance two shows what one counted: from the shared cache, not counted again.
        shown = user_choices(two.get("/sessions/"))
        asked = user_choices(two.get("/sessions/", {"HX-Request": "true", "HX-Target": "filter-choices"}))
        if cache_kind == "per-process":  # the control: each process its own cache, so they disagree
            assert shown is None
            assert asked == ["ada@example.com", "newcomer@example.com"]
        else:
            assert shown == ["ada@example.com"]
            assert asked == ["ada@example.com"]
    finally:
        one.stop()
        two.stop()
