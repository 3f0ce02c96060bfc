"""Fixtures for tests that need sessions written by the real agno; tests/conftest.py imports them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
import pytest

from tests.agno import AGNO_VERSIONS, AgnoDb, agno_db, postgres_url, use_agno_tables, write_with_agno
from tests.agno.fake_openai import fake_openai_server


@pytest.fixture(scope="session")
def fake_openai_url() -> Iterator[str]:
    """Base URL of the canned OpenAI-compatible server (tests/agno/fake_openai.py), for the test run."""
    with fake_openai_server() as url:
        yield url


@dataclass(frozen=True)
class AgnoWritten:
    """Sessions that one agno version wrote, and the manifest of what it wrote (write_sessions.py)."""

    version: str
    db: AgnoDb
    sessions: list[dict]

    def session(self, session_id_suffix: str) -> dict:
        """The manifest entry whose id ends with e.g. "agent-weather", "team-travel", "workflow-blog"."""
        [entry] = [s for s in self.sessions if s["session_id"].endswith(session_id_suffix)]
        return entry

    @property
    def session_ids(self) -> list[str]:
        return [s["session_id"] for s in self.sessions]


def agno_written_tables(version: str) -> tuple[str, str]:
    major = version.split(".")[0]
    return f"agno{major}_sessions", f"agno{major}_runs"


def drop_tables(db: AgnoDb) -> None:
    from sessions_ui.schema import agno_connection, quoted_table

    with agno_connection().cursor() as cursor:
        for table in (db.runs_table, db.session_table):
            cursor.execute(f"DROP TABLE IF EXISTS {quoted_table(table)}")


@pytest.fixture(scope="session")
def agno_written_databases(django_db_setup, django_db_blocker, fake_openai_url) -> dict[str, AgnoWritten]:
    """Written once per test run: each agno version's `full` scenario, in tables agno created itself.

    They live in the test database under their own names (agno2_sessions; agno3_sessions and
    agno3_runs) so that no test's cleanup touches them; `agno_written` points the dashboard there.
    """
    written = {}
    with django_db_blocker.unblock():
        for version in AGNO_VERSIONS:
            session_table, runs_table = agno_written_tables(version)
            db = agno_db(session_table=session_table, runs_table=runs_table)
            drop_tables(db)  # left over by a run with --reuse-db
            prefix = f"v{version.split('.')[0]}-"
            written[version] = AgnoWritten(version, db, write_with_agno(version, db, fake_openai_url, "full", prefix))
    return written


@pytest.fixture(params=AGNO_VERSIONS, ids=lambda version: f"agno-{version}")
def agno_written(request, agno_written_databases, db) -> Iterator[AgnoWritten]:
    """The dashboard pointed at a database that real agno 2.x (then 3.x: the test runs for both) wrote.

    The tables are shared by the whole run: a test's edits roll back with its transaction. A test
    whose edits agno itself must read back (agno_get_session runs in a subprocess) needs committed
    data: it writes its own sessions with `write_with_agno` in a `transaction=True` test instead.
    """
    written = agno_written_databases[request.param]
    with use_agno_tables(written.db.session_table, written.db.runs_table):
        yield written


@pytest.fixture
def fresh_database(tmp_path, django_db_setup):
    """A database of its own: a file on SQLite; on PostgreSQL, one named after this run's test database."""
    from sessions_ui.schema import agno_connection

    params = agno_connection().settings_dict
    if agno_connection().vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'agno.db'}"
        return
    name = f"{params['NAME']}_agno_only"[:63]
    admin = postgres_url(params).replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_url(params, name)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass(frozen=True)
class WrittenSources:
    """Sources that real agno wrote (agno_sources_written): their settings (settings.AGNO_SOURCES) and writes."""

    configs: list[dict]
    written: dict[str, AgnoWritten]  # by source id


