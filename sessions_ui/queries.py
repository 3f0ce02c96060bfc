"""Which rows: the queries behind the pages, kept off the views so each is written once."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from math import ceil

from django.conf import settings
from django.core.cache import cache
from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    Max,
    Min,
    Q,
    QuerySet,
    Sum,
    TextField,
    When,
)
from django.db.models.expressions import RawSQL

from sessions_ui import agno
from sessions_ui.models import AgnoRun, AgnoSession
from sessions_ui.schema import agno_connection, has_inline_runs, has_runs_table, quoted_table


def inline_runs(session_id: str) -> str | None:
    """The stored text of a session's Agno 2.x `runs` column, or None where the column does not exist."""
    if not has_inline_runs():
        return None
    row = AgnoSession.objects.filter(pk=session_id).values_list("runs", flat=True).first()
    return row


def run_rows(session_id: str) -> list[AgnoRun]:
    """A session's rows in the Agno 3.x runs table ([] when the table does not exist)."""
    if not has_runs_table():
        return []
    return list(AgnoRun.objects.using(settings.AGNO_DB_ALIAS).filter(session_id=session_id))


def session_runs(session_id: str) -> list[agno.Run] | agno.Malformed:
    """All runs of a session, merged from both layouts and nested (team member runs under their team run)."""
    return agno.decode_runs(inline_runs(session_id), run_rows(session_id))


def agno_vendor() -> str:
    return agno_connection().vendor


def _inline_top_level_runs_sql(vendor: str) -> str:
    """Top-level entries (no parent_run_id) of the 2.x inline `runs` column, counted by the database."""
    if vendor == "postgresql":
        return (
            "(SELECT count(*) FROM jsonb_array_elements("
            "CASE WHEN jsonb_typeof(runs::jsonb) = 'array' THEN runs::jsonb ELSE '[]'::jsonb END) AS item"
            " WHERE jsonb_typeof(item) = 'object' AND coalesce(item ->> 'parent_run_id', '') = ''"
            f"{_not_in_runs_table(vendor, 'item')})"
        )
    document = sqlite_json_document("runs")
    return (
        f"(SELECT count(*) FROM json_each(CASE WHEN json_type({document}) = 'array' THEN {document} END) AS item"
        " WHERE CASE WHEN item.type = 'object' THEN coalesce(json_extract(item.value, '$.parent_run_id'), '') = ''"
        f"{_not_in_runs_table(vendor, 'item.value')} END)"
    )


def _not_in_runs_table(vendor: str, run: str) -> str:
    """SQL condition: the inline run has no copy in the 3.x runs table.

    Agno 3.x's migration copies inline runs into the runs table and keeps the column as a backup, so
    counting both layouts would count those runs twice; like Agno, the table's copy is the one.
    """
    if not has_runs_table():
        return ""
    run_id = f"{run} ->> 'run_id'" if vendor == "postgresql" else f"json_extract({run}, '$.run_id')"
    return (
        f" AND NOT EXISTS (SELECT 1 FROM {quoted_table(settings.AGNO_RUNS_TABLE)} AS copy WHERE copy.run_id = {run_id})"
    )


def run_total(sessions: QuerySet) -> int:
    """Top-level runs of all `sessions` (any number of them), counted in SQL: no runs blob is loaded."""
    total = 0
    if has_inline_runs():
        inline = RawSQL(_inline_top_level_runs_sql(agno_vendor()), (), output_field=IntegerField())
        total += sessions.order_by().aggregate(n=Sum(inline))["n"] or 0
    if has_runs_table():
        total += (
            AgnoRun.objects.using(settings.AGNO_DB_ALIAS)
            .filter(session_id__in=sessions.values("pk"))
            .filter(Q(parent_run_id__isnull=True) | Q(parent_run_id=""))
            .count()
        )
    return total


# --- The list page: one page of rows and what its cells need, in a fixed number of queries. ---

LIST_PAGE_SIZE = 50
COUNT_CAP = 10_000  # beyond this the list says "10,000+" instead of counting every matching row
DEEP_OFFSET = 10_000  # from this many rows in, a page is read from whichever end of the order is nearer
NEWEST_WINDOW = 10_000  # a search first looks for its page among this many newest sessions
NEWEST_SECONDS = 60
MAX_PAGE = 1_000_000
PREVIEW_RUNS = 5
CHOICE_COLUMNS = ("agent_id", "team_id", "workflow_id", "user_id")
CHOICES_LIMIT = 100
CHOICES_SECONDS = 300
USER_INLINE_RUNS_CAP = 2_000


def sqlite_json_document(column: str) -> str:
    """SQL for a stored value as plain JSON text (Agno 2.x's double encoding unwrapped), NULL if unreadable.

    SQLite's JSON functions raise on malformed text, which would fail the whole page: validate first.
    """
    return (
        f"CASE WHEN json_valid({column}) THEN CASE WHEN json_type({column}) = 'text'"
        f" THEN CASE WHEN json_valid(json_extract({column}, '$')) THEN json_extract({column}, '$') END"
        f" ELSE {column} END END"
    )


