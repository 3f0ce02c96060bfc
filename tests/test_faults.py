"""Database faults get a page: a missing table or column, revoked privileges, a database that does not answer.

Each is a 503 (or its htmx fragment) naming the setting to check, writes nothing, and a table or
column that changed under the running dashboard is read again on the next request. The tests
change the real schema, so they run outside the test's transaction and put Agno's tables back after.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connections

from sessions_ui.faults import FAULT_HEADER
from sessions_ui.models import AgnoSession
from sessions_ui.schema import agno_connection, create_agno_tables, has_inline_runs, quoted_table, table_columns
from tests.conftest import make_user
from tests.factories import create_session, make_agent_run
from tests.hostile.support import HTMX

pytestmark = pytest.mark.django_db(transaction=True)

SESSION_ID = "fault session"
DETAIL = f"/sessions/{quote(SESSION_ID)}/"


def execute(sql: str) -> None:
    with agno_connection().cursor() as cursor:
        cursor.execute(sql)


@pytest.fixture
def agno_tables():
    """Agno's tables with one session (runs in both layouts), put back as they were after the test changed them."""
    create_session(session_id=SESSION_ID, runs=[make_agent_run(SESSION_ID, run_id="r1")], layout="3")
    yield
    connection = agno_connection()
    with connection.cursor() as cursor:
        for table in (settings.AGNO_RUNS_TABLE, settings.AGNO_SESSION_TABLE, "moved_sessions"):
            cursor.execute(f"DROP TABLE IF EXISTS {quoted_table(table)}")
    create_agno_tables(connection)


@pytest.fixture
def admin(client):
    client.force_login(make_user("admin", superuser=True))
    return client


def assert_fault(response, *names: str, status: int = 503) -> str:
    body = response.content.decode()
    assert response.status_code == status, body[:500]
    for name in names:
        assert name in body, (name, body[:2000])
    assert "Traceback" not in body
    return body


def test_a_runs_table_dropped_while_running_is_a_page_then_read_again(admin, agno_tables):
    assert admin.get(DETAIL).status_code == 200  # the layout, with its runs table, is cached now
    execute(f"DROP TABLE {quoted_table(settings.AGNO_RUNS_TABLE)}")
    body = assert_fault(admin.get(DETAIL), "AGNO_RUNS_TABLE", settings.AGNO_RUNS_TABLE, "runs table")
    assert "<html" in body
    assert admin.get(DETAIL).status_code == 200  # the layout was read again: no runs table now


def test_the_inline_runs_column_dropped_while_running_is_a_page_then_read_again(admin, agno_tables):
    assert has_inline_runs()
    assert admin.get(DETAIL).status_code == 200
    execute(f"ALTER TABLE {quoted_table(settings.AGNO_SESSION_TABLE)} DROP COLUMN runs")
    assert_fault(admin.get(DETAIL), "column", "runs", "agno_doctor")
    assert admin.get(DETAIL).status_code == 200


def test_a_missing_session_table_names_the_settings(admin, agno_tables):
    execute(f"ALTER TABLE {quoted_table(settings.AGNO_SESSION_TABLE)} RENAME TO moved_sessions")
    for url in ("/sessions/", DETAIL, f"{DETAIL}edit/", "/sessions/users/someone/"):
        body = assert_fault(admin.get(url), "AGNO_SESSION_TABLE", settings.AGNO_SESSION_TABLE, "session table")
        if settings.AGNO_DB_SCHEMA:
            assert "AGNO_DB_SCHEMA" in body


def test_a_fault_under_htmx_is_a_fragment_marked_for_the_page(admin, agno_tables):
    execute(f"ALTER TABLE {quoted_table(settings.AGNO_SESSION_TABLE)} RENAME TO moved_sessions")
    response = admin.get("/sessions/?q=x", **HTMX)
    body = assert_fault(response, "AGNO_SESSION_TABLE")
    assert response[FAULT_HEADER] == "missing_table"
    assert "<html" not in body and 'class="fault card"' in body


def test_a_post_that_meets_a_dropped_runs_table_writes_nothing(agno_tables, client):
    client.force_login(make_user("admin", superuser=True))
    assert client.get(DETAIL).status_code == 200
    execute(f"DROP TABLE {quoted_table(settings.AGNO_RUNS_TABLE)}")
    assert_fault(client.post(f"{DETAIL}delete/", {"confirm": "yes"}), "AGNO_RUNS_TABLE")
    assert AgnoSession.objects.filter(pk=SESSION_ID).exists()


