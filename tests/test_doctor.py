"""`manage.py agno_doctor`: what it prints of a healthy Agno database, and the problems it names."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from sessions_ui.schema import agno_connection, create_agno_tables, quoted_table
from tests.factories import create_session, make_agent_run

pytestmark = pytest.mark.django_db(transaction=True)


def doctor() -> tuple[str, bool]:
    out = StringIO()
    try:
        call_command("agno_doctor", stdout=out)
    except CommandError:
        return out.getvalue(), False
    return out.getvalue(), True


def execute(sql: str) -> None:
    with agno_connection().cursor() as cursor:
        cursor.execute(sql)


@pytest.fixture
def agno_tables():
    create_session(session_id="a", runs=[make_agent_run("a", run_id="r1")], layout="3")
    create_session(session_id="b", runs=[make_agent_run("b", run_id="r2", seed=2)], layout="2")
    yield
    for table in (settings.AGNO_RUNS_TABLE, settings.AGNO_SESSION_TABLE, "moved_sessions"):
        execute(f"DROP TABLE IF EXISTS {quoted_table(table)}")
    create_agno_tables(agno_connection())


def test_a_healthy_database(agno_tables):
    out, ok = doctor()
    assert ok, out
    assert f"Table {settings.AGNO_SESSION_TABLE}: 2 rows, 15 columns" in out
    assert f"Table {settings.AGNO_RUNS_TABLE}: 1 rows" in out
    assert f"idx_{settings.AGNO_SESSION_TABLE}_created_at" in out
    assert "runs inline (Agno 2.x) and in the runs table (Agno 3.x)" in out
    assert "No problems found." in out
    if settings.AGNO_DB_SCHEMA:
        assert f"Schema:   {settings.AGNO_DB_SCHEMA}\n" in out
        assert "privileges: SELECT UPDATE DELETE\n" in out


def test_a_renamed_session_table_is_a_problem_naming_the_setting_and_the_candidate(agno_tables):
    execute(f"ALTER TABLE {quoted_table(settings.AGNO_SESSION_TABLE)} RENAME TO moved_sessions")
    out, ok = doctor()
    assert not ok
    assert f"Table {settings.AGNO_SESSION_TABLE}: missing" in out
    # Other tests' session tables may share the test database: moved_sessions is among those named.
    assert "set AGNO_SESSION_TABLE" in out and re.search(r"session tables here: [^;\n]*\bmoved_sessions\b", out)


def test_a_dropped_column_and_runs_table(agno_tables):
    execute(f"DROP TABLE {quoted_table(settings.AGNO_RUNS_TABLE)}")
    execute(f"ALTER TABLE {quoted_table(settings.AGNO_SESSION_TABLE)} DROP COLUMN summary")
    out, ok = doctor()
    assert not ok
    assert f"Table {settings.AGNO_RUNS_TABLE}: missing" in out
    assert "runs inline in the session table (Agno 2.x)" in out
    assert f"{settings.AGNO_SESSION_TABLE} lacks Agno's columns summary" in out


@pytest.mark.postgresql
def test_a_wrong_schema_names_where_the_table_is(agno_tables):
    execute(f"ALTER SCHEMA {settings.AGNO_DB_SCHEMA} RENAME TO moved_schema")
    try:
        out, ok = doctor()
    finally:
        execute(f"ALTER SCHEMA moved_schema RENAME TO {settings.AGNO_DB_SCHEMA}")
    assert not ok
    assert "(does not exist)" in out
    assert "set AGNO_DB_SCHEMA" in out and re.search(r"is in the schema [^;\n]*\bmoved_schema\b", out)


@pytest.mark.postgresql
def test_revoked_privileges_are_named_with_the_grant(agno_tables):
    role = "sessions_ui_doctor"
    with agno_connection().cursor() as cursor:
        cursor.execute(f"DROP ROLE IF EXISTS {role}")
        cursor.execute(f"CREATE ROLE {role}")
        for schema in ("public", settings.AGNO_DB_SCHEMA):
            cursor.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
            cursor.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}")
        cursor.execute(f"SET ROLE {role}")
    try:
        out, ok = doctor()
    finally:
        with agno_connection().cursor() as cursor:
            cursor.execute("RESET ROLE")
            cursor.execute(f"DROP OWNED BY {role}")
            cursor.execute(f"DROP ROLE {role}")
    assert not ok
    assert "privileges: SELECT UPDATE (NO) DELETE (NO)" in out
    assert f"GRANT UPDATE, DELETE ON {quoted_table(settings.AGNO_SESSION_TABLE)} TO {role};" in out