def json_value_sql(vendor: str, column: str, path: tuple[str, ...], *, number: bool = False) -> str:
    """SQL reading a key path of a stored JSON column: text (or a number), NULL when absent or unreadable."""
    if vendor == "postgresql":
        parents = "".join(f" -> '{key}'" for key in path[:-1])
        if number:
            value = f"{column}::jsonb{parents} -> '{path[-1]}'"
            return f"(CASE WHEN jsonb_typeof({value}) = 'number' THEN ({column}::jsonb{parents} ->> '{path[-1]}')::numeric END)"
        return f"({column}::jsonb{parents} ->> '{path[-1]}')"
    document, json_path = sqlite_json_document(column), "$." + ".".join(path)
    if number:
        # As a bounded REAL: SQLite's SUM raises on integer overflow, and reads 1e999 as infinity.
        return (
            f"(CASE WHEN json_type({document}, '{json_path}') IN ('integer', 'real')"
            f" AND abs(json_extract({document}, '{json_path}')) < 1e18"
            f" THEN CAST(json_extract({document}, '{json_path}') AS REAL) END)"
        )
    return f"json_extract({document}, '{json_path}')"


class JSONText(Func):
    """A key path of a stored JSON column as text; NULL, never an SQL error, on any stored shape."""

    output_field = TextField()
    number = False

    def __init__(self, column: str, *path: str):
        if not all(key.isidentifier() for key in path):
            raise ValueError(f"JSON keys are written into the SQL: {path!r} must be plain identifiers")
        super().__init__(F(column))
        self.path = path

    def as_sql(self, compiler, connection, **extra_context):
        column, params = compiler.compile(self.get_source_expressions()[0])
        if params:
            raise ValueError("JSONText reads a column, not an expression with parameters")
        return json_value_sql(connection.vendor, column, self.path, number=self.number), []


class JSONNumber(JSONText):
    """A key path of a stored JSON column when it holds a number, else NULL."""

    output_field = IntegerField()
    number = True


class Unindexed(Func):
    """A column that SQLite's planner may not use an index for (`+column`); the column itself elsewhere.

    Without statistics, SQLite answers `session_type = ? ORDER BY created_at` by sorting every row
    of that type; kept off that index it walks created_at's and stops after one page.
    """

    template = "%(expressions)s"

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template="+%(expressions)s", **extra_context)


def component_name() -> Case:
    """The name of the agent, team or workflow that owns the session, read in SQL from its *_data column."""
    return Case(
        When(session_type="team", then=JSONText("team_data", "name")),
        When(session_type="workflow", then=JSONText("workflow_data", "name")),
        default=JSONText("agent_data", "name"),
    )


@dataclass
class ListRow:
    session: agno.Session
    component_name: str
    runs: int | None  # None: the stored runs could not be counted without loading them

    @property
    def malformed_data(self) -> agno.Malformed | None:
        data = self.session.session_data
        return data if isinstance(data, agno.Malformed) else None

    @property
    def malformed_summary(self) -> agno.Malformed | None:
        summary = self.session.summary
        return summary if isinstance(summary, agno.Malformed) else None


@dataclass
class ListPage:
    rows: list[ListRow]
    number: int
    has_next: bool
    total: int
    # "exact", "at least" (counting stopped at COUNT_CAP), "about" (PostgreSQL's estimate) or
    # "pending" (more than `total` rows match; `list_total` counts them, asked for separately)
    total_is: str
    past_end: bool = False  # the requested page is beyond the last one
    per_page: int = LIST_PAGE_SIZE

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.rows else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.rows)

    @property
    def previous_number(self) -> int:
        return self.number - 1

    @property
    def next_number(self) -> int:
        return self.number + 1

    @property
    def last_number(self) -> int | None:
        return max(1, ceil(self.total / self.per_page)) if self.total_is == "exact" else None


def list_page(sessions: QuerySet, number: int, *, filtered: bool, newest_window: bool = False) -> ListPage:
    """One page of `sessions` (filtered and ordered), fast at a million rows.

    Reads one row more than a page to know whether a next page exists, and counts only what is
    cheap: nothing when the page tells, else when unfiltered PostgreSQL's estimate or at most
    COUNT_CAP + 1 rows of an index. A filtered count reads every row it counts, so it is left
    "pending" for `list_total`, which the page asks for once its rows are shown.
    `newest_window` (the sessions are a search, newest first): see `_newest_rows`.
    """
    if (number - 1) * LIST_PAGE_SIZE >= DEEP_OFFSET:
        return _deep_page(sessions, number)
    rows = _newest_rows(sessions, number) if newest_window else None
    if rows is None:
        rows = _page_rows(sessions, number)
    past_end = not rows and number > 1
    if past_end:
        total, total_is = list_total(sessions, filtered=filtered)
        if total_is == "exact" and total:
            number = ceil(total / LIST_PAGE_SIZE)
            rows = _page_rows(sessions, number)
    has_next = len(rows) > LIST_PAGE_SIZE
    rows = rows[:LIST_PAGE_SIZE]
    seen = (number - 1) * LIST_PAGE_SIZE + len(rows)
    if not past_end:
        if rows and not has_next:
            total, total_is = seen, "exact"
        elif filtered:
            total, total_is = seen, "pending"
        else:
            total, total_is = list_total(sessions, filtered=False, seen=seen)
    return ListPage(
        rows=list_rows(rows),
        number=number,
        has_next=has_next,
        total=total,
        total_is=total_is,
        past_end=past_end,
        per_page=LIST_PAGE_SIZE,
    )


