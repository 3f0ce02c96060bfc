"""The base: tables with Agno's layout, both run layouts, access rules of the list page."""

import pytest
from django.conf import settings

from sessions_ui import queries
from sessions_ui.bulk_write import write_sessions
from sessions_ui.demo import make_session
from sessions_ui.models import AgnoSession
from sessions_ui.schema import agno_connection, create_agno_tables, forget_layout, quoted_table, table_columns
from tests.factories import create_session, decoded_runs, make_agent_run

pytestmark = pytest.mark.django_db

AGNO_SESSION_COLUMNS = [
    "session_id", "session_type", "agent_id", "team_id", "workflow_id", "user_id", "session_data", "agent_data",
    "team_data", "workflow_data", "metadata", "runs", "summary", "created_at", "updated_at",
]  # fmt: skip


def test_migrate_created_agno_tables_with_agnos_columns():
    assert table_columns(settings.AGNO_SESSION_TABLE) == AGNO_SESSION_COLUMNS
    assert "run_data" in table_columns(settings.AGNO_RUNS_TABLE)


def test_agno_tables_live_in_the_agno_schema_and_django_tables_do_not():
    connection = agno_connection()
    if connection.vendor == "sqlite":  # no schemas: Agno's SqliteDb and Django share the file
        assert settings.AGNO_DB_SCHEMA == ""
        assert {settings.AGNO_SESSION_TABLE, "auth_user"} <= set(connection.introspection.table_names())
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = %s", [settings.AGNO_SESSION_TABLE]
        )
        assert [r[0] for r in cursor.fetchall()] == ["ai"]
        cursor.execute("SELECT table_schema FROM information_schema.tables WHERE table_name = 'auth_user'")
        assert [r[0] for r in cursor.fetchall()] == ["public"]


def test_existing_table_is_never_altered():
    connection = agno_connection()
    before = table_columns(settings.AGNO_SESSION_TABLE)
    create_session()
    assert create_agno_tables(connection) is False
    assert table_columns(settings.AGNO_SESSION_TABLE) == before


@pytest.fixture
def agno3_fresh_tables():
    """Recreate the session table as Agno 3.x creates it: no `runs` column."""
    connection = agno_connection()
    sessions, runs = quoted_table(settings.AGNO_SESSION_TABLE), quoted_table(settings.AGNO_RUNS_TABLE)
    json_type = "JSONB" if connection.vendor == "postgresql" else "JSON"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {runs}")
        cursor.execute(f"DROP TABLE {sessions}")
        columns = ", ".join(
            f"{c} {json_type}"
            if c.endswith("_data") or c in ("metadata", "summary")
            else f"{c} BIGINT"
            if c.endswith("_at")
            else f"{c} VARCHAR"
            for c in AGNO_SESSION_COLUMNS
            if c != "runs"
        )
        cursor.execute(f"CREATE TABLE {sessions} ({columns}, PRIMARY KEY (session_id))")
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {runs} (run_id VARCHAR PRIMARY KEY, session_id VARCHAR NOT NULL, run_type VARCHAR NOT NULL,"
            " agent_id VARCHAR, team_id VARCHAR, workflow_id VARCHAR, user_id VARCHAR, parent_run_id VARCHAR, status VARCHAR,"
            f" run_index BIGINT, run_data {json_type} NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT)"
        )
    forget_layout()
    yield


def test_table_without_runs_column_is_read_without_selecting_it(agno3_fresh_tables, admin_client):
    create_session(session_id="no-runs-column")
    run = make_agent_run("with-runs")
    create_session(session_id="with-runs", runs=[run], layout="3")
    assert queries.inline_runs("with-runs") is None
    [decoded] = decoded_runs("with-runs")
    assert decoded.run_id == run["run_id"]
    response = admin_client.get("/sessions/")
    assert response.status_code == 200
    assert "no-runs-column" in response.text


@pytest.mark.parametrize("layout", ["2", "3"])
def test_both_layouts_read_back_the_same_runs(layout):
    demo = make_session(3, now=1_760_000_000, runs=2)
    write_sessions(agno_connection(), [demo], layout=layout)
    runs = decoded_runs(demo.row["session_id"])
    assert [run.kind for run in runs] == ["team", "team"]
    assert sum(len(run.members) for run in runs) == 4


def test_root_redirects_to_sessions(client):
    assert client.get("/").headers["Location"] == "/sessions/"


def test_anonymous_is_sent_to_login(client):
    response = client.get("/sessions/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accounts/login/")


def test_user_without_view_permission_gets_403(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("nobody", password="pw"))
    assert client.get("/sessions/").status_code == 403


def test_viewer_sees_session_ids(viewer_client):
    session = create_session()
    response = viewer_client.get("/sessions/")
    assert response.status_code == 200
    assert session.session_id in response.text


def test_seed_demo_writes_agno_shaped_sessions(django_db_blocker):
    from django.core.management import call_command

    call_command("seed_demo", count=25, layout="3", stdout=open("/dev/null", "w"))
    assert AgnoSession.objects.count() == 25
    assert AgnoSession.objects.filter(session_type="team").exists()
