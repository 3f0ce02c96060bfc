"""Which runs: a session's stored runs in either layout, their counts and first inputs, previews and export.

Agno 2.x keeps a session's runs inline in its `runs` column, Agno 3.x in the runs table, and a
session both versions wrote has some of each. Counts and first inputs are computed by the database
(`sql_json`), so no page that shows many sessions loads a runs blob.
"""

from __future__ import annotations

from typing import NamedTuple

from django.db.models import IntegerField, QuerySet, Sum
from django.db.models.expressions import RawSQL

from sessions_ui import agno
from sessions_ui.models import RunColumns
from sessions_ui.queries.records import session_records
from sessions_ui.queries.sql_json import (
    TOP_LEVEL_RUN_ROW,
    inline_run_elements,
    inline_top_level_run,
    run_input_sql,
    sqlite_json_document,
    top_level_run_row_sql,
)
from sessions_ui.schema import has_inline_runs, has_runs_table
from sessions_ui.sources import current_source

PREVIEW_RUNS = 5
MEMBER_RUNS = 50  # at most, of the previewed team runs together


def inline_runs(session_id: str) -> str | None:
    """The stored text of a session's Agno 2.x `runs` column, or None where the column does not exist."""
    if not has_inline_runs():
        return None
    return current_source().Session.objects.filter(pk=session_id).values_list("runs", flat=True).first()


def run_rows(session_id: str) -> list[RunColumns]:
    """A session's rows in the Agno 3.x runs table ([] when the table does not exist)."""
    if not has_runs_table():
        return []
    return list(current_source().Run.objects.filter(session_id=session_id))


class RunStats(NamedTuple):
    """What a page of sessions shows of each one's runs, without loading them."""

    runs: int | None  # top-level runs; None where the inline runs cannot be read (malformed JSON)
    first_input: str  # the first run's input: the name AgentOS shows for a session without one
    pending: bool = False  # the inline runs are not counted yet (sessions_ui.queries.list_runs)

    def plus(self, later: RunStats) -> RunStats:
        """These runs followed by `later`'s (a session Agno 2.x and 3.x both wrote: inline runs first)."""
        return RunStats(
            None if self.runs is None or later.runs is None else self.runs + later.runs,
            self.first_input or later.first_input,
            self.pending or later.pending,
        )


NO_RUNS = RunStats(0, "")


def run_total(sessions: QuerySet) -> int:
    """Top-level runs of all `sessions` (any number of them), counted in SQL: no runs blob is loaded."""
    total = 0
    vendor = current_source().vendor
    if has_inline_runs():
        document = "runs" if vendor == "postgresql" else sqlite_json_document("runs")
        counted = f"(SELECT count(*) FROM {inline_run_elements(vendor, document)} WHERE {inline_top_level_run(vendor)})"
        total += sessions.order_by().aggregate(n=Sum(RawSQL(counted, (), output_field=IntegerField())))["n"] or 0
    if has_runs_table():
        total += current_source().Run.objects.filter(TOP_LEVEL_RUN_ROW, session_id__in=sessions.values("pk")).count()
    return total


def page_runs(session_ids: list[str], unnamed: set[str]) -> dict[str, RunStats]:
    """The RunStats of each session, in one query per run layout (the first input only for `unnamed`)."""
    inline = inline_stats(session_ids, unnamed)
    return {
        session_id: inline[session_id].plus(stats) for session_id, stats in table_stats(session_ids, unnamed).items()
    }


def inline_stats(session_ids: list[str], unnamed: set[str]) -> dict[str, RunStats]:
    """The RunStats of each session's inline (Agno 2.x) runs: reads their blobs, in one query."""
    return _stats(session_ids, _inline_stats_sql if has_inline_runs() else None, unnamed)


def table_stats(session_ids: list[str], unnamed: set[str]) -> dict[str, RunStats]:
    """The RunStats of each session's rows in the Agno 3.x runs table, in one query of its columns."""
    return _stats(session_ids, _run_rows_stats_sql if has_runs_table() else None, unnamed)