def _page_rows(sessions: QuerySet, number: int) -> list[AgnoSession]:
    """The rows of page `number`, and the first row of the next page if there is one."""
    offset = (number - 1) * LIST_PAGE_SIZE
    return _rows_at(sessions, offset, offset + LIST_PAGE_SIZE + 1)


def _rows_at(sessions: QuerySet, start: int, stop: int) -> list[AgnoSession]:
    """Rows `start` to `stop` of `sessions`, in order.

    Past the first rows, the keys of those rows are found first and then only they are read: an
    OFFSET over the list's columns computes them (decoding JSON) for every row it skips.
    """
    if start == 0:
        return list(_list_columns(sessions)[:stop])
    keys = list(sessions.values_list("pk", flat=True)[start:stop])
    rows = {row.pk: row for row in _list_columns(AgnoSession.objects.filter(pk__in=keys))}
    return [rows[key] for key in keys if key in rows]  # a row deleted in between is left out


def _list_columns(sessions: QuerySet) -> QuerySet:
    page = (
        sessions.for_list().defer("agent_data", "team_data", "workflow_data").annotate(component_name=component_name())
    )
    if has_inline_runs():
        # Whether there is anything to count inline (a null test reads no blob): Agno 3.x nulls the column.
        page = page.annotate(stores_inline_runs=ExpressionWrapper(Q(runs__isnull=False), output_field=BooleanField()))
    return page


def _deep_page(sessions: QuerySet, number: int) -> ListPage:
    """Page `number`, at least DEEP_OFFSET rows in: counted exactly, and read from the nearer end.

    OFFSET reads and sorts every row it skips (seconds at a million rows), so a page in the second
    half is read in the reverse order from the end (the last page of a million rows: one row read
    instead of a million). The exact count this needs costs less than the rows it saves skipping,
    and gives the pager its last page.
    """
    total = sessions.order_by().count()
    last = max(1, ceil(total / LIST_PAGE_SIZE))
    past_end = number > last
    number = min(number, last)
    offset = (number - 1) * LIST_PAGE_SIZE
    end = min(offset + LIST_PAGE_SIZE, total)
    if offset < total - end:
        rows = _rows_at(sessions, offset, end)
    else:
        rows = _rows_at(sessions.reverse(), total - end, total - offset)[::-1]
    return ListPage(
        rows=list_rows(rows),
        number=number,
        has_next=number < last,
        total=total,
        total_is="exact",
        past_end=past_end,
        per_page=LIST_PAGE_SIZE,
    )


def _newest_rows(sessions: QuerySet, number: int) -> list[AgnoSession] | None:
    """The page, newest first, if the NEWEST_WINDOW newest sessions hold all of it (and one more), else None.

    A search tests every row it reads. Walking created_at's index, a frequent term fills a page
    after a few hundred rows, but a rare one reads the whole table in random order (seconds at a
    million rows): so the walk stops at the window, and beyond it the caller's query scans instead.
    Any bound gives the right rows (all that are older sort after the window's), so it is cached.
    """
    key = f"sessions_ui:newest:{settings.AGNO_DB_ALIAS}:{settings.AGNO_SESSION_TABLE}"
    bound = cache.get_or_set(key, _newest_bound, NEWEST_SECONDS)
    window = sessions.filter(created_at__gte=bound) if bound is not None else sessions
    with _walking_the_index():
        rows = _page_rows(window.order_by("-created_at", "session_id"), number)
    return rows if len(rows) > LIST_PAGE_SIZE or bound is None else None


def _newest_bound() -> int | None:
    """created_at of the NEWEST_WINDOW-th newest session, None when there are fewer."""
    newest = AgnoSession.objects.order_by("-created_at").values_list("created_at", flat=True)
    return next(iter(newest[NEWEST_WINDOW - 1 : NEWEST_WINDOW]), None)


@contextmanager
def _walking_the_index():
    """On PostgreSQL, no bitmap scans: the planner cannot estimate how many rows a search matches,
    guesses a few, and would read every row of the window, where walking created_at's index stops
    once the page is full (3 instead of 15 ms for a term in one session of twenty, at a million rows)."""
    if agno_vendor() != "postgresql":
        yield
        return
    with agno_connection().cursor() as cursor:
        cursor.execute("SET enable_bitmapscan = off")
        try:
            yield
        finally:
            cursor.execute("RESET enable_bitmapscan")


def list_total(sessions: QuerySet, *, filtered: bool, seen: int = 0) -> tuple[int, str]:
    """How many `sessions` there are, as (total, total_is): see ListPage.total_is."""
    if not filtered and agno_vendor() == "postgresql":
        key = f"sessions_ui:estimate:{settings.AGNO_DB_ALIAS}:{settings.AGNO_SESSION_TABLE}"
        estimate = cache.get_or_set(key, _planner_estimate, NEWEST_SECONDS)
        if estimate > COUNT_CAP:
            return max(estimate, seen), "about"
    count = sessions.order_by()[: COUNT_CAP + 1].count()
    if count > COUNT_CAP:
        return max(COUNT_CAP, seen), "at least"
    return count, "exact"


def counted_page(sessions: QuerySet, number: int, *, filtered: bool) -> ListPage:
    """What page `number` says once `sessions` are counted: its "of N" and pager (its rows were shown already)."""
    total, total_is = list_total(sessions, filtered=filtered)
    has_next = total_is != "exact" or total > number * LIST_PAGE_SIZE
    return ListPage(rows=[], number=number, has_next=has_next, total=total, total_is=total_is, per_page=LIST_PAGE_SIZE)


