"""Contract tests: the real agno 2.x and 3.x write, we read; we write, agno reads.

agno runs in its own virtualenv in a subprocess (tests/agno/), its model answered by a canned
loopback server, so its tool calls and session summaries are real. Every manifest entry says what
agno was asked to write and, under "agno", how agno itself reads the session back.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings

from sessions_ui import agno, queries
from sessions_ui.bulk_write import write_sessions
from sessions_ui.demo import make_session
from sessions_ui.models import AgnoSession
from sessions_ui.schema import agno_connection, table_columns
from tests.agno import (
    AGNO_VERSIONS,
    AgnoDb,
    agno_db,
    agno_get_session,
    agno_get_sessions,
    write_with_agno,
)
from tests.agno.fake_openai import SUMMARY_TOPICS, summary_text
from tests.factories import decoded_runs

pytestmark = pytest.mark.agno

AGNO_2, AGNO_3 = AGNO_VERSIONS
ROOT = Path(__file__).resolve().parent.parent


def epoch(value: datetime | None) -> int | None:
    return int(value.timestamp()) if value else None


def assert_tools(tools: list[agno.ToolCall], expected: list[dict]) -> None:
    assert [(tool.name, tool.args) for tool in tools] == [(e["name"], e["args"]) for e in expected]
    for tool, e in zip(tools, expected, strict=True):
        assert tool.tool_call_id
        assert not tool.error
        if "result" in e:
            assert tool.result_text == e["result"]
        else:
            assert tool.result_text


def assert_messages(run: agno.Run, stored: dict, expected_tools: list[dict]) -> None:
    """Messages by role, the assistant's tool call, the tool's answer and the reasoning, as agno stored them."""
    stored_messages = stored.get("messages") or []
    assert [m.role for m in run.messages] == [m["role"] for m in stored_messages]
    assert [m.role for m in run.messages if m.role != "system"][:1] == ["user"]
    for message, raw in zip(run.messages, stored_messages, strict=True):
        assert message.content == agno.text_of(raw.get("content"))
        assert message.created_at is not None
    requested = [call for m in run.messages if m.role == "assistant" for call in m.tool_calls]
    assert [(call.name, call.args) for call in requested] == [(e["name"], e["args"]) for e in expected_tools]
    answers = [m for m in run.messages if m.role == "tool"]
    assert [m.tool_call_id for m in answers] == [call.tool_call_id for call in requested]
    assert [m.tool_name for m in answers] == [e["name"] for e in expected_tools]
    for answer, e in zip(answers, expected_tools, strict=True):
        if "result" in e:
            assert answer.content == e["result"]
    final = run.messages[-1]
    assert final.role == "assistant" and final.content == run.content
    assert final.reasoning_content == run.reasoning == agno.text_of(stored.get("reasoning_content"))
    assert final.metrics.total_tokens


def assert_run(run: agno.Run, expected: dict, stored: dict, entry: dict) -> None:
    assert run.run_id == expected["run_id"]
    assert run.kind == expected["kind"]
    assert run.status == "COMPLETED"
    assert run.input == expected["input"]
    assert run.content and run.content == agno.text_of(stored.get("content"))
    assert run.component_name == entry["component_name"]
    assert run.model == entry["model"]
    assert epoch(run.created_at) == stored["created_at"]
    assert run.malformed is None and not run.is_error
    assert_tools(run.tools, expected["tools"])
    if run.kind != "workflow":
        assert run.metrics.total_tokens == stored["metrics"]["total_tokens"] > 0
        assert run.metrics.input_tokens == stored["metrics"]["input_tokens"]
        assert_messages(run, stored, expected["tools"])


def assert_team_members(run: agno.Run, expected: dict, agno_runs: list[dict]) -> None:
    """Member runs nested under their team run, once each, in the order agno stored them."""
    stored_members = [r for r in agno_runs if r.get("parent_run_id") == run.run_id]
    assert [m.run_id for m in run.members] == [r["run_id"] for r in stored_members]
    assert len(run.members) == len(expected["members"])
    for member, stored, e in zip(run.members, stored_members, expected["members"], strict=True):
        assert member.kind == "agent"
        assert member.parent_run_id == run.run_id
        assert member.component_name == e["name"]
        assert member.data["agent_id"] == e["component_id"]
        assert member.status == "COMPLETED"
        assert member.input == expected["input"]
        assert member.content == agno.text_of(stored["content"])
        assert member.metrics.total_tokens == stored["metrics"]["total_tokens"]
        assert_tools(member.tools, e["tools"])
        assert_messages(member, stored, e["tools"])
        assert not member.members


def assert_workflow(run: agno.Run, expected: dict, stored: dict) -> None:
    """Steps in order (the parallel one with its two branches), the executor runs nested, token totals."""
    assert [step.name for step in run.steps] == [e["name"] for e in expected["steps"]]
    for step, e in zip(run.steps, expected["steps"], strict=True):
        assert step.success is True and not step.error
        assert step.content
        if "executor" in e:
            assert step.executor_name == e["executor"]
            assert step.step_type == "Step"
        if "content" in e:
            assert step.content == e["content"]
        if "steps" in e:
            assert step.step_type == "Parallel"
            assert [nested.name for nested in step.steps] == e["steps"]
            assert all(nested.success and nested.content for nested in step.steps)
    assert [member.data.get("agent_id") for member in run.members] == expected["executors"]
    assert all(member.parent_run_id == run.run_id and member.content for member in run.members)
    step_tokens = [s["metrics"].get("total_tokens") or 0 for s in stored["metrics"]["steps"].values()]
    assert run.metrics.total_tokens == sum(step_tokens) > 0
    assert run.metrics.duration == stored["metrics"]["duration"]


def assert_session_as_manifest(entry: dict) -> None:
    """Read one session through our models, queries and decoding layer; compare every field."""
    stored = entry["agno"]
    row = AgnoSession.objects.get(pk=entry["session_id"])
    runs = decoded_runs(entry["session_id"])
    assert not isinstance(runs, agno.Malformed), runs
    session = agno.decode_session(row, first_input=runs[0].input)

    assert session.session_id == entry["session_id"]
    assert session.session_type == entry["session_type"]
    assert session.user_id == entry["user_id"]
    assert getattr(session, f"{entry['session_type']}_id") == entry["component_id"]
    assert session.component.kind == entry["session_type"]
    assert session.component.component_id == entry["component_id"]
    assert session.component.name == entry["component_name"]
    assert session.component.model_id == entry["model"]
    assert session.component.model_provider == ("OpenAI" if entry["model"] else "")
    assert session.name == (entry["session_name"] or entry["runs"][0]["input"])
    assert session.state == entry["session_state"]
    assert session.metadata == (entry["metadata"] if entry["metadata"] is not None else stored["metadata"])
    session_metrics = stored["session_data"]["session_metrics"]
    for key in ("input_tokens", "output_tokens", "total_tokens"):
        assert getattr(session.metrics, key) == session_metrics[key] > 0
    if entry["summary_of"]:
        assert session.summary.text == summary_text(entry["summary_of"])
        assert session.summary.topics == SUMMARY_TOPICS
        assert session.summary.updated_at is not None
    else:
        assert session.summary is None
    assert epoch(session.created_at) == stored["created_at"]
    assert session.updated_at_raw == stored["updated_at"] >= stored["created_at"]

    agno_runs = stored["runs"]
    by_id = {run["run_id"]: run for run in agno_runs}
    assert [run.run_id for run in runs] == [run["run_id"] for run in entry["runs"]]
    assert [run.run_id for run in runs] == [r["run_id"] for r in agno_runs if not r.get("parent_run_id")]
    for run, expected in zip(runs, entry["runs"], strict=True):
        assert_run(run, expected, by_id[run.run_id], entry)
        if run.kind == "team":
            assert_team_members(run, expected, agno_runs)
            assert bool(run.data.get("member_responses")) == entry["store_member_responses"]
        elif run.kind == "workflow":
            assert_workflow(run, expected, by_id[run.run_id])
        else:
            assert not run.members


def test_sessions_agno_wrote_into_tables_it_created(agno_written):
    """Case (a): agno created its own tables (3.x: no `runs` column at all, a runs table)."""
    has_runs_column = "runs" in table_columns(settings.AGNO_SESSION_TABLE)
    assert has_runs_column == (agno_written.version == AGNO_2)
    assert bool(table_columns(settings.AGNO_RUNS_TABLE)) == (agno_written.version == AGNO_3)
    assert sorted(AgnoSession.objects.values_list("pk", flat=True)) == sorted(agno_written.session_ids)
    for entry in agno_written.sessions:
        assert_session_as_manifest(entry)


def test_agno_2_double_encodes_json_on_sqlite_and_3_does_not(agno_written):
    raw = AgnoSession.objects.values_list("session_data", flat=True).get(pk=agno_written.sessions[0]["session_id"])
    if agno_connection().vendor == "sqlite":
        assert raw.startswith('"') == (agno_written.version == AGNO_2)
    assert agno.decode_dict(raw)["session_name"] == "Lisbon weather"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("version", AGNO_VERSIONS)
def test_agno_writes_and_reads_tables_our_migration_created(version, fake_openai_url):
    """Case (b), the reverse contract: our migration's tables take agno's writes, and agno reads them back."""
    db = agno_db()
    manifest = write_with_agno(version, db, fake_openai_url, "full", "ours-")
    for entry in manifest:
        assert_session_as_manifest(entry)
    read_back = {session["session_id"]: session for session in agno_get_sessions(version, db)}
    assert sorted(read_back) == sorted(entry["session_id"] for entry in manifest)
    for entry in manifest:
        assert [run["run_id"] for run in read_back[entry["session_id"]]["runs"]] == [
            run["run_id"] for run in entry["agno"]["runs"]
        ]


@pytest.mark.django_db(transaction=True)
def test_session_written_by_agno_2_then_3_shows_every_run_once_in_order(fake_openai_url):
    """Mixed layout: 3.x adds a run to a 2.x session; the old runs stay inline, the new one goes to agno_runs."""
    db = agno_db()
    session_id, agent_id, user_id = "mixed layout", "weather-agent", "ada@example.com"
    [first] = write_with_agno(
        AGNO_2, db, fake_openai_url, "agent", session_id, agent_id, user_id, "Hi (no tools)", "Lisbon?"
    )
    [second] = write_with_agno(AGNO_3, db, fake_openai_url, "agent", session_id, agent_id, user_id, "Kyoto?")
    written = first["runs"] + second["runs"]
    expected = [run["run_id"] for run in written]

    inline = agno.decode_json(queries.inline_runs(session_id))
    assert [run["run_id"] for run in inline] == expected[:2]
    assert [row.run_id for row in queries.run_rows(session_id)] == expected[2:]
    runs = decoded_runs(session_id)
    assert [run.run_id for run in runs] == expected
    assert [run.input for run in runs] == ["Hi (no tools)", "Lisbon?", "Kyoto?"]
    for run, e in zip(runs, written, strict=True):
        assert_tools(run.tools, e["tools"])
    assert [run["run_id"] for run in agno_get_session(AGNO_3, db, session_id)["runs"]] == expected


@pytest.mark.django_db(transaction=True)
def test_sessions_agno_3_migrated_show_each_run_once(fake_openai_url):
    """Agno 3.x's own migration copies every 2.x run into the runs table and keeps the column as a backup."""
    db = agno_db()
    manifest = write_with_agno(AGNO_2, db, fake_openai_url, "full", "migrated-")
    write_with_agno(AGNO_3, db, fake_openai_url, "migrate")
    for entry in manifest:
        inline = [run["run_id"] for run in agno.decode_json(queries.inline_runs(entry["session_id"]))]
        assert inline and [row.run_id for row in queries.run_rows(entry["session_id"])] == inline
        assert_session_as_manifest(entry)
    read_back = agno_get_sessions(AGNO_3, db, [entry["session_id"] for entry in manifest])
    for entry, session in zip(manifest, read_back, strict=True):
        assert [run["run_id"] for run in session["runs"]] == [run["run_id"] for run in entry["agno"]["runs"]]


