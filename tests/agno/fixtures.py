"""Fixtures for tests that need sessions written by the real agno; tests/conftest.py imports them."""

from __future__ import annotations

from collections.abc import Iterator
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
