"""Which Agno tables and columns exist (of the current source), and creating them with Agno's exact layout when missing.

Agno owns its tables: an existing table is used as it is (Agno 3.x drops the `runs` column from
tables it creates), so code that reads a column Agno may not have asks here first.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from typing import Any, NamedTuple

from django.core import checks
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import DatabaseError, OperationalError

from sessions_ui import agno
from sessions_ui.sources import Source, all_sources, current_source

JSON_TYPE = {"postgresql": "JSONB", "sqlite": "JSON"}
# The columns every Agno session table has, 2.x and 3.x (`runs` only in 2.x and in tables 3.x migrated).
SESSION_COLUMNS = tuple(column for column in agno.SESSION_COLUMNS if column != "runs")
# Which tables and columns exist is kept this long in the configured cache (shared by every instance):
# a schema that changes under a running dashboard (Agno 3.x adding its runs table) is seen within it.
LAYOUT_SECONDS = 30


def agno_connection():
    """The connection of the current source's database."""
    return current_source().connection


def quoted_table(table: str, connection=None) -> str:
    """A table of the current source's schema for raw SQL (schema-qualified on PostgreSQL)."""
    source = current_source()
    if connection is None or connection.alias == source.alias:
        return source.quoted(table)
    name = connection.ops.quote_name(table)
    return f"{connection.ops.quote_name(source.schema)}.{name}" if source.schema else name


def table_names(connection, schema: str) -> list[str]:
    """The tables of a database (of `schema` on PostgreSQL, `public` when it is empty), by name."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s ORDER BY table_name",
                [schema or "public"],
            )
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        return [row[0] for row in cursor.fetchall()]


def table_columns(table: str, connection=None, *, schema: str | None = None) -> list[str]:
    """Column names of a table of the current source's schema (or `schema`), [] when the table does not exist."""
    connection = connection or agno_connection()
    schema = current_source().schema if schema is None else schema
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
                [schema or "public", table],
            )
        else:
            cursor.execute("SELECT name FROM pragma_table_info(%s)", [table])
        return [row[0] for row in cursor.fetchall()]


# What this request already read of the shared cache below (None outside a request: each use reads it).
# The cache is a table by default (db://): a detail page asked it 16 times for the same 3 entries.
_request = threading.local()


def _start_request(**kwargs) -> None:
    _request.memo = {}


def _end_request(**kwargs) -> None:
    _request.memo = None


request_started.connect(_start_request, dispatch_uid="sessions_ui.schema.start")
request_finished.connect(_end_request, dispatch_uid="sessions_ui.schema.end")


def _cached(key: str, read: Callable[[], Any]) -> Any:
    """`read()`, kept LAYOUT_SECONDS in the shared cache, and read from it once per request."""
    memo = getattr(_request, "memo", None)
    if memo is None:
        return cache.get_or_set(key, read, LAYOUT_SECONDS)
    if key not in memo:
        memo[key] = cache.get_or_set(key, read, LAYOUT_SECONDS)
    return memo[key]


def _layout_key(source: Source) -> str:
    return "sessions_ui:layout:" + ":".join((source.alias, source.schema, source.session_table, source.runs_table))


def _read_layout(source: Source) -> tuple[bool, bool]:
    return (
        "runs" in table_columns(source.session_table, source.connection, schema=source.schema),
        bool(table_columns(source.runs_table, source.connection, schema=source.schema)),
    )


def layout(source: Source | None = None) -> tuple[bool, bool]:
    """(sessions table has an inline `runs` column, the Agno 3.x runs table exists), cached for LAYOUT_SECONDS.

    Agno adds the runs table the first time a 3.x version writes a run: a cached "no" lasts until the
    entry expires, or until `forget_layout()` (called by tests and when a missing table is reported).
    """
    source = source or current_source()
    return tuple(_cached(_layout_key(source), lambda: _read_layout(source)))


def forget_layout(source: Source | None = None) -> None:
    """Read the layout again on its next use, in every instance (the cache is shared)."""
    source = source or current_source()
    keys = [_layout_key(source), _companions_key(source), _traces_key(source), _indexes_key(source)]
    cache.delete_many(keys)
    memo = getattr(_request, "memo", None)
    for key in keys if memo is not None else ():
        memo.pop(key, None)


def index_name(table: str, suffix: str) -> str:
    """Agno's naming (idx_agno_sessions_created_at), shortened with a hash to PostgreSQL's 63 bytes."""
    name = f"idx_{table}_{suffix}"
    if len(name.encode()) <= 63:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return f"{name.encode()[:54].decode(errors='ignore')}_{digest}"