@pytest.mark.django_db(transaction=True)
def test_agno_reads_sessions_our_seeder_wrote():
    """Both layouts of sessions_ui.demo.write_sessions, read by agno's own get_session()."""
    now = int(datetime.now(tz=UTC).timestamp())
    by_layout = {
        layout: [make_session(first + i, now=now, runs=2) for i in range(5)] for layout, first in (("2", 0), ("3", 100))
    }
    for layout, sessions in by_layout.items():
        write_sessions(agno_connection(), sessions, layout=layout)
    db = agno_db()
    # Agno 2.x knows only the inline layout; 3.x reads both.
    for version, layouts in ((AGNO_2, ["2"]), (AGNO_3, ["2", "3"])):
        demos = [demo for layout in layouts for demo in by_layout[layout]]
        read_back = agno_get_sessions(version, db, [demo.row["session_id"] for demo in demos])
        for demo, session in zip(demos, read_back, strict=True):
            assert session is not None, (version, demo.row["session_id"])
            row = demo.row
            assert session["session_id"] == row["session_id"]
            assert session["user_id"] == row["user_id"]
            assert session.get(f"{row['session_type']}_id") == row[f"{row['session_type']}_id"]
            assert session["session_data"]["session_state"] == row["session_data"]["session_state"]
            assert session["session_data"].get("session_name") == row["session_data"].get("session_name")
            if row["session_type"] != "workflow":  # agno's WorkflowSession has no summary
                assert (session["summary"] or {}).get("summary") == (row["summary"] or {}).get("summary")
            assert [run["run_id"] for run in session["runs"]] == [run["run_id"] for run in demo.runs]