def _planner_estimate() -> int:
    """PostgreSQL's row count estimate for the session table (updated by ANALYZE, so cached a while)."""
    with agno_connection().cursor() as cursor:
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)", [quoted_table(settings.AGNO_SESSION_TABLE)]
        )
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] and row[0] > 0 else 0


def list_rows(rows: list[AgnoSession]) -> list[ListRow]:
    """Decode a page of rows; run counts and the name fallback come from `page_runs`, in SQL."""
    sessions = [agno.decode_session(row) for row in rows]
    unnamed = {session.session_id for session in sessions if not session.name}
    inline = {row.pk for row in rows if getattr(row, "stores_inline_runs", True)}
    runs = page_runs([session.session_id for session in sessions], unnamed, inline=inline)
    result = []
    for row, session in zip(rows, sessions, strict=True):
        count, first_input = runs[session.session_id]
        session.name = session.name or first_input.strip()
        result.append(ListRow(session=session, component_name=str(row.component_name or ""), runs=count))
    return result


def page_runs(
    session_ids: list[str], unnamed: set[str], *, inline: set[str] | None = None
) -> dict[str, tuple[int | None, str]]:
    """(top-level run count, first user input) of each session, in one query per run layout.

    The first input is the name AgentOS shows for a session without one; it is read only for
    `unnamed`. The count is None where the inline runs cannot be read (malformed JSON). `inline`:
    the sessions whose inline `runs` column is not NULL, when the caller knows (the others have none).
    """
    stats: dict[str, tuple[int | None, str]] = dict.fromkeys(session_ids, (0, ""))
    if not session_ids:
        return stats
    connection = agno_connection()
    with connection.cursor() as cursor:
        inline_ids = (
            session_ids if inline is None else [session_id for session_id in session_ids if session_id in inline]
        )
        if has_inline_runs() and inline_ids:
            cursor.execute(*_inline_runs_sql(connection.vendor, inline_ids, unnamed))
            for session_id, count, first_input in cursor.fetchall():
                stats[session_id] = (count, _text(first_input))
        if has_runs_table():
            cursor.execute(*_run_rows_sql(connection.vendor, session_ids, unnamed))
            for session_id, count, first_input in cursor.fetchall():
                inline_count, inline_input = stats[session_id]
                stats[session_id] = (
                    None if inline_count is None else inline_count + count,
                    inline_input or _text(first_input),
                )
    return stats


def _text(value) -> str:
    return "" if value is None else str(value)


def _placeholders(values) -> str:
    return ", ".join(["%s"] * len(values))


def _run_input_sql(vendor: str, run: str) -> str:
    """SQL: a run's input, `input.input_content` (agent and team runs) or `input` itself (workflow runs)."""
    if vendor == "postgresql":
        return (
            f"CASE jsonb_typeof({run} -> 'input') WHEN 'string' THEN {run} ->> 'input'"
            f" ELSE {run} -> 'input' ->> 'input_content' END"
        )
    return (
        f"CASE json_type({run}, '$.input') WHEN 'text' THEN json_extract({run}, '$.input')"
        f" ELSE json_extract({run}, '$.input.input_content') END"
    )


def _inline_runs_sql(vendor: str, session_ids: list[str], unnamed: set[str]) -> tuple[str, list]:
    table = quoted_table(settings.AGNO_SESSION_TABLE)
    unnamed_ids = sorted(unnamed)
    if vendor == "postgresql":
        top_level = f"jsonb_typeof(item) = 'object' AND coalesce(item ->> 'parent_run_id', '') = ''{_not_in_runs_table(vendor, 'item')}"
        first_input = (
            f"CASE WHEN session_id IN ({_placeholders(unnamed_ids)}) AND jsonb_typeof(runs::jsonb) = 'array'"
            f" THEN (SELECT {_run_input_sql(vendor, 'item')} FROM jsonb_array_elements(runs::jsonb)"
            f" WITH ORDINALITY AS element(item, position) WHERE {top_level} ORDER BY position LIMIT 1) END"
            if unnamed_ids
            else "NULL"
        )
        sql = (
            "SELECT session_id, CASE WHEN runs IS NULL OR jsonb_typeof(runs::jsonb) = 'null' THEN 0"
            " WHEN jsonb_typeof(runs::jsonb) = 'array' THEN"
            f" (SELECT count(*) FROM jsonb_array_elements(runs::jsonb) AS element(item) WHERE {top_level}) END,"
            f" {first_input} FROM {table} WHERE session_id IN ({_placeholders(session_ids)})"
        )
        return sql, [*unnamed_ids, *session_ids]
    top_level = (
        "CASE WHEN item.type = 'object' THEN coalesce(json_extract(item.value, '$.parent_run_id'), '') = ''"
        f"{_not_in_runs_table(vendor, 'item.value')} END"
    )
    first_input = (
        f"CASE WHEN session_id IN ({_placeholders(unnamed_ids)}) AND json_type(document) = 'array'"
        f" THEN (SELECT {_run_input_sql(vendor, 'item.value')} FROM json_each(document) AS item"
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
        f" (SELECT count(*) FROM json_each(document) AS item WHERE {top_level}) END, {first_input} FROM page"
    )
    return sql, [*session_ids, *unnamed_ids]