@pytest.mark.sqlite
def test_an_unopenable_sqlite_database_is_a_page(admin, agno_tables, tmp_path):
    connection = connections["default"]
    saved = connection.settings_dict["NAME"]
    connection.close()
    connection.settings_dict["NAME"] = str(tmp_path / "no such folder" / "db.sqlite3")
    try:
        body = assert_fault(admin.get("/sessions/"), "DATABASE_URL", "does not answer")
        login = type(admin)().post("/accounts/login/", {"username": "ada", "password": "pw"})
        anonymous = assert_fault(login, "DATABASE_URL")
    finally:
        connection.close()
        connection.settings_dict["NAME"] = saved
    # Nobody is known to be logged in (the login sessions are in that database): names, not values.
    for page in (body, anonymous):
        assert "no such folder" not in page and "log in to see its value" in page


@pytest.mark.postgresql
def test_an_unreachable_postgresql_is_a_page(admin, agno_tables):
    connection = connections["default"]
    saved = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = "1"  # nothing listens there
    try:
        body = assert_fault(admin.get("/sessions/"), "DATABASE_URL", "does not answer")
        fragment = admin.get("/sessions/", **HTMX)
    finally:
        connection.close()
        connection.settings_dict["PORT"] = saved
    assert "log in to see its value" in body
    assert fragment.status_code == 503 and fragment[FAULT_HEADER] == "unreachable"


@pytest.mark.postgresql
def test_a_missing_schema_names_agno_db_schema(admin, agno_tables):
    execute(f"ALTER SCHEMA {settings.AGNO_DB_SCHEMA} RENAME TO moved_schema")
    try:
        assert_fault(admin.get("/sessions/"), "AGNO_DB_SCHEMA", settings.AGNO_DB_SCHEMA)
    finally:
        execute(f"ALTER SCHEMA moved_schema RENAME TO {settings.AGNO_DB_SCHEMA}")


@pytest.fixture
def limited_role(agno_tables):
    """The dashboard connected as a real role with every privilege it needs, for a test to revoke some."""
    connection = connections["default"]
    schema = settings.AGNO_DB_SCHEMA
    role = "sessions_ui_limited"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP ROLE IF EXISTS {role}")
        cursor.execute(f"CREATE ROLE {role}")
        for name in ("public", schema):
            cursor.execute(f"GRANT USAGE ON SCHEMA {name} TO {role}")
            cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {name} TO {role}")
        cursor.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}")
        cursor.execute(f"SET ROLE {role}")
    yield role
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
        cursor.execute(f"DROP OWNED BY {role}")
        cursor.execute(f"DROP ROLE {role}")


@pytest.mark.postgresql
def test_revoked_privileges_are_a_page_naming_the_grant(admin, limited_role):
    assert admin.get(DETAIL).status_code == 200
    with connections["default"].cursor() as cursor:
        cursor.execute("RESET ROLE")
        cursor.execute(f"REVOKE SELECT ON {quoted_table(settings.AGNO_SESSION_TABLE)} FROM {limited_role}")
        cursor.execute(f"SET ROLE {limited_role}")
    body = assert_fault(admin.get(DETAIL), "refused access", settings.AGNO_SESSION_TABLE, "GRANT SELECT")
    assert "DATABASE_URL" in body
    assert_fault(admin.get("/sessions/", **HTMX), "refused access")


@pytest.mark.postgresql
def test_a_write_without_the_privilege_is_a_page_and_writes_nothing(admin, limited_role):
    with connections["default"].cursor() as cursor:
        cursor.execute("RESET ROLE")
        cursor.execute(f"REVOKE UPDATE, DELETE ON ALL TABLES IN SCHEMA {settings.AGNO_DB_SCHEMA} FROM {limited_role}")
        cursor.execute(f"SET ROLE {limited_role}")
    before = AgnoSession.objects.get(pk=SESSION_ID)
    edit = admin.post(f"{DETAIL}edit/", {"session_name": "renamed", "updated_at": before.updated_at})
    assert_fault(edit, "refused access", "UPDATE")
    assert_fault(admin.post(f"{DETAIL}delete/", {"confirm": "yes"}), "refused access")
    after = AgnoSession.objects.get(pk=SESSION_ID)
    assert (after.session_data, after.updated_at) == (before.session_data, before.updated_at)
    assert table_columns(settings.AGNO_RUNS_TABLE)  # the runs went nowhere either