def agno_tables_snapshot(db: AgnoDb) -> dict:
    """Every Agno table of a database (SQLite: agno*; PostgreSQL: schema ai): definitions and rows as stored text."""
    if db.url.startswith("sqlite"):
        connection = sqlite3.connect(db.url.split(":///", 1)[1])
        try:
            definitions = connection.execute(
                "SELECT type, name, sql FROM sqlite_master WHERE tbl_name LIKE 'agno%' ORDER BY name"
            ).fetchall()
            tables = [name for kind, name, _ in definitions if kind == "table"]
            rows = {table: connection.execute(f'SELECT * FROM "{table}" ORDER BY rowid').fetchall() for table in tables}
        finally:
            connection.close()
        return {"definitions": definitions, "rows": rows}
    with psycopg.connect(db.url.replace("postgresql+psycopg", "postgresql")) as connection:
        columns = connection.execute(
            "SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns"
            " WHERE table_schema = %s ORDER BY table_name, ordinal_position",
            [db.schema],
        ).fetchall()
        indexes = connection.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s ORDER BY indexname", [db.schema]
        ).fetchall()
        tables = sorted({table for table, *_ in columns})
        rows = {
            table: connection.execute(f'SELECT t::text FROM "{db.schema}"."{table}" t ORDER BY 1').fetchall()
            for table in tables
        }
    return {"columns": columns, "indexes": indexes, "rows": rows}


