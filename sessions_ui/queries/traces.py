"""Which spans explain a run: the trace Agno's tracing recorded for it (agno_traces, agno_spans).

A top-level run's trace is the row whose `run_id` it is. A team's member run, or the agent of a workflow
step, has no trace row of its own: its spans are a subtree of the team's (or workflow's) trace, under the
span whose attribute "agno.run.id" names it. The span list never reads the attributes (model messages,
tool results: megabytes in a large trace) into Python; one span's are read when it is opened.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import DatabaseError
from django.db.models import BigIntegerField, F, Func

from sessions_ui import agno
from sessions_ui.queries.sql_json import json_value_sql
from sessions_ui.schema import TRACE_COLUMNS, TracesUnreachable, has_trace_tables
from sessions_ui.sources import current_source

# The spans of one trace the page shows; a larger trace says how many more there are.
MAX_SPANS = 1000
# The columns of a span the waterfall needs: everything but its attributes (two keys of them, read in SQL).
SPAN_LIST_COLUMNS = (
    "span_id", "parent_span_id", "name", "span_kind", "status_code", "status_message", "start_time",
    "end_time", "duration_ms",
)  # fmt: skip
KIND_ATTRIBUTE = "openinference.span.kind"


@dataclass(frozen=True)
class RunTrace:
    """What the trace view shows of a run: its trace, and its spans as a tree (a member run's subtree)."""

    trace: agno.Trace
    spans: list[agno.Span]
    root_span_id: str  # the member run's span, "" when the whole trace is the run's
    more_spans: bool  # the trace has more than MAX_SPANS spans: the first MAX_SPANS by start time are shown


@contextmanager
def traces_cursor() -> Iterator:
    """A cursor on the database of the current source's traces; one in another database that fails raises
    TracesUnreachable (the pages say so), while an error beside the sessions is any database error."""
    source = current_source()
    try:
        with source.traces_connection.cursor() as cursor:
            yield cursor
    except DatabaseError as error:
        if not source.traces_elsewhere:
            raise
        raise TracesUnreachable(str(error)) from error


def _rows(sql: str, params: list) -> list[dict]:
    with traces_cursor() as cursor:
        cursor.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _attribute_sql(key: str, alias: str = "") -> str:
    return json_value_sql(current_source().traces_connection.vendor, f"{alias}attributes", (key,))


def _traces() -> str:
    source = current_source()
    return source.quoted_trace_table(source.traces_table)


def _spans() -> str:
    source = current_source()
    return source.quoted_trace_table(source.spans_table)


def traced_runs(session_id: str) -> set[str]:
    """The session's runs that have a trace row of their own (over agno_traces' session_id index; none
    without the trace tables). A member run's spans are in its team's trace: it is not among them."""
    if not has_trace_tables():
        return set()
    rows = _rows(f"SELECT run_id FROM {_traces()} WHERE session_id = %s AND run_id IS NOT NULL", [session_id])
    return {row["run_id"] for row in rows}


def traced_time(session_ids: list[str]) -> dict[str, int]:
    """The sum of the traces' durations (ms) of each of a page's sessions that has any, in one grouped query
    over agno_traces' session_id index. A member run's time is in its team run's trace: counted once."""
    if not session_ids or not has_trace_tables():
        return {}
    placeholders = ", ".join(["%s"] * len(session_ids))
    rows = _rows(
        f"SELECT session_id, SUM(duration_ms) AS total FROM {_traces()} WHERE session_id IN ({placeholders})"
        " GROUP BY session_id",
        session_ids,
    )
    return {row["session_id"]: int(row["total"]) for row in rows if row["total"] is not None}


def traced_time_sql() -> Func:
    """The SQL twin of traced_time, per session row, for ordering the list: the traces must be in the
    sessions' database (the caller checks `traces_elsewhere`). NULL for a session without traces."""
    return Func(
        F("session_id"),
        template=f"(SELECT SUM(t.duration_ms) FROM {_traces()} t WHERE t.session_id = %(expressions)s)",
        output_field=BigIntegerField(),
    )


@dataclass(frozen=True)
class TraceCount:
    traces: int = 0
    spans: int = 0


def trace_counts(session_ids: list[str]) -> dict[str, TraceCount]:
    """How many traces and spans each of the sessions has (those without any are left out), 500 ids a query."""
    if not session_ids or not has_trace_tables():
        return {}
    counts = {}
    for start in range(0, len(session_ids), 500):
        chunk = session_ids[start : start + 500]
        placeholders = ", ".join(["%s"] * len(chunk))
        rows = _rows(
            f"SELECT t.session_id, COUNT(DISTINCT t.trace_id) AS traces, COUNT(s.span_id) AS spans FROM {_traces()} t"
            f" LEFT JOIN {_spans()} s ON s.trace_id = t.trace_id WHERE t.session_id IN ({placeholders})"
            " GROUP BY t.session_id",
            chunk,
        )
        counts |= {row["session_id"]: TraceCount(row["traces"], row["spans"]) for row in rows}
    return counts


def run_trace(session_id: str, run_id: str) -> RunTrace | None:
    """The trace of one run of the session, None when there is none (or no trace tables at all)."""
    if not has_trace_tables() or not run_id:
        return None
    traces, spans = _traces(), _spans()
    columns = ", ".join(f"t.{column}" for column in TRACE_COLUMNS)
    rows = _rows(
        f"SELECT {columns} FROM {traces} t WHERE t.session_id = %s AND t.run_id = %s ORDER BY t.start_time LIMIT 1",
        [session_id, run_id],
    )
    root_span_id = ""
    if not rows:
        rows = _rows(
            f"SELECT {columns}, s.span_id AS root_span_id FROM {spans} s JOIN {traces} t ON t.trace_id = s.trace_id"
            f" WHERE t.session_id = %s AND {_attribute_sql(agno.RUN_ID_ATTRIBUTE, 's.')} = %s"
            " ORDER BY s.start_time LIMIT 1",
            [session_id, run_id],
        )
        if not rows:
            return None
        root_span_id = rows[0]["root_span_id"]
    trace = agno.decode_trace(rows[0])
    span_rows = _rows(
        f"SELECT {', '.join(SPAN_LIST_COLUMNS)}, {_attribute_sql(KIND_ATTRIBUTE)} AS kind,"
        f" {_attribute_sql(agno.RUN_ID_ATTRIBUTE)} AS run_id"
        f" FROM {spans} WHERE trace_id = %s ORDER BY start_time, span_id LIMIT %s",
        [trace.trace_id, MAX_SPANS + 1],
    )
    tree = agno.span_tree([agno.decode_span(row) for row in span_rows[:MAX_SPANS]], root_span_id)
    return RunTrace(trace, tree, root_span_id, more_spans=len(span_rows) > MAX_SPANS)


@dataclass(frozen=True)
class SpanDetail:
    span: agno.Span
    attributes: list[agno.SpanAttribute] | agno.Malformed


def span_detail(session_id: str, span_id: str) -> SpanDetail | None:
    """One span of the session's traces with its attributes, None when the session has no such span."""
    if not has_trace_tables():
        return None
    columns = ", ".join(f"s.{column}" for column in SPAN_LIST_COLUMNS)
    rows = _rows(
        f"SELECT {columns}, s.attributes FROM {_spans()} s"
        f" JOIN {_traces()} t ON t.trace_id = s.trace_id"
        " WHERE s.span_id = %s AND t.session_id = %s",
        [span_id, session_id],
    )
    if not rows:
        return None
    return SpanDetail(agno.decode_span(rows[0]), agno.decode_attributes(rows[0]["attributes"]))
