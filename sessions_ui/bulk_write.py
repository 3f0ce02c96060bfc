"""Writing sessions into Agno's tables as Agno stores them, in bulk (COPY on PostgreSQL): the writer of
the demo seeder, the tests' factories and the benchmarks. The dashboard itself never inserts sessions.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from sessions_ui import agno
from sessions_ui.schema import SESSION_COLUMNS, quoted_table
from sessions_ui.sources import current_source

if TYPE_CHECKING:
    from sessions_ui.demo import DemoSession


JSON_COLUMNS = agno.JSON_COLUMNS | {"runs"}
RUN_COLUMNS = (
    "run_id", "session_id", "run_type", "agent_id", "team_id", "workflow_id", "user_id",
    "parent_run_id", "status", "run_index", "run_data", "created_at", "updated_at",
)  # fmt: skip


def run_type(run: dict) -> str:
    return "workflow" if "workflow_name" in run else "team" if "team_name" in run else "agent"


def encode_json(value, *, double: bool = False) -> str | None:
    """JSON text as Agno writes it; `double` mimics Agno 2.x's SqliteDb (a JSON string holding JSON)."""
    if value is None:
        return None
    text = json.dumps(value)
    return json.dumps(text) if double else text


def write_sessions(connection, sessions: list[DemoSession], *, layout: str = "3", raw: bool = False) -> None:
    """Insert sessions and their runs with bulk statements (COPY on PostgreSQL).

    layout "2" stores runs inline (double-encoded on SQLite, like Agno 2.x), "3" in the runs table.
    With raw=True, JSON column values that are strings are written as they are (malformed-data tests).
    """
    double = layout == "2" and connection.vendor == "sqlite"

    def encode(column, value):
        if column not in JSON_COLUMNS:
            return value
        if raw and isinstance(value, str):
            return value
        return encode_json(value, double=double)

    columns = list(SESSION_COLUMNS) + (["runs"] if layout == "2" else [])
    session_rows, run_rows = [], []
    for session in sessions:
        row = dict(session.row)
        if layout == "2":
            row["runs"] = session.runs
        session_rows.append(tuple(encode(column, row.get(column)) for column in columns))
        if layout == "3":
            for index, run in enumerate(session.runs):
                run_rows.append(
                    (run["run_id"], row["session_id"], run_type(run), run.get("agent_id"), run.get("team_id"),
                     run.get("workflow_id"), run.get("user_id"), run.get("parent_run_id"), run.get("status"), index,
                     json.dumps(run), run.get("created_at") or row["created_at"], run.get("created_at"))
                )  # fmt: skip
    source = current_source()
    _insert(connection, quoted_table(source.session_table, connection), columns, session_rows)
    if run_rows:
        _insert(connection, quoted_table(source.runs_table, connection), RUN_COLUMNS, run_rows)


def _insert(connection, table: str, columns, rows) -> None:
    column_list = ", ".join(columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({column_list}) VALUES ({placeholders})", rows)