def _stats(session_ids: list[str], stats_sql, unnamed: set[str]) -> dict[str, RunStats]:
    """`stats_sql`'s (session_id, count, first input) rows by session; no runs where it is None (no such layout)."""
    stats = dict.fromkeys(session_ids, NO_RUNS)
    if session_ids and stats_sql:
        connection = current_source().connection
        with connection.cursor() as cursor:
            cursor.execute(*stats_sql(connection.vendor, session_ids, unnamed))
            for session_id, count, first_input in cursor.fetchall():
                stats[session_id] = RunStats(count, _text(first_input))
    return stats


def _text(value) -> str:
    return "" if value is None else str(value)


def _placeholders(values) -> str:
    return ", ".join(["%s"] * len(values))


def _inline_stats_sql(vendor: str, session_ids: list[str], unnamed: set[str]) -> tuple[str, list]:
    table = current_source().quoted_sessions
    unnamed_ids = sorted(unnamed)
    top_level = inline_top_level_run(vendor)
    if vendor == "postgresql":
        first_input = (
            f"CASE WHEN session_id IN ({_placeholders(unnamed_ids)}) AND jsonb_typeof(runs::jsonb) = 'array'"
            f" THEN (SELECT {run_input_sql(vendor, 'item')} FROM {inline_run_elements(vendor, 'runs')}"
            f" WHERE {top_level} ORDER BY position LIMIT 1) END"
            if unnamed_ids
            else "NULL"
        )
        sql = (
            "SELECT session_id, CASE WHEN runs IS NULL OR jsonb_typeof(runs::jsonb) = 'null' THEN 0"
            " WHEN jsonb_typeof(runs::jsonb) = 'array' THEN"
            f" (SELECT count(*) FROM {inline_run_elements(vendor, 'runs')} WHERE {top_level}) END,"
            f" {first_input} FROM {table} WHERE session_id IN ({_placeholders(session_ids)})"
        )
        return sql, [*unnamed_ids, *session_ids]
    first_input = (
        f"CASE WHEN session_id IN ({_placeholders(unnamed_ids)}) AND json_type(document) = 'array'"
        f" THEN (SELECT {run_input_sql(vendor, 'item.value')} FROM {inline_run_elements(vendor, 'document')}"
        f" WHERE {top_level} ORDER BY item.key LIMIT 1) END"
        if unnamed_ids
        else "NULL"
    )
    # MATERIALIZED: each blob is parsed once, not once per use of `document`.
    sql = (
        f"WITH page AS MATERIALIZED (SELECT session_id, runs IS NULL AS missing, {sqlite_json_document('runs')}"
        f" AS document FROM {table} WHERE session_id IN ({_placeholders(session_ids)}))"
        " SELECT session_id, CASE WHEN missing OR json_type(document) = 'null' THEN 0"
        " WHEN json_type(document) = 'array' THEN"
        f" (SELECT count(*) FROM {inline_run_elements(vendor, 'document')} WHERE {top_level}) END,"
        f" {first_input} FROM page"
    )
    return sql, [*session_ids, *unnamed_ids]


def _run_rows_stats_sql(vendor: str, session_ids: list[str], unnamed: set[str]) -> tuple[str, list]:
    runs = current_source().quoted_runs
    unnamed_ids = sorted(unnamed)
    top_level = f"session_id IN ({_placeholders(session_ids)}) AND {top_level_run_row_sql()}"
    if not unnamed_ids:
        return f"SELECT session_id, COUNT(*), NULL FROM {runs} WHERE {top_level} GROUP BY session_id", session_ids
    run_data = "run.run_data::jsonb" if vendor == "postgresql" else f"({sqlite_json_document('run.run_data')})"
    first_input = (
        f"CASE WHEN first.session_id IN ({_placeholders(unnamed_ids)}) THEN {run_input_sql(vendor, run_data)} END"
    )
    sql = (
        f"SELECT first.session_id, first.runs, {first_input} FROM (SELECT session_id, run_id,"
        " COUNT(*) OVER (PARTITION BY session_id) AS runs, ROW_NUMBER() OVER (PARTITION BY session_id"
        f" ORDER BY run_index IS NULL, run_index, created_at, run_id) AS position FROM {runs} WHERE {top_level})"
        f" AS first JOIN {runs} AS run ON run.run_id = first.run_id WHERE first.position = 1"
    )
    return sql, [*unnamed_ids, *session_ids]


