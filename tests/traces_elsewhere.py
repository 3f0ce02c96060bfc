"""Agno's trace tables as agno 3.1.10 creates them, in the source's database or in another one (its tracing db).

`another_traces_database` gives a second database the tests' source reads its traces from
(AGNO_TRACES_DATABASE_URL): a second SQLite file, or a second database on the same PostgreSQL server.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections

from sessions_ui import sources
from sessions_ui.schema import forget_layout

TRACES_ALIAS = "traces-test"


def quoted(connection, schema: str, table: str) -> str:
    quote = connection.ops.quote_name
    return f"{quote(schema)}.{quote(table)}" if schema else quote(table)


def create_trace_tables(connection, schema: str) -> None:
    """agno_traces and agno_spans (agno/db/*/schemas.py), dropped first when there."""
    json_type = "JSONB" if connection.vendor == "postgresql" else "JSON"
    traces, spans = quoted(connection, schema, "agno_traces"), quoted(connection, schema, "agno_spans")
    with connection.cursor() as cursor:
        if schema:
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {connection.ops.quote_name(schema)}")
        cursor.execute(f"DROP TABLE IF EXISTS {spans}")
        cursor.execute(f"DROP TABLE IF EXISTS {traces}")
        cursor.execute(
            f"CREATE TABLE {traces} (trace_id VARCHAR PRIMARY KEY, name VARCHAR NOT NULL,"
            " status VARCHAR NOT NULL, start_time VARCHAR NOT NULL, end_time VARCHAR NOT NULL,"
            " duration_ms BIGINT NOT NULL, run_id VARCHAR, session_id VARCHAR, user_id VARCHAR, agent_id VARCHAR,"
            " team_id VARCHAR, workflow_id VARCHAR, created_at VARCHAR NOT NULL)"
        )
        cursor.execute(f"CREATE INDEX idx_agno_traces_session_id ON {traces} (session_id)")
        cursor.execute(
            f"CREATE TABLE {spans} (span_id VARCHAR PRIMARY KEY,"
            f" trace_id VARCHAR NOT NULL REFERENCES {traces} (trace_id), parent_span_id VARCHAR, name VARCHAR NOT NULL,"
            " span_kind VARCHAR NOT NULL, status_code VARCHAR NOT NULL, status_message TEXT,"
            " start_time VARCHAR NOT NULL, end_time VARCHAR NOT NULL, duration_ms BIGINT NOT NULL,"
            f" attributes {json_type}, created_at VARCHAR NOT NULL)"
        )
    forget_layout()


def drop_trace_tables(connection, schema: str) -> None:
    with connection.cursor() as cursor:
        for table in ("agno_spans", "agno_traces"):
            cursor.execute(f"DROP TABLE IF EXISTS {quoted(connection, schema, table)}")
    forget_layout()


def add_trace(connection, schema: str, session_id: str, run_id: str, duration_ms: int, spans: int = 2) -> str:
    """One trace of the run, `spans` spans long (a root and its children); its trace id."""
    trace_id = f"trace-{session_id}-{run_id}"
    start, end = "2026-12-01T10:00:00+00:00", "2026-12-01T10:00:05+00:00"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quoted(connection, schema, 'agno_traces')} (trace_id, name, status, start_time, end_time,"
            " duration_ms, run_id, session_id, created_at) VALUES (%s, 'Agent.run', 'OK', %s, %s, %s, %s, %s, %s)",
            [trace_id, start, end, duration_ms, run_id, session_id, end],
        )
        for number in range(spans):
            cursor.execute(
                f"INSERT INTO {quoted(connection, schema, 'agno_spans')} (span_id, trace_id, parent_span_id, name,"
                " span_kind, status_code, start_time, end_time, duration_ms, attributes, created_at)"
                " VALUES (%s, %s, %s, %s, 'INTERNAL', 'OK', %s, %s, %s, %s, %s)",
                [f"{trace_id}-{number}", trace_id, f"{trace_id}-0" if number else None,
                 "Agent.run" if not number else f"step {number}", start, end, duration_ms,
                 json.dumps({"agno.run.id": run_id} if not number else {}), end],
            )  # fmt: skip
    return trace_id


def trace_rows(connection, schema: str) -> tuple[int, int]:
    """How many traces and spans the tables hold."""
    with connection.cursor() as cursor:
        counts = []
        for table in ("agno_traces", "agno_spans"):
            cursor.execute(f"SELECT count(*) FROM {quoted(connection, schema, table)}")
            counts.append(cursor.fetchone()[0])
    return counts[0], counts[1]


@contextmanager
def database_added(alias: str, database: dict) -> Iterator:
    """A connection under `alias` for the test's body only, outside its transaction (it may be down); see
    tests/test_sources.py, whose helper this is with the connection given back."""
    from django.db.utils import load_backend

    settings_dict = connections.configure_settings({"default": database})["default"]
    connection = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, alias)
    setattr(connections._connections, alias, connection)
    try:
        yield connection
    finally:
        connection.close()
        delattr(connections._connections, alias)


@contextmanager
def traces_read_from(monkeypatch, alias: str, schema: str | None) -> Iterator[None]:
    """The default source reading its traces from `alias` (as AGNO_TRACES_DATABASE_URL sets it up)."""
    default = sources.default_source
    monkeypatch.setattr(
        sources, "default_source", lambda: dataclasses.replace(default(), traces_alias=alias, traces_schema=schema)
    )
    forget_layout()
    try:
        yield
    finally:
        monkeypatch.setattr(sources, "default_source", default)
        forget_layout()


def second_database(tmp_path_factory) -> Iterator[tuple[dict, str]]:
    """A second database beside the tests' one, and the schema for its trace tables: a SQLite file, or a
    database of the same PostgreSQL server (created, and dropped afterwards)."""
    default = connections["default"]
    if default.vendor == "sqlite":
        yield {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path_factory.mktemp("traces") / "traces.db")}, ""
        return
    name = f"{default.settings_dict['NAME']}_traces"[:63]
    with default._nodb_cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {default.ops.quote_name(name)}")
        cursor.execute(f"CREATE DATABASE {default.ops.quote_name(name)}")
    try:
        yield {**{key: default.settings_dict[key] for key in ("ENGINE", "USER", "PASSWORD", "HOST", "PORT")},
               "NAME": name}, "ai"  # fmt: skip
    finally:
        connections.close_all()
        with default._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {default.ops.quote_name(name)} WITH (FORCE)")


def down_database(tmp_path_factory) -> dict:
    """A database that does not answer: a SQLite file in a folder that does not exist, a PostgreSQL port nobody
    listens on."""
    if connections["default"].vendor == "sqlite":
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path_factory.getbasetemp() / "no" / "such.db")}
    return {"ENGINE": "django.db.backends.postgresql", "NAME": "agno", "USER": "agno", "HOST": "127.0.0.1", "PORT": "1"}