def _indexes_key(source: Source) -> str:
    return "sessions_ui:indexes:" + ":".join((source.alias, source.schema, source.session_table))


def _read_indexes(source: Source) -> list[str]:
    """The usable indexes of the session table (on PostgreSQL, not one a failed CONCURRENTLY build left invalid)."""
    with source.connection.cursor() as cursor:
        if source.connection.vendor == "postgresql":
            cursor.execute(
                "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                " JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace"
                " WHERE t.relname = %s AND n.nspname = %s AND i.indisvalid",
                [source.session_table, source.schema or "public"],
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = %s", [source.session_table]
            )
        return sorted(row[0] for row in cursor.fetchall())


def has_index(suffix: str, source: Source | None = None) -> bool:
    """Whether the session table has the opt-in index `manage.py agno_indexes` names with `suffix`, cached like
    the layout (the command forgets it when it creates one)."""
    source = source or current_source()
    names = _cached(_indexes_key(source), lambda: _read_indexes(source))
    return index_name(source.session_table, suffix) in names


class Companion(NamedTuple):
    """One table of Agno's other records about a session, as it exists in the source."""

    kind: str  # "tool_results", "compactions" or "transcripts"
    table: str  # quoted for raw SQL
    session_column: str  # the column holding the Agno session's id


# Agno 3.1's records about a session (agno/db/sqlite/sqlite.py, delete_session): the kind, the Source
# attribute naming its table, the column holding the session id (a transcript's own `session_id` is
# the external agent's), and the other columns the dashboard needs of it.
COMPANIONS = (
    ("compactions", "compactions_table", "session_id", ()),
    ("tool_results", "tool_results_table", "session_id", ("namespace", "path")),
    ("transcripts", "transcripts_table", "agno_session_id", ()),
)
PAYLOAD_KEY = ("namespace", "path")  # what an offloaded tool result's index row points at in the payload table


def _companions_key(source: Source) -> str:
    return "sessions_ui:companions:" + ":".join((source.alias, source.schema, source.session_table))


def _read_companions(source: Source) -> tuple[tuple[str, ...], bool]:
    def has(table: str, columns, schema: str) -> bool:
        return set(columns) <= set(table_columns(table, source.connection, schema=schema))

    kinds = tuple(
        kind
        for kind, attribute, session_column, columns in COMPANIONS
        if has(getattr(source, attribute), (session_column, *columns), source.schema)
    )
    return kinds, has(source.payload_table, PAYLOAD_KEY, source.payload_schema)


def companions(source: Source | None = None) -> list[Companion]:
    """The tables of Agno's other records about a session that exist, cached like the layout.

    Each exists only once Agno needed it (a table without the columns the dashboard needs counts as missing).
    """
    source = source or current_source()
    kinds, _ = _cached(_companions_key(source), lambda: _read_companions(source))
    return [
        Companion(kind, source.quoted(getattr(source, attribute)), session_column)
        for kind, attribute, session_column, _ in COMPANIONS
        if kind in kinds
    ]


def has_payload_table(source: Source | None = None) -> bool:
    """Whether the payload table of offloaded tool results exists (agno_fs; schema "fs" on PostgreSQL)."""
    source = source or current_source()
    return _cached(_companions_key(source), lambda: _read_companions(source))[1]


# What the trace view reads of agno 3.1's traces and spans tables (agno/db/*/schemas.py,
# TRACE_TABLE_SCHEMA and _get_span_table_schema).
TRACE_COLUMNS = ("trace_id", "name", "status", "start_time", "end_time", "duration_ms", "run_id", "session_id")
SPAN_COLUMNS = (
    "span_id", "trace_id", "parent_span_id", "name", "span_kind", "status_code", "status_message",
    "start_time", "end_time", "duration_ms", "attributes",
)  # fmt: skip


def _traces_key(source: Source) -> str:
    where = (source.traces_alias or source.alias, source.traces_db_schema, source.traces_table, source.spans_table)
    return "sessions_ui:traces:" + ":".join(where)


class TracesUnreachable(Exception):
    """The other database that holds a source's traces (AGNO_TRACES_DATABASE_URL) does not answer."""


def _read_trace_tables(source: Source) -> bool | str:
    """Whether they exist; the error's text when they are in another database that does not answer."""
    try:
        return all(
            set(columns) <= set(table_columns(table, source.traces_connection, schema=source.traces_db_schema))
            for table, columns in ((source.traces_table, TRACE_COLUMNS), (source.spans_table, SPAN_COLUMNS))
        )
    except DatabaseError as error:
        if not source.traces_elsewhere:
            raise
        return str(error).strip() or type(error).__name__