def _run_rows_sql(vendor: str, session_ids: list[str], unnamed: set[str]) -> tuple[str, list]:
    runs = quoted_table(settings.AGNO_RUNS_TABLE)
    unnamed_ids = sorted(unnamed)
    top_level = f"session_id IN ({_placeholders(session_ids)}) AND coalesce(parent_run_id, '') = ''"
    if not unnamed_ids:
        return f"SELECT session_id, COUNT(*), NULL FROM {runs} WHERE {top_level} GROUP BY session_id", session_ids
    run_data = "run.run_data::jsonb" if vendor == "postgresql" else f"({sqlite_json_document('run.run_data')})"
    first_input = (
        f"CASE WHEN first.session_id IN ({_placeholders(unnamed_ids)}) THEN {_run_input_sql(vendor, run_data)} END"
    )
    sql = (
        f"SELECT first.session_id, first.runs, {first_input} FROM (SELECT session_id, run_id,"
        " COUNT(*) OVER (PARTITION BY session_id) AS runs, ROW_NUMBER() OVER (PARTITION BY session_id"
        f" ORDER BY run_index IS NULL, run_index, created_at, run_id) AS position FROM {runs} WHERE {top_level})"
        f" AS first JOIN {runs} AS run ON run.run_id = first.run_id WHERE first.position = 1"
    )
    return sql, [*unnamed_ids, *session_ids]


def preview_runs(session_id: str) -> list[agno.Run]:
    """The first top-level runs of a session, decoded, without loading the others (for the list's expansion)."""
    limit = PREVIEW_RUNS
    inline = []
    connection = agno_connection()
    if has_inline_runs():
        table = quoted_table(settings.AGNO_SESSION_TABLE)
        if connection.vendor == "postgresql":
            sql = (
                f"SELECT element.item::text FROM {table} AS session CROSS JOIN LATERAL jsonb_array_elements("
                "CASE WHEN jsonb_typeof(session.runs::jsonb) = 'array' THEN session.runs::jsonb ELSE '[]'::jsonb END)"
                " WITH ORDINALITY AS element(item, position) WHERE session.session_id = %s"
                " AND jsonb_typeof(element.item) = 'object' AND coalesce(element.item ->> 'parent_run_id', '') = ''"
                " ORDER BY element.position LIMIT %s"
            )
        else:
            sql = (
                f"WITH page AS MATERIALIZED (SELECT {sqlite_json_document('runs')} AS document FROM {table}"
                " WHERE session_id = %s) SELECT item.value FROM page, json_each(CASE WHEN json_type(page.document)"
                " = 'array' THEN page.document ELSE '[]' END) AS item WHERE CASE WHEN item.type = 'object'"
                " THEN coalesce(json_extract(item.value, '$.parent_run_id'), '') = '' END ORDER BY item.key LIMIT %s"
            )
        with connection.cursor() as cursor:
            cursor.execute(sql, [session_id, limit])
            inline = [agno.decode_json(text) for (text,) in cursor.fetchall()]
    rows = []
    if has_runs_table():
        rows = list(
            AgnoRun.objects.using(settings.AGNO_DB_ALIAS)
            .filter(Q(parent_run_id__isnull=True) | Q(parent_run_id=""), session_id=session_id)
            .order_by("run_index", "created_at", "run_id")[:limit]
        )
    runs = agno.decode_runs(inline, rows)
    return [] if isinstance(runs, agno.Malformed) else runs[:limit]


def _choices_key() -> str:
    return f"sessions_ui:choices:{settings.AGNO_DB_ALIAS}:{settings.AGNO_SESSION_TABLE}"


def cached_filter_choices() -> dict[str, list[tuple[str, int]]] | None:
    """The filter choices if they were counted recently, without touching the database."""
    return cache.get(_choices_key())


def filter_choices() -> dict[str, list[tuple[str, int]]]:
    """The most frequent values of each filter column with their session counts, cached for a few minutes.

    Each is a GROUP BY over the whole table (Agno indexes none of these columns), so the list page
    never waits for them: the page asks for them separately, and a full page only shows cached ones.
    """

    def count() -> dict[str, list[tuple[str, int]]]:
        return {
            column: list(
                AgnoSession.objects.exclude(**{column: None})
                .exclude(**{column: ""})
                .order_by()
                .values_list(column)
                .annotate(sessions=Count("*"))
                .order_by("-sessions", column)[:CHOICES_LIMIT]
            )
            for column in CHOICE_COLUMNS
        }

    return cache.get_or_set(_choices_key(), count, CHOICES_SECONDS)


@dataclass
class UserTotals:
    sessions: int
    runs: int | None  # None: too many sessions with inline (Agno 2.x) runs to count them quickly
    tokens: int
    first_seen: datetime | None
    last_seen: datetime | None


def user_totals(user_id: str) -> UserTotals:
    """Totals over all sessions of one user: one aggregate query, plus the run count."""
    sessions = AgnoSession.objects.filter(user_id=user_id).order_by()
    totals = sessions.aggregate(
        sessions=Count("pk"),
        first=Min("created_at"),
        last_created=Max("created_at"),
        last_updated=Max("updated_at"),
        tokens=Sum(JSONNumber("session_data", "session_metrics", "total_tokens")),
    )
    runs = None
    inline_blobs = sessions.filter(runs__isnull=False)[: USER_INLINE_RUNS_CAP + 1].count() if has_inline_runs() else 0
    if inline_blobs <= USER_INLINE_RUNS_CAP:
        runs = run_total(sessions)
    last = max((value for value in (totals["last_created"], totals["last_updated"]) if value is not None), default=None)
    return UserTotals(
        sessions=totals["sessions"],
        runs=runs,
        tokens=int(totals["tokens"] or 0),
        first_seen=agno.epoch_to_datetime(totals["first"]),
        last_seen=agno.epoch_to_datetime(last),
    )


