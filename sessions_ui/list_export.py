"""What the list's export writes: one line per session of the filtered list, as CSV or JSON Lines.

The lines are the list's columns, read as the list reads them (never the runs blob, never the large
component config), from a database cursor in chunks (`QuerySet.iterator`): exporting a million
sessions holds one chunk in memory and sends its first lines at once.
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

FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}
CHUNK = 2_000  # rows per database fetch, and per piece of the response
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
        .defer("agent_data", "team_data", "workflow_data", "summary")
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


def export(sessions: QuerySet, fmt: str, on_end: Callable[[int, bool], None] | None = None) -> Iterator[str]:
    """The export of `sessions`. The query runs and its first row is read now, in the request (its source,
    and a database fault answered with the fault page: sessions_ui/faults.py); the rest as the response is sent.
    `on_end(rows, complete)` is told how many rows went out once the response ends (for the audit log)."""
    rows = export_rows(sessions).iterator(chunk_size=CHUNK)
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
            yield from stream([] if first is None else counted(chain([first], rows)), fmt)
            complete = True
        finally:
            rows.close()  # the cursor, when the response ends early (a download cancelled)
            if on_end is not None:
                on_end(sent, complete)

    return lines()
