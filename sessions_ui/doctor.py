"""Will the dashboard work on this database? What a source's database holds, as the dashboard sees it, and what is wrong.

`diagnose()` reads only the catalog, Agno's schema versions and row counts (never a runs blob);
`render()` turns the report into the lines that `sessions-ui check` prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import DatabaseError

from sessions_ui.schema import SESSION_COLUMNS, table_columns, table_names
from sessions_ui.sources import Source

RUN_COLUMNS = ("run_id", "session_id", "run_type", "parent_run_id", "status", "run_index", "run_data", "created_at")
VERSIONS_TABLE = "agno_schema_versions"  # agno 3.x's default versions_table (agno/db/base.py)


@dataclass
class Report:
    database: str  # where, without a password
    session_table: str  # as the dashboard names it, schema-qualified on PostgreSQL
    server: str = ""
    tables: list[tuple[str, int]] = field(default_factory=list)  # Agno's tables here, with their rows
    columns: list[str] = field(default_factory=list)  # of the session table
    layout: str = ""
    versions: list[tuple[str, str]] = field(default_factory=list)  # agno_schema_versions: table, version
    indexes: list[tuple[str, str]] = field(default_factory=list)  # (name, "exists" / "missing" / "invalid")
    problems: list[str] = field(default_factory=list)  # the dashboard cannot show this source
    warnings: list[str] = field(default_factory=list)  # it can, but look at this

    @property
    def usable(self) -> bool:
        return not self.problems


def diagnose(source: Source, *, database: str, indexes_command: str) -> Report:
    """What `source`'s database holds. `database` names it for people; `indexes_command` is what adds the indexes."""
    report = Report(database=database, session_table=source.quoted_sessions.replace('"', ""))
    connection = source.connection
    try:
        report.server = _server(connection)
    except DatabaseError as error:
        report.problems.append(f"cannot connect to {database}: {_first_line(error)}")
        return report
    names = table_names(connection, source.schema)
    report.columns = table_columns(source.session_table, connection, schema=source.schema)
    if not report.columns:
        report.problems.append(_no_session_table(source, connection, names))
        return report
    missing = [column for column in SESSION_COLUMNS if column not in report.columns]
    if missing:
        report.problems.append(
            f"{report.session_table} is not an Agno session table: it has no {', '.join(missing)} column"
        )
        return report
    agno_tables = [
        name for name in names if name.startswith("agno_") or name in (source.session_table, source.runs_table)
    ]
    report.tables = [(name, _count(source, name)) for name in agno_tables]
    runs_columns = (
        table_columns(source.runs_table, connection, schema=source.schema) if source.runs_table in names else []
    )
    report.layout = _layout(source, "runs" in report.columns, bool(runs_columns))
    if runs_columns and (missing := [column for column in RUN_COLUMNS if column not in runs_columns]):
        report.problems.append(f"the runs table {source.runs_table} has no {', '.join(missing)} column")
    if not runs_columns and "runs" not in report.columns:
        report.warnings.append(
            f"no runs anywhere: {report.session_table} has no runs column and there is no table {source.runs_table}"
            " (Agno 3.x names it <session table>_runs for a custom session table: pass the runs table's name)"
        )
    if VERSIONS_TABLE in names:
        report.versions = _versions(source, (source.session_table, source.runs_table))
    report.indexes = _indexes(connection)
    if any(state != "exists" for _, state in report.indexes):
        report.warnings.append(
            f"the list's filters and search scan the table without the missing indexes: {indexes_command}"
        )
    return report


def render(report: Report) -> list[str]:
    lines = [f"database      {report.database}" + (f"  ({report.server})" if report.server else "")]
    lines.append(f"session table {report.session_table}")
    if report.columns:
        lines.append(f"columns       {', '.join(report.columns)}")
    if report.layout:
        lines.append(f"layout        {report.layout}")
    if report.versions:
        lines.append("agno schema   " + ", ".join(f"{table} {version}" for table, version in report.versions))
    if report.tables:
        lines.append(
            "tables        "
            + ", ".join(f"{name} ({rows:,} row{'' if rows == 1 else 's'})" for name, rows in report.tables)
        )
    for state in ("exists", "missing", "invalid"):
        if names := [name for name, index_state in report.indexes if index_state == state]:
            lines.append(f"indexes       {state}: {', '.join(names)}")
    lines += [f"problem       {problem}" for problem in report.problems]
    lines += [f"warning       {warning}" for warning in report.warnings]
    lines.append(
        "result        "
        + ("the dashboard can show these sessions" if report.usable else "the dashboard cannot show this")
    )
    return lines


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _server(connection) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            return f"PostgreSQL {cursor.fetchone()[0]}"
        cursor.execute("SELECT sqlite_version()")
        return f"SQLite {cursor.fetchone()[0]}"


def _no_session_table(source: Source, connection, names: list[str]) -> str:
    """Which Agno session tables there are instead, and the options that name them."""
    where = f"schema {source.schema}" if source.schema else "this database"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT table_schema, table_name FROM information_schema.columns"
                " WHERE column_name = 'session_type' AND table_schema NOT IN ('pg_catalog', 'information_schema')"
                " ORDER BY table_schema, table_name"
            )
            found = [(schema, table) for schema, table in cursor.fetchall()]
        else:
            found = [("", name) for name in names if "session_type" in table_columns(name, connection, schema="")]
    if not found:
        return (
            f"there is no table {source.session_table} in {where}, nor any other Agno session table"
            f" (found {len(names)} other table{'' if len(names) == 1 else 's'}): is this the database Agno writes to?"
        )
    options = [
        " ".join(([f"--schema {schema}"] if schema and schema != source.schema else []) + [f"--session-table {table}"])
        for schema, table in found
    ]
    tables = ", ".join(f"{schema}.{table}" if schema else table for schema, table in found)
    return f"there is no table {source.session_table} in {where}; Agno session tables found: {tables}: pass {' or '.join(options)}"


def _count(source: Source, table: str) -> int:
    with source.connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {source.quoted(table)}")
        return cursor.fetchone()[0]


def _layout(source: Source, inline: bool, runs_table: bool) -> str:
    if inline and runs_table:
        return f"runs inline (Agno 2.x) and in {source.runs_table} (Agno 3.x): both read, merged"
    if runs_table:
        return f"Agno 3.x: runs in {source.runs_table}"
    if inline:
        return "Agno 2.x: runs inline in the session table's runs column"
    return "no runs"


def _versions(source: Source, tables: tuple[str, ...]) -> list[tuple[str, str]]:
    with source.connection.cursor() as cursor:
        cursor.execute(f"SELECT table_name, version FROM {source.quoted(VERSIONS_TABLE)} ORDER BY table_name")
        return [(table, version) for table, version in cursor.fetchall() if table in tables]


def _indexes(connection) -> list[tuple[str, str]]:
    from sessions_ui.management.commands.agno_indexes import Command

    indexes, _ = Command().plan(connection)
    return [(index.name, index.state) for index in indexes]
