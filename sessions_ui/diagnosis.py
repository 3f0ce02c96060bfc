"""What `manage.py agno_doctor` finds: the Agno database, schema, tables, columns, layout, indexes, rows, and what is wrong.

It reads the current source the way the dashboard does (sessions_ui.sources) and changes nothing,
so it is safe to run against a production database. Each problem names the setting or the command
that fixes it, as the fault pages do (sessions_ui/faults.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import DEFAULT_DB_ALIAS, Error, connections
from django.db.migrations.executor import MigrationExecutor

from sessions_ui import agno
from sessions_ui.bulk_write import RUN_COLUMNS
from sessions_ui.faults import database_url
from sessions_ui.schema import TracesUnreachable, has_trace_tables, table_columns, table_names
from sessions_ui.sources import Source, current_source

PRIVILEGES = ("SELECT", "UPDATE", "DELETE")


@dataclass
class Table:
    name: str
    columns: list[str]
    missing: list[str] = field(default_factory=list)  # of Agno's layout
    extra: list[str] = field(default_factory=list)
    indexes: list[str] = field(default_factory=list)
    rows: int | None = None
    privileges: dict[str, bool] = field(default_factory=dict)  # PostgreSQL only

    @property
    def exists(self) -> bool:
        return bool(self.columns)


@dataclass
class Diagnosis:
    database: str
    server: str = ""
    schema: str = ""
    schema_exists: bool = True
    tables: list[Table] = field(default_factory=list)
    other_tables: list[str] = field(default_factory=list)
    layout: str = ""
    traces: str = ""  # where the traces are, when in another database (AGNO_TRACES_DATABASE_URL)
    problems: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The report, as the command prints it."""
        out = [f"Database: {self.database}" + (f" ({self.server})" if self.server else "")]
        if self.schema:
            out.append(f"Schema:   {self.schema}" + ("" if self.schema_exists else " (does not exist)"))
        for table in self.tables:
            if not table.exists:
                out.append(f"Table {table.name}: missing")
                continue
            rows = "?" if table.rows is None else f"{table.rows:,}"
            out.append(f"Table {table.name}: {rows} rows, {len(table.columns)} columns")
            out.append(f"  columns:    {', '.join(table.columns)}")
            if table.missing:
                out.append(f"  missing:    {', '.join(table.missing)}")
            if table.extra:
                out.append(f"  not Agno's: {', '.join(table.extra)}")
            out.append(f"  indexes:    {', '.join(table.indexes) or 'none'}")
            if table.privileges:
                granted = " ".join(f"{name}{'' if ok else ' (NO)'}" for name, ok in table.privileges.items())
                out.append(f"  privileges: {granted}")
        if self.other_tables:
            out.append(f"Other tables: {', '.join(self.other_tables)}")
        if self.layout:
            out.append(f"Layout:   {self.layout}")
        if self.traces:
            out.append(f"Traces:   {self.traces}")
        if self.problems:
            out.append(f"Problems ({len(self.problems)}):")
            out.extend(f"  - {problem}" for problem in self.problems)
        else:
            out.append("No problems found.")
        return out


def examine(source: Source | None = None) -> Diagnosis:
    """Look at the source's database without changing anything."""
    source = source or current_source()
    connection = source.connection
    diagnosis = Diagnosis(database=database_url(source.alias), schema=source.schema)
    try:
        connection.ensure_connection()
    except Error as error:
        diagnosis.problems.append(f"Cannot connect: {error}".strip() + " Check DATABASE_URL / AGNO_DATABASE_URL.")
        return diagnosis
    diagnosis.server = f"{connection.display_name} {'.'.join(map(str, connection.get_database_version()))}"
    _check_migrations(diagnosis)
    if source.schema and not _schema_exists(connection, source.schema):
        diagnosis.schema_exists = False
        diagnosis.problems.append(
            f"The schema “{source.schema}” does not exist: set AGNO_DB_SCHEMA to the schema Agno writes"
            f" (its db_schema argument){_elsewhere(connection, source.session_table)}."
        )
        return diagnosis
    sessions = _table(source, source.session_table, agno.SESSION_COLUMNS, optional={"runs"})
    runs = _table(source, source.runs_table, RUN_COLUMNS)
    diagnosis.tables = [sessions, runs]
    names = table_names(connection, source.schema)
    diagnosis.other_tables = [name for name in names if name not in (source.session_table, source.runs_table)]
    if not sessions.exists:
        candidates = [name for name in diagnosis.other_tables if _looks_like_sessions(source, name)]
        hint = f"; session tables here: {', '.join(candidates)}" if candidates else ""
        diagnosis.problems.append(
            f"There is no session table “{source.session_table}”: set AGNO_SESSION_TABLE (Agno's session_table)"
            f"{hint}{_elsewhere(connection, source.session_table) if source.schema else ''}."
        )
    diagnosis.layout = _layout(sessions, runs)
    if source.traces_elsewhere:
        _check_traces(source, diagnosis)
    for table in (sessions, runs):
        if table.exists and table.missing:
            diagnosis.problems.append(
                f"{table.name} lacks Agno's columns {', '.join(table.missing)}: it was altered, or is not Agno's."
            )
        if denied := [name for name, ok in table.privileges.items() if not ok]:
            role = _current_role(connection)
            diagnosis.problems.append(
                f"The role “{role}” lacks {', '.join(denied)} on {table.name}: "
                f"GRANT {', '.join(denied)} ON {source.quoted(table.name)} TO {role};"
            )
    return diagnosis