# The detail page: a session's runs, a page at a time. On PostgreSQL the runs are merged, nested,
# paged and previewed in SQL, so a page of a 10 MB session ships a few kilobytes to Python; SQLite,
# the small embedded case, decodes them in Python.


@dataclass
class StoredRun:
    """A runs-table row as `agno.decode_runs` reads it (run_data may be a preview of the stored run)."""

    run_id: str
    run_type: str | None
    parent_run_id: str | None
    status: str | None
    run_index: int | None
    created_at: float | None
    run_data: str


def run_timeline(session_id: str) -> DecodedRunTimeline | SQLRunTimeline:
    """The session's top-level runs in order, for a Paginator, each with its member runs nested."""
    if agno_vendor() == "postgresql":
        return SQLRunTimeline(session_id)
    return DecodedRunTimeline(session_id)


class DecodedRunTimeline:
    """Every run decoded in Python: SQLite, and inline runs stored in a form SQL cannot slice."""

    def __init__(self, session_id: str):
        self.session_id = session_id

    @cached_property
    def _decoded(self) -> tuple[list[agno.Run], agno.Malformed | None]:
        rows = run_rows(self.session_id)
        runs = agno.decode_runs(inline_runs(self.session_id), rows)
        if isinstance(runs, agno.Malformed):
            # The inline column is unreadable: say so, and still show the runs-table rows.
            return agno.decode_runs(None, rows), runs
        return runs, None

    @property
    def malformed(self) -> agno.Malformed | None:
        return self._decoded[1]

    def count(self) -> int:
        return len(self._decoded[0])

    def __getitem__(self, key: slice) -> list[agno.Run]:
        return self._decoded[0][key]

    def position(self, run_id: str) -> int | None:
        """Index of the top-level run that is, or contains, `run_id`."""
        for position, run in enumerate(self._decoded[0]):
            if agno.run_path([run], run_id):
                return position
        return None

    def tree(self, run_id: str) -> agno.Run | None:
        """One run with all its content, and its member runs."""
        path = agno.run_path(self._decoded[0], run_id)
        return path[-1] if path else None


def _sql_text(value: str, limit: int) -> str:
    """SQL: a jsonb value as text (strings unquoted, JSON null as NULL), cut to `limit` characters."""
    return (
        f"left(CASE jsonb_typeof({value}) WHEN 'string' THEN {value} #>> '{{}}'"
        f" WHEN 'null' THEN NULL ELSE ({value})::text END, {limit})"
    )


def _sql_array(value: str) -> str:
    return f"CASE WHEN jsonb_typeof({value}) = 'array' THEN {value} ELSE '[]'::jsonb END"


def _sql_epoch_seconds(value: str) -> str:
    """SQL: a created_at (seconds, milliseconds or a numeric string) as seconds, 0 when unreadable, as Python orders."""
    number = (
        f"CASE WHEN jsonb_typeof({value}) = 'number' THEN ({value})::numeric"
        f" WHEN ({value} #>> '{{}}') ~ '^-?[0-9]+(\\.[0-9]+)?$' THEN ({value} #>> '{{}}')::numeric END"
    )
    return f"COALESCE(CASE WHEN {number} > 1e11 THEN {number} / 1000 ELSE {number} END, 0)"


PREVIEW_KEYS = ("run_id", "parent_run_id", "status", "agent_name", "team_name", "workflow_name", "model", "created_at")


def _sql_run_preview(data: str, *, embedded: bool = True) -> str:
    """SQL: what a collapsed run shows, as a small run dict that `agno.decode_run` reads like any other."""
    first_user_message = (
        f"jsonb_path_query_first({data}, '$.messages[*] ? (@.role == \"user\" && !(@.from_history == true)).content')"
    )
    fields = {key: f"{data} -> '{key}'" for key in PREVIEW_KEYS}
    fields["metrics"] = f"{data} -> 'metrics'"
    input_content = _sql_text(f"{data} #> '{{input,input_content}}'", 300)
    fields["input"] = (
        f"to_jsonb(COALESCE(NULLIF({input_content}, ''),"
        f" left(CASE WHEN jsonb_typeof({data} -> 'input') = 'string' THEN {data} ->> 'input' END, 300),"
        f" {_sql_text(first_user_message, 300)}))"
    )
    content = _sql_text(f"{data} -> 'content'", 400)
    fields["content"] = f"to_jsonb({content})"
    # Whether there are steps tells a workflow run; a collapsed run does not show them.
    fields["step_results"] = f"CASE WHEN {data} -> 'step_results' IS NOT NULL THEN '[]'::jsonb END"
    if embedded:
        # Runs embedded in member_responses go without tool names: a subquery per member run per
        # run makes PostgreSQL's estimate large enough to JIT-compile the query, slower than running it.
        tools = _sql_array(f"{data} -> 'tools'")
        fields["tools"] = (
            "(SELECT jsonb_agg(jsonb_build_object('tool_name', t.value -> 'tool_name',"
            f" 'tool_call_error', t.value -> 'tool_call_error')) FROM jsonb_array_elements({tools}) AS t(value))"
        )
        for key in ("member_responses", "step_executor_runs"):
            members = _sql_array(f"{data} -> '{key}'")
            fields[key] = (
                f"(SELECT jsonb_agg({_sql_run_preview('m.value', embedded=False)})"
                f" FROM jsonb_array_elements({members}) AS m(value))"
            )
    pairs = ", ".join(f"'{key}', {value}" for key, value in fields.items())
    return (
        f"CASE WHEN jsonb_typeof({data}) = 'object' THEN jsonb_strip_nulls(jsonb_build_object({pairs})) ELSE {data} END"
    )