LIST_SESSIONS = """
import json
from django.contrib.auth.models import User
from django.test import Client
client = Client()
client.force_login(User.objects.create_superuser("contract-admin", "admin@example.com", "pw"))
response = client.get("/sessions/")
print(json.dumps({"status": response.status_code, "html": response.content.decode()}))
"""


@pytest.mark.parametrize("version", AGNO_VERSIONS)
def test_dashboard_on_a_database_agno_wrote_lists_it_and_alters_nothing(version, fake_openai_url, fresh_database):
    """`migrate` and a page view, on a database only agno has written to: the acceptance criterion."""
    db = AgnoDb(
        url=fresh_database,
        schema=settings.AGNO_DB_SCHEMA or None,
        session_table="agno_sessions",
        runs_table="agno_runs",
    )
    manifest = write_with_agno(version, db, fake_openai_url, "full", "")
    before = agno_tables_snapshot(db)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGNO_", "TEST_DATABASE"))}
    env.update(
        DATABASE_URL=fresh_database.replace("postgresql+psycopg", "postgres"),
        ALLOWED_HOSTS="testserver",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    for command in (["migrate", "--no-input"], ["shell", "-c", LIST_SESSIONS]):
        completed = subprocess.run(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert completed.returncode == 0, completed.stderr[-4000:]
    page = json.loads(completed.stdout.strip().splitlines()[-1])
    assert page["status"] == 200
    for entry in manifest:
        session_id = entry["session_id"]
        assert session_id in page["html"] or quote(session_id) in page["html"], session_id
    assert agno_tables_snapshot(db) == before