def _check_traces(source: Source, diagnosis: Diagnosis) -> None:
    """The other database of the traces: whether it answers, and whether Agno's trace tables are there."""
    where = database_url(source.traces_alias) + (
        f", schema {source.traces_db_schema}" if source.traces_db_schema else ""
    )
    try:
        found = has_trace_tables(source)
    except TracesUnreachable as error:
        diagnosis.traces = f"in {where}: does not answer"
        diagnosis.problems.append(
            f"The traces' database does not answer ({error}): check AGNO_TRACES_DATABASE_URL (or traces_url in the"
            " sources file). The pages work without it; their traces say they could not reach it."
        )
        return
    tables = f"{source.traces_table} and {source.spans_table}"
    diagnosis.traces = f"in {where}: " + (
        tables if found else f"no {tables} yet (Agno creates them when a traced run ends)"
    )


def _check_migrations(diagnosis: Diagnosis) -> None:
    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Error as error:
        diagnosis.problems.append(f"The dashboard's database cannot be read: {error}".strip())
        return
    if pending:
        diagnosis.problems.append(f"{len(pending)} migrations are not applied: run python manage.py migrate.")


def _table(source: Source, name: str, expected: tuple[str, ...], optional: set[str] = frozenset()) -> Table:
    connection = source.connection
    table = Table(name, table_columns(name, connection, schema=source.schema))
    if not table.exists:
        return table
    table.missing = [column for column in expected if column not in table.columns and column not in optional]
    table.extra = [column for column in table.columns if column not in expected]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = %s AND tablename = %s ORDER BY indexname",
                [source.schema or "public", name],
            )
            table.indexes = [row[0] for row in cursor.fetchall()]
            for privilege in PRIVILEGES:
                cursor.execute("SELECT has_table_privilege(%s, %s)", [source.quoted(name), privilege])
                table.privileges[privilege] = cursor.fetchone()[0]
        else:
            cursor.execute("SELECT name FROM pragma_index_list(%s) ORDER BY name", [name])
            table.indexes = [row[0] for row in cursor.fetchall()]
        if table.privileges.get("SELECT", True):
            cursor.execute(f"SELECT COUNT(*) FROM {source.quoted(name)}")
            table.rows = cursor.fetchone()[0]
    return table


def _layout(sessions: Table, runs: Table) -> str:
    if not sessions.exists:
        return ""
    inline = "runs" in sessions.columns
    if inline and runs.exists:
        return "runs inline (Agno 2.x) and in the runs table (Agno 3.x): both are read"
    if runs.exists:
        return "runs in the runs table (Agno 3.x)"
    if inline:
        return "runs inline in the session table (Agno 2.x)"
    return "no runs column and no runs table: sessions are shown without runs"


def _current_role(connection) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        return cursor.fetchone()[0]


def _schema_exists(connection, schema: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", [schema])
        return cursor.fetchone() is not None


def _looks_like_sessions(source: Source, name: str) -> bool:
    columns = table_columns(name, source.connection, schema=source.schema)
    return {"session_id", "session_type", "session_data"} <= set(columns)


def _elsewhere(connection, table: str) -> str:
    """On PostgreSQL, the schemas that have a table of that name (Agno's default schema is `ai`)."""
    if connection.vendor != "postgresql":
        return ""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = %s ORDER BY table_schema", [table]
        )
        schemas = [row[0] for row in cursor.fetchall()]
    return f"; “{table}” is in the schema {', '.join(schemas)}" if schemas else ""
