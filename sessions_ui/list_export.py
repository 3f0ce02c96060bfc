"""What the list's export writes: one line per session of the filtered list, as CSV or JSON Lines.

The lines are the list's columns, read as the list reads them (never the runs blob, never the large
component config), from a database cursor in chunks (`QuerySet.iterator`): exporting a million
sessions holds one chunk in memory and sends its first lines at once. With `runs=1` (JSON Lines only)
each line is instead the whole session in Agno's own shape, runs included, as a session's own export
gives it: read FULL_CHUNK sessions at a time (a session may be megabytes), their runs-table rows with them.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from itertools import chain

from django.db.models import QuerySet

from sessions_ui import agno
from sessions_ui.queries.sql_json import component_name
from sessions_ui.schema import has_inline_runs, has_runs_table
from sessions_ui.sources import current_source

FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}
CHUNK = 2_000  # rows per database fetch, and per piece of the response
FULL_CHUNK = 50  # sessions per fetch with their runs (runs=1)
COLUMNS = (
    "session_id",
    "session_name",
    "session_type",
    "component_id",
    "component_name",
    "user_id",
    "total_tokens",
    "created_at",
    "updated_at",
)
# A spreadsheet reads a cell starting with one of these as a formula (OWASP's "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def export_rows(sessions: QuerySet) -> QuerySet:
    """The list's columns of `sessions` (filtered and ordered), without the runs or the component config."""
    return (
        sessions.for_list()
        .defer("agent_data", "team_data", "workflow_data", "metadata", "summary")
        .annotate(component_name=component_name())
    )


def line(row) -> dict[str, str | int | None]:
    """One session's export line: its id, name (stored session_name only: the first input is in the runs), owner,
    user, total tokens, and the times in UTC ISO 8601."""
    session = agno.decode_session(row)
    return {
        "session_id": session.session_id,
        "session_name": session.name,
        "session_type": session.session_type,
        "component_id": session.component.component_id,
        "component_name": str(row.component_name or ""),
        "user_id": session.user_id,
        "total_tokens": session.metrics.tokens,
        "created_at": _iso(session.created_at),
        "updated_at": _iso(session.updated_at),
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def safe_cell(value) -> str | int | None:
    """A text cell a spreadsheet would run as a formula, prefixed with an apostrophe (numbers are left alone)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Line:
    """csv.writer's file: hands back the line it writes."""

    def write(self, text: str) -> str:
        return text


def stream(rows: Iterable, fmt: str) -> Iterator[str]:
    """The export's text, a chunk of lines at a time (the CSV with its header first)."""
    writer = csv.writer(_Line())
    if fmt == "csv":
        yield writer.writerow(COLUMNS)
    piece = []
    for row in rows:
        values = line(row)
        if fmt == "csv":
            piece.append(writer.writerow([safe_cell(values[column]) for column in COLUMNS]))
        else:
            piece.append(json.dumps(values, ensure_ascii=False) + "\n")
        if len(piece) >= CHUNK:
            yield "".join(piece)
            piece = []
    if piece:
        yield "".join(piece)


def full_sessions(sessions: QuerySet) -> Iterator[dict]:
    """Each of `sessions` in Agno's dict shape with its runs (agno.export_session), FULL_CHUNK at a time."""
    fields = [column for column in agno.SESSION_COLUMNS if column != "runs"]
    inline = has_inline_runs()
    chunk: list[dict] = []

    def exported(chunk: list[dict]) -> Iterator[dict]:
        rows: dict[str, list] = {}
        if has_runs_table():
            for run in current_source().Run.objects.filter(session_id__in=[c["session_id"] for c in chunk]):
                rows.setdefault(run.session_id, []).append(run)
        for columns in chunk:
            runs = columns.pop("runs", None)
            yield agno.export_session(columns, runs, rows.get(columns["session_id"], []))

    for columns in sessions.values(*fields, *(["runs"] if inline else [])).iterator(chunk_size=FULL_CHUNK):
        chunk.append(columns)
        if len(chunk) >= FULL_CHUNK:
            yield from exported(chunk)
            chunk = []
    if chunk:
        yield from exported(chunk)


def full_stream(sessions: QuerySet) -> Iterator[str]:
    """The JSON Lines of `full_sessions`, a few sessions per piece of the response."""
    for session in sessions:
        yield json.dumps(session, ensure_ascii=False, default=str) + "\n"


def export(sessions: QuerySet, fmt: str, on_end: Callable[[int, bool], None] | None = None) -> Iterator[str]:
    """The export of `sessions`. The query runs and its first row is read now, in the request (its source,
    and a database fault answered with the fault page: sessions_ui/faults.py); the rest as the response is sent.
    `on_end(rows, complete)` is told how many rows went out once the response ends (for the audit log).
    `fmt` "jsonl+runs": each session whole, with its runs (full_sessions)."""
    full = fmt == "jsonl+runs"
    rows = full_sessions(sessions) if full else export_rows(sessions).iterator(chunk_size=CHUNK)
    first = next(rows, None)
    sent = 0

    def counted(rows: Iterable) -> Iterator:
        nonlocal sent
        for row in rows:
            sent += 1
            yield row

    def lines() -> Iterator[str]:
        complete = False
        try:
            selected = [] if first is None else counted(chain([first], rows))
            yield from full_stream(selected) if full else stream(selected, fmt)
            complete = True
        finally:
            rows.close()  # the cursor, when the response ends early (a download cancelled)
            if on_end is not None:
                on_end(sent, complete)

    return lines()
