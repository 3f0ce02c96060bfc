"""How big a session is: its runs, its tokens and the bytes Agno stores for it, as SQL expressions.

The range filters (`runs_min`, `size_max`...) and the sorts by size, runs and tokens use these; the
list's size column adds the runs table's part for a page of sessions in one grouped query. The
stored size is the database's own (`StoredSize`: PostgreSQL's `pg_column_size`, SQLite's `length`) of
the session's JSON columns, its inline runs, and its rows' `run_data` in Agno 3.x's runs table.
"""

from __future__ import annotations

import re

from django.db.models import F, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce

from sessions_ui.queries.list_runs import StoredSize
from sessions_ui.queries.sql_json import (
    TOP_LEVEL_RUN_ROW,
    JSONNumber,
    inline_run_elements,
    inline_top_level_run,
    sqlite_json_document,
)
from sessions_ui.schema import has_inline_runs, has_runs_table
from sessions_ui.sources import current_source

# The session's columns whose stored size counts (its ids and times are a few bytes; `runs` is added
# where the column exists).
SIZED_COLUMNS = ("session_data", "agent_data", "team_data", "workflow_data", "metadata", "summary")
# Size units: k and KB are 1,000 bytes, KiB 1,024 (and so on for M, G); a plain number is bytes.
UNITS = {
    "": 1, "b": 1,
    "k": 1000, "kb": 1000, "kib": 1024,
    "m": 1000**2, "mb": 1000**2, "mib": 1024**2,
    "g": 1000**3, "gb": 1000**3, "gib": 1024**3,
}  # fmt: skip
SIZE_PATTERN = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*", re.IGNORECASE)
LARGEST = 2**62
# Sorting by runs counts the inline (Agno 2.x) runs of each session it sorts, from their blobs: of this
# many newest sessions at most (as `text` searches the runs of this many).
INLINE_RUNS_WINDOW = 1_000  # a bigint with room to spare: larger is no size any database stores


def parse_size(text: str) -> int | None:
    """Bytes from `10k`, `1.5MB`, `2MiB` or `4096` (see UNITS), None when it is none of those."""
    match = SIZE_PATTERN.fullmatch(text or "")
    if not match or match[2].lower() not in UNITS:
        return None
    size = int(float(match[1]) * UNITS[match[2].lower()])
    return size if size <= LARGEST else None


def human_size(size: int) -> str:
    """1.5 MiB, 12 KiB, 800 B: binary units, as the column's title gives the exact bytes."""
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= factor:
            return f"{size / factor:.1f}\xa0{unit}".replace(".0\xa0", "\xa0")
    return f"{size}\xa0B"


def total_tokens() -> JSONNumber:
    """The session's total tokens as the list shows them (session_metrics.total_tokens). Twin of
    `agno.decode_session(...).metrics.tokens`."""
    return JSONNumber("session_data", "session_metrics", "total_tokens")


def session_row_size() -> Coalesce:
    """The stored bytes of the session row's JSON columns and inline runs (each NULL counted as 0)."""
    columns = [*SIZED_COLUMNS, "runs"] if has_inline_runs() else list(SIZED_COLUMNS)
    total = None
    for column in columns:
        size = Coalesce(StoredSize(column), 0)
        total = size if total is None else total + size
    return total


def stored_size() -> Coalesce:
    """The stored bytes of the session and of its runs in either layout (the size column, size=, sort=size)."""
    size = session_row_size()
    if has_runs_table():
        runs = (
            current_source()
            .Run.objects.filter(session_id=OuterRef("session_id"))
            .order_by()
            .values("session_id")
            .annotate(size=Sum(StoredSize("run_data")))
            .values("size")
        )
        size = size + Coalesce(Subquery(runs, output_field=IntegerField()), 0)
    return size


def run_count() -> Coalesce | Value:
    """A session's top-level runs in either layout, as the list counts them (queries.runs.inline_stats and
    table_stats). The inline part reads the runs blob: callers bound the sessions it reads."""
    count = None
    if has_inline_runs():
        vendor = current_source().vendor
        document = "runs" if vendor == "postgresql" else sqlite_json_document("runs")
        inline = f"(SELECT count(*) FROM {inline_run_elements(vendor, document)} WHERE {inline_top_level_run(vendor)})"
        count = Coalesce(RawSQL(inline, (), output_field=IntegerField()), 0)
    if has_runs_table():
        rows = (
            current_source()
            .Run.objects.filter(TOP_LEVEL_RUN_ROW, session_id=OuterRef("session_id"))
            .order_by()
            .values("session_id")
            .annotate(n=Sum(Value(1)))
            .values("n")
        )
        table = Coalesce(Subquery(rows, output_field=IntegerField()), 0)
        count = table if count is None else count + table
    return count if count is not None else Value(0, output_field=IntegerField())


MEASURES = {"size": stored_size, "runs": run_count, "tokens": total_tokens}


def with_measure(queryset: QuerySet, name: str) -> tuple[QuerySet, F]:
    """`queryset` with the measure `name` (MEASURES) as an alias, and the F() that reads it."""
    alias = f"measured_{name}"
    return queryset.alias(**{alias: MEASURES[name]()}), F(alias)


def runs_table_sizes(session_ids: list[str]) -> dict[str, int]:
    """The stored bytes of each session's rows in the runs table, in one grouped query ({} without one)."""
    if not session_ids or not has_runs_table():
        return {}
    return dict(
        current_source()
        .Run.objects.filter(session_id__in=session_ids)
        .order_by()
        .values_list("session_id")
        .annotate(size=Sum(StoredSize("run_data")))
    )