class SQLRunTimeline:
    """PostgreSQL: both layouts merged, de-duplicated, nested and paged in SQL.

    The common table expressions work on the keys of the stored runs, never their content:
    `keys` (inline array elements and runs-table rows; `ref` names the stored entry), `merged`
    (each run_id once, the first in timeline order, as `agno.nest_runs` keeps it) and `top` (runs
    that are no other run's member). Content is read only for the runs a query returns.
    """

    def __init__(self, session_id: str):
        self.session_id = session_id
        self.sessions = quoted_table(settings.AGNO_SESSION_TABLE)
        self.runs = quoted_table(settings.AGNO_RUNS_TABLE)

    @cached_property
    def _counted(self) -> tuple[int, DecodedRunTimeline | None]:
        """(top-level runs, the Python fallback for inline runs stored as anything but a JSON array)."""
        if not self._sources():
            return 0, None
        # Only when no inline run was found: reading the type of a blob of runs decompresses all of it.
        inline_kind = (
            "CASE WHEN NOT EXISTS (SELECT 1 FROM keys WHERE layout = 0) THEN"
            f" (SELECT jsonb_typeof(runs) FROM {self.sessions} WHERE session_id = %(session_id)s) END"
            if has_inline_runs()
            else "NULL"
        )
        count, kind = self._fetch(f"WITH {self._ctes()} SELECT (SELECT count(*) FROM top), {inline_kind}")[0]
        if kind in (None, "array", "null"):
            return count, None
        return 0, DecodedRunTimeline(self.session_id)

    @property
    def _fallback(self) -> DecodedRunTimeline | None:
        return self._counted[1]

    @property
    def malformed(self) -> agno.Malformed | None:
        return self._fallback.malformed if self._fallback else None

    def count(self) -> int:
        return self._fallback.count() if self._fallback else self._counted[0]

    def __getitem__(self, key: slice) -> list[agno.Run]:
        if self._fallback:
            return self._fallback[key]
        start, stop = key.start or 0, key.stop
        if not self._sources() or (stop is not None and stop <= start):
            return []
        limit = "ALL" if stop is None else int(stop - start)
        # Two steps: which runs (the page and its members' members...), then their previews. In one
        # query PostgreSQL's row estimates for the previews get large enough to JIT-compile it.
        refs = [
            ref
            for (ref,) in self._fetch(
                f"WITH RECURSIVE {self._ctes()},"
                f" page AS (SELECT * FROM top ORDER BY created, layout, idx, run_id LIMIT {limit} OFFSET {int(start)}),"
                " members AS (SELECT c.ref, c.run_id, 1 AS depth FROM merged c"
                "  JOIN page p ON c.parent_run_id = p.run_id AND c.run_id IS DISTINCT FROM p.run_id"
                "  UNION ALL SELECT c.ref, c.run_id, m.depth + 1 FROM merged c"
                "  JOIN members m ON c.parent_run_id = m.run_id AND c.run_id IS DISTINCT FROM m.run_id"
                "  WHERE m.depth < 10)"
                " SELECT ref FROM page UNION ALL SELECT ref FROM members"
            )
        ]
        return self._runs("", "ref = ANY(%(refs)s)", _sql_run_preview, refs=refs) if refs else []

    def position(self, run_id: str) -> int | None:
        """Index of the top-level run that is, or contains, `run_id`."""
        if self._fallback:
            return self._fallback.position(run_id)
        if not self._sources() or "\x00" in run_id:  # PostgreSQL stores no NUL: no such run
            return None
        sql = (
            f"WITH RECURSIVE {self._ctes()},"
            " ranked AS (SELECT run_id, row_number() OVER (ORDER BY created, layout, idx, run_id) - 1 AS position"
            "  FROM top),"
            f" up AS (SELECT run_id, parent_run_id, 0 AS depth FROM merged WHERE {self._target()}"
            "  UNION ALL SELECT m.run_id, m.parent_run_id, u.depth + 1 FROM merged m"
            "  JOIN up u ON m.run_id = u.parent_run_id WHERE u.depth < 10)"
            " SELECT min(r.position) FROM ranked r JOIN up u ON r.run_id = u.run_id"
        )
        return self._fetch(sql, run_id=run_id)[0][0]

    def tree(self, run_id: str) -> agno.Run | None:
        """One run with all its content, and its member runs."""
        if self._fallback:
            return self._fallback.tree(run_id)
        if not self._sources() or "\x00" in run_id:
            return None
        chosen = (
            f", chosen AS (SELECT ref, run_id, 0 AS depth FROM merged WHERE {self._target()}"
            "  UNION ALL SELECT c.ref, c.run_id, t.depth + 1 FROM merged c"
            "  JOIN chosen t ON c.parent_run_id = t.run_id AND c.run_id IS DISTINCT FROM t.run_id WHERE t.depth < 10)"
        )
        runs = self._runs(chosen, "ref IN (SELECT ref FROM chosen)", lambda data: data, run_id=run_id)
        path = agno.run_path(runs, run_id)
        return path[-1] if path else None

    def _sources(self) -> dict[str, str]:
        """SQL per layout present: the session's stored runs as (layout, idx, ref, data, runs-table columns)."""
        sources = {}
        if has_inline_runs():
            sources["inline"] = (
                "SELECT 0 AS layout, e.idx, 'i' || e.idx AS ref, e.data, NULL::text AS run_id,"
                " NULL::text AS parent_run_id, NULL::bigint AS created_at, NULL::text AS run_type, NULL::text AS status"
                # The elements of an array, none of anything else (strict, silent), in one pass over the
                # blob: a jsonb_typeof test before jsonb_array_elements would decompress it twice.
                f" FROM {self.sessions} s CROSS JOIN LATERAL jsonb_path_query(s.runs, 'strict $[*]', '{{}}', true)"
                " WITH ORDINALITY AS e(data, idx) WHERE s.session_id = %(session_id)s"
            )
        if has_runs_table():
            sources["table"] = (
                "SELECT 1 AS layout, r.run_index AS idx, 'r' || r.run_id AS ref, r.run_data AS data, r.run_id::text,"
                " r.parent_run_id::text, r.created_at, r.run_type::text, r.status::text"
                f" FROM {self.runs} r WHERE r.session_id = %(session_id)s"
            )
        return sources

    def _ctes(self) -> str:
        created = _sql_epoch_seconds("CASE WHEN layout = 0 THEN data -> 'created_at' ELSE to_jsonb(created_at) END")
        # Like agno.decode_runs: a run's own run_id and parent_run_id, the columns for runs-table rows.
        unique = "COALESCE(run_id, ref)"
        return (
            " keys AS (SELECT layout, COALESCE(idx, 0) AS idx, ref,"
            "  COALESCE(run_id, NULLIF(data ->> 'run_id', '')) AS run_id,"
            "  COALESCE(NULLIF(data ->> 'parent_run_id', ''), NULLIF(parent_run_id, '')) AS parent_run_id,"
            f"  {created} AS created FROM ({self._stored()}) s),"
            f" merged AS (SELECT DISTINCT ON ({unique}) layout, idx, ref, run_id, parent_run_id, created FROM keys"
            f"  ORDER BY {unique}, created, layout, idx),"
            " top AS (SELECT * FROM merged r WHERE r.parent_run_id IS NULL OR r.parent_run_id = r.run_id"
            "  OR NOT EXISTS (SELECT 1 FROM merged p WHERE p.run_id = r.parent_run_id))"
        )

    def _target(self) -> str:
        """SQL condition on `merged`: the run `run_id`, or, when no stored run has that id, the runs embedding it."""
        embedded = " OR ".join(
            f"jsonb_path_exists(s.data, '$.{key}[*] ? (@.run_id == $id)', jsonb_build_object('id', %(run_id)s::text))"
            for key in ("member_responses", "step_executor_runs")
        )
        return (
            "run_id = %(run_id)s OR (NOT EXISTS (SELECT 1 FROM merged WHERE run_id = %(run_id)s)"
            f" AND ref IN (SELECT s.ref FROM ({self._stored()}) s WHERE jsonb_typeof(s.data) = 'object' AND ({embedded})))"
        )

    def _stored(self) -> str:
        """SQL: every stored run of the session. A subquery, not a CTE, so its content is never materialised."""
        return " UNION ALL ".join(self._sources().values())

    def _runs(self, ctes: str, condition: str, content, **params) -> list[agno.Run]:
        """The stored runs whose `ref` meets `condition`, with `content(data)` as their run data, nested."""
        sql = (
            f"WITH RECURSIVE {self._ctes()}{ctes} SELECT layout, idx, run_id, parent_run_id, created_at, run_type,"
            f" status, ({content('data')})::text FROM ({self._stored()}) s WHERE {condition}"
        )
        inline, table = [], []
        for layout, idx, run_id, parent_run_id, created_at, run_type, status, data in self._fetch(sql, **params):
            if layout == 0:
                inline.append((idx, agno.decode_json(data)))
            else:
                table.append(StoredRun(run_id, run_type, parent_run_id, status, idx, created_at, data))
        runs = agno.decode_runs([data for _, data in sorted(inline, key=lambda entry: entry[0])], table)
        return runs if isinstance(runs, list) else []

    def _fetch(self, sql: str, **params) -> list[tuple]:
        with agno_connection().cursor() as cursor:
            cursor.execute(sql, {"session_id": self.session_id, **params})
            return cursor.fetchall()


def session_export(session_id: str) -> dict | None:
    """The session in Agno's own dict shape (see agno.export_session), None when there is no such session."""
    fields = [column for column in agno.SESSION_COLUMNS if column != "runs"]
    columns = AgnoSession.objects.filter(pk=session_id).values(*fields).first()
    if columns is None:
        return None
    return agno.export_session(columns, inline_runs(session_id), run_rows(session_id))