@pytest.fixture(scope="session")
def agno_sources_written(
    django_db_setup, django_db_blocker, fake_openai_url, tmp_path_factory
) -> Iterator[WrittenSources]:
    """Several sources at once, written once per test run by the real agno (the `full` scenario in each):

    - `support`: agno 3.1.10, session_table="support_sessions" (runs in Agno's support_sessions_runs) in the
      test database, beside the default source's tables;
    - `archive`: agno 2.9.0 in a second SQLite file (on both legs: a source need not share the dashboard's
      engine), database alias `agno-archive`;
    - `lab` (PostgreSQL leg): agno 3.1.10, session_table="lab_sessions" in schema `lab` of the test database
      (a custom table in a second schema: the test database keeps one agno_sessions, in `ai`).

    The archive's database alias is added for the whole run (tests wrap it in their transaction with
    `django_db(databases="__all__")`); `several_sources` (tests/sources.py) makes them the dashboard's.
    """
    from django.db import connections

    from sessions_ui.schema import agno_connection

    archive_file = tmp_path_factory.mktemp("archive") / "archive.db"
    default = connections["default"]
    configs = [
        {"id": "support", "name": "Support agent", "alias": default.alias, "schema": default_schema(),
         "session_table": "support_sessions", "runs_table": "support_sessions_runs"},
        {"id": "archive", "name": "Archive (2.x)", "alias": "agno-archive", "schema": "",
         "session_table": "agno_sessions", "runs_table": "agno_runs"},
    ]  # fmt: skip
    if default.vendor == "postgresql":
        configs.append(
            {"id": "lab", "name": "Lab", "alias": default.alias, "schema": "lab",
             "session_table": "lab_sessions", "runs_table": "lab_sessions_runs"}
        )  # fmt: skip
    databases = {
        "default": connections.settings["default"],
        "agno-archive": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(archive_file)},
    }
    connections.settings["agno-archive"] = connections.configure_settings(databases)["agno-archive"]
    versions = {"support": AGNO_VERSIONS[-1], "archive": AGNO_VERSIONS[0], "lab": AGNO_VERSIONS[-1]}
    written = {}
    with django_db_blocker.unblock():
        for config in configs:
            if config["alias"] == "agno-archive":
                url = f"sqlite:///{archive_file}"
            else:
                url = agno_db(agno_connection()).url
            db = AgnoDb(url, config["schema"] or None, config["session_table"], config["runs_table"])
            with default.cursor() as cursor:
                if config["schema"] == "lab":
                    cursor.execute("DROP SCHEMA IF EXISTS lab CASCADE")
                elif config["alias"] == "default":
                    for table in (db.runs_table, db.session_table):
                        qualified = f'"{config["schema"]}"."{table}"' if config["schema"] else f'"{table}"'
                        cursor.execute(f"DROP TABLE IF EXISTS {qualified}")  # left over by a run with --reuse-db
            version = versions[config["id"]]
            prefix = f"{config['id']}-"
            written[config["id"]] = AgnoWritten(
                version, db, write_with_agno(version, db, fake_openai_url, "full", prefix)
            )
    yield WrittenSources(configs, written)
    connections["agno-archive"].close()
    del connections["agno-archive"]
    del connections.settings["agno-archive"]


def default_schema() -> str:
    from django.conf import settings

    return settings.AGNO_DB_SCHEMA


@contextmanager
def sources_configured(configs: list[dict]) -> Iterator[None]:
    """The dashboard with these sources after its default one (settings.AGNO_SOURCES[1:]): their models,
    URLs and permissions, as at a start with a sources file; back to the settings' sources afterwards."""
    import importlib

    from django.conf import settings
    from django.contrib.contenttypes.models import ContentType
    from django.core.cache import cache
    from django.urls import clear_url_caches

    import config.urls
    from sessions_ui import sources
    from sessions_ui.admin import register_sources

    def rebuild(others: list[dict]) -> None:
        sources.build_sources(others)
        register_sources()
        importlib.reload(config.urls)
        clear_url_caches()
        cache.clear()
        ContentType.objects.clear_cache()  # a test's content types roll back with it

    rebuild(configs)
    sources.create_source_permissions()
    try:
        yield
    finally:
        rebuild(settings.AGNO_SOURCES[1:])


@pytest.fixture
def several_sources(agno_sources_written) -> Iterator[WrittenSources]:
    """The dashboard with agno_sources_written's sources (the test needs `django_db(databases="__all__")`)."""
    with sources_configured(agno_sources_written.configs):
        yield agno_sources_written