def has_trace_tables(source: Source | None = None) -> bool:
    """Whether Agno's traces and spans tables exist (with the columns the trace view reads), cached like the layout.

    Agno creates them the first time a traced run ends; with tracing off they never exist. In another
    database (AGNO_TRACES_DATABASE_URL) that does not answer: TracesUnreachable, and that is cached as
    well, so that the pages do not each wait for its connection to time out.
    """
    source = source or current_source()
    found = _cached(_traces_key(source), lambda: _read_trace_tables(source))
    if isinstance(found, str):
        raise TracesUnreachable(found)
    return found


def has_inline_runs(source: Source | None = None) -> bool:
    return layout(source)[0]


def has_runs_table(source: Source | None = None) -> bool:
    return layout(source)[1]


def create_agno_tables(connection, *, forget: bool = True) -> bool:
    """Create the session table (with the 2.x `runs` column) and the 3.x runs table, as Agno would.

    Does nothing when the session table exists: a database Agno wrote is never altered. Both
    Agno 2.x (inline runs) and 3.x (runs table, legacy column left in place) write into the result.
    Returns whether anything was created. `forget=False` leaves the cached layout alone: the migration
    that creates the tables runs before the one that creates the database cache's table.
    """
    source = current_source()
    session_table, runs_table = source.session_table, source.runs_table
    if table_columns(session_table, connection):
        return False
    json_type = JSON_TYPE[connection.vendor]
    sessions, runs = quoted_table(session_table, connection), quoted_table(runs_table, connection)
    statements = []
    if source.schema:
        statements.append(f"CREATE SCHEMA IF NOT EXISTS {connection.ops.quote_name(source.schema)}")
    statements.append(
        f"CREATE TABLE {sessions} ("
        " session_id VARCHAR NOT NULL, session_type VARCHAR NOT NULL,"
        " agent_id VARCHAR, team_id VARCHAR, workflow_id VARCHAR, user_id VARCHAR,"
        f" session_data {json_type}, agent_data {json_type}, team_data {json_type},"
        f" workflow_data {json_type}, metadata {json_type}, runs {json_type}, summary {json_type},"
        " created_at BIGINT NOT NULL, updated_at BIGINT, PRIMARY KEY (session_id))"
    )
    for column in ("session_type", "created_at"):
        statements.append(f"CREATE INDEX idx_{session_table}_{column} ON {sessions} ({column})")
    if not table_columns(runs_table, connection):
        statements.append(
            f"CREATE TABLE {runs} ("
            " run_id VARCHAR NOT NULL,"
            f" session_id VARCHAR NOT NULL REFERENCES {sessions} (session_id) ON DELETE CASCADE,"
            " run_type VARCHAR NOT NULL, agent_id VARCHAR, team_id VARCHAR, workflow_id VARCHAR,"
            " user_id VARCHAR, parent_run_id VARCHAR, status VARCHAR, run_index BIGINT,"
            f" run_data {json_type} NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT,"
            " PRIMARY KEY (run_id))"
        )
        for column in (
            "session_id",
            "run_type",
            "agent_id",
            "team_id",
            "workflow_id",
            "user_id",
            "status",
            "created_at",
        ):
            statements.append(f"CREATE INDEX idx_{runs_table}_{column} ON {runs} ({column})")
        statements.append(f"CREATE INDEX idx_{runs_table}_session_id_run_index ON {runs} (session_id, run_index)")
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    if forget:
        forget_layout()
    return True


def check_source_tables(app_configs=None, databases=None, **kwargs) -> list[checks.CheckMessage]:
    """System check (`manage.py check --database default`, and `migrate`): each source after the default one
    (whose table `migrate` creates when missing) names a table with Agno's session columns. A database that
    does not answer is only a warning: the dashboard starts and shows that source as down."""
    if not databases:
        return []
    problems: list[checks.CheckMessage] = []
    for source in all_sources()[1:]:
        table = f"{source.schema}.{source.session_table}" if source.schema else source.session_table
        try:
            columns = set(table_columns(source.session_table, source.connection, schema=source.schema))
        except OperationalError as error:
            problems.append(
                checks.Warning(f"sources.{source.id}: its database does not answer ({error})", id="sessions_ui.W001")
            )
            continue
        missing = [column for column in SESSION_COLUMNS if column not in columns]
        if missing:
            what = "does not exist" if not columns else f"has no column {', '.join(missing)}"
            problems.append(
                checks.Error(
                    f"sources.{source.id}.session_table: {table} {what}: not an Agno session table",
                    hint="manage.py agno_sources discover DATABASE_URL lists the Agno session tables of a database.",
                    id="sessions_ui.E001",
                )
            )
    return problems