def preview_runs(session_id: str) -> list[agno.Run]:
    """The first top-level runs of a session, decoded, without loading the others (for the list's expansion);
    a team run's member runs nested in it, so that the preview can show their tool calls and errors."""
    vendor = current_source().connection.vendor
    inline = _preview_items(session_id, inline_top_level_run(vendor), [], PREVIEW_RUNS)
    rows = []
    if has_runs_table():
        rows = list(
            current_source()
            .Run.objects.filter(TOP_LEVEL_RUN_ROW, session_id=session_id)
            .order_by("run_index", "created_at", "run_id")[:PREVIEW_RUNS]
        )
    runs = agno.decode_runs(inline, rows)
    if isinstance(runs, agno.Malformed):
        return []
    runs = runs[:PREVIEW_RUNS]
    teams = [run.run_id for run in runs if run.kind == "team" and run.run_id]
    if not teams:
        return runs
    if vendor == "postgresql":
        members = "jsonb_typeof(item) = 'object' AND item ->> 'parent_run_id' = ANY(%s)"
        inline += _preview_items(session_id, members, [teams], MEMBER_RUNS)
    else:
        members = f"item.type = 'object' AND json_extract(item.value, '$.parent_run_id') IN ({_placeholders(teams)})"
        inline += _preview_items(session_id, members, teams, MEMBER_RUNS)
    if has_runs_table():
        rows += list(
            current_source()
            .Run.objects.filter(session_id=session_id, parent_run_id__in=teams)
            .order_by("run_index", "created_at", "run_id")[:MEMBER_RUNS]
        )
    runs = agno.decode_runs(inline, rows)
    return [] if isinstance(runs, agno.Malformed) else runs[:PREVIEW_RUNS]


def _preview_items(session_id: str, condition: str, params: list, limit: int) -> list:
    """The first `limit` inline runs (2.x layout) of a session that meet an SQL `condition` on `item`."""
    if not has_inline_runs():
        return []
    connection = current_source().connection
    vendor = connection.vendor
    table = current_source().quoted_sessions
    if vendor == "postgresql":
        sql = (
            f"SELECT item::text FROM {table} AS session CROSS JOIN LATERAL"
            f" {inline_run_elements(vendor, 'session.runs')} WHERE session.session_id = %s"
            f" AND {condition} ORDER BY position LIMIT %s"
        )
    else:
        sql = (
            f"WITH page AS MATERIALIZED (SELECT {sqlite_json_document('runs')} AS document FROM {table}"
            f" WHERE session_id = %s) SELECT item.value FROM page, {inline_run_elements(vendor, 'page.document')}"
            f" WHERE {condition} ORDER BY item.key LIMIT %s"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, [session_id, *params, limit])
        return [agno.decode_json(text) for (text,) in cursor.fetchall()]


def session_export(session_id: str) -> dict | None:
    """The session in Agno's own dict shape (see agno.export_session), None when there is no such session."""
    fields = [column for column in agno.SESSION_COLUMNS if column != "runs"]
    columns = current_source().Session.objects.filter(pk=session_id).values(*fields).first()
    if columns is None:
        return None
    exported = agno.export_session(columns, inline_runs(session_id), run_rows(session_id))
    records = session_records(session_id)
    if records:
        # Agno 3.1's other records of the session (what its delete_session removes with it), rows as stored.
        exported["agno_records"] = records
    return exported
