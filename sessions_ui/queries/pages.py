"""Which sessions a list page shows: its order, one page of rows, and how many sessions match.

Fast at a million rows: a page walks an index in the list's order and stops after one page and a
row; deep pages are read from the nearer end; a search looks among the newest sessions first; and a
filtered count, which reads every row it counts, is left to a request of its own.
"""

from __future__ import annotations

from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from math import ceil

from django.core.cache import cache
from django.db.models import F, Func, QuerySet

from sessions_ui import agno
from sessions_ui.models import SessionColumns
from sessions_ui.queries.list_runs import StoredSize, list_run_stats
from sessions_ui.queries.measures import INLINE_RUNS_WINDOW, MEASURES, runs_table_sizes, session_row_size, with_measure
from sessions_ui.queries.positions import KEYSET_SORTS, Position, rows_after, rows_before
from sessions_ui.queries.sql_json import JSONText, component_name
from sessions_ui.queries.traces import traced_time_sql
from sessions_ui.schema import has_index, has_inline_runs
from sessions_ui.sources import current_source

LIST_PAGE_SIZE = 50
COUNT_CAP = 10_000  # beyond this the list says "10,000+" instead of counting every matching row
DEEP_OFFSET = 10_000  # from this many rows in, a page is read from whichever end of the order is nearer
NEWEST_WINDOW = 10_000  # a search first looks for its page among this many newest sessions
NEWEST_SECONDS = 60
MAX_PAGE = 1_000_000
# The opt-in index (`manage.py agno_indexes`, by its name's suffix) that serves each order Agno's indexes do not.
SORT_INDEXES = {"-updated_at": "updated_at_desc_session_id", "updated_at": "updated_at_session_id"}
SMALLEST_BIGINT = -(2**63)

# --- The order. Newest first walks Agno's created_at index and stops after a page. A search tests
# every row it cannot rule out, which that walk makes slow for a rare term: so a search is ordered by
# an expression (a scan that keeps the top rows) and first looks for its page among the newest rows
# (`_newest_rows`), where a frequent term fills one within a few hundred rows.


def order_by_sort(queryset: QuerySet, key: str, *, searching: bool = False) -> QuerySet:
    """Order by a sort key (`created_at`, `-updated_at`...), ties broken by session_id so pages never overlap."""
    field = key.lstrip("-")
    if field == "duration":
        # The sum of the session's traces' durations, NULL (last, either way) for a session without traces.
        queryset, column = queryset.annotate(traced_ms=traced_time_sql()), F("traced_ms")
        order = column.desc(nulls_last=True) if key.startswith("-") else column.asc(nulls_last=True)
        return queryset.order_by(order, "session_id")
    if field in MEASURES:
        # Computed per session (see sort_window: among the newest), the largest first, ties by id.
        queryset, measured = with_measure(queryset, field)
        order = measured.desc(nulls_last=True) if key.startswith("-") else measured.asc(nulls_last=True)
        return queryset.order_by(order, "session_id")
    if field == "created_at" and not searching:
        # The always-true bound is for SQLite, which without it sorts the whole table as soon as a
        # filter (and the session_id tie-break) is added: a second instead of milliseconds at 300,000 rows.
        return queryset.filter(created_at__gte=SMALLEST_BIGINT).order_by(key, "session_id")
    # Ordering by an expression makes the database scan the table once and keep the top rows, rather
    # than walk the index and fetch each row at random (five times slower when few rows match). An
    # opt-in trigram index (manage.py agno_indexes) turns the search's scan into an index lookup.
    column = F(field) + 0 if searching else F(field)
    order = column.desc(nulls_last=True) if key.startswith("-") else column.asc(nulls_last=True)
    return queryset.order_by(order, "session_id")


def sort_window(queryset: QuerySet, key: str, *, until: int | None = None) -> tuple[QuerySet, int]:
    """`queryset` for sorting by `key`, and the number of newest sessions it was bounded to (0: not bounded).

    No index of Agno's serves an updated_at order: without the opt-in one, every page would sort the
    whole table (0.5-1 s at a million rows). Among the newest sessions (a range of created_at's index)
    the sort stays a few milliseconds, and the list says which sessions it left out. A size, runs or
    tokens order is computed per session, which no index can hold (the size is partly in the runs
    table, and PostgreSQL's pg_column_size is not immutable): always among the newest sessions created
    by `until` (epoch seconds, the end of the created-at range), fewer when runs are read from blobs.
    """
    field = key.lstrip("-")
    if field in MEASURES:
        window = INLINE_RUNS_WINDOW if field == "runs" and has_inline_runs() else NEWEST_WINDOW
        newest = current_source().Session.objects.order_by("-created_at")
        if until is not None:
            newest = newest.filter(created_at__lte=until)
        bound = next(iter(newest.values_list("created_at", flat=True)[window - 1 : window]), None)
        return (queryset, 0) if bound is None else (queryset.filter(created_at__gte=bound), window)
    suffix = SORT_INDEXES.get(key)
    # No index serves an order by the traces' durations: each session's are added up over agno_traces'
    # session_id index, so only within the window.
    traced = field == "duration"
    if not traced and (suffix is None or has_index(suffix)):
        return queryset, 0
    bound = newest_bound()
    if bound is None:  # fewer sessions than the window: all of them are sorted
        return queryset, 0
    return queryset.filter(created_at__gte=bound), NEWEST_WINDOW


def searched_texts() -> dict[str, F | JSONText]:
    """What `q` searches. `icontains` compares UPPER(text::text) LIKE UPPER(%q%), and `manage.py
    agno_indexes` builds its trigram indexes on exactly that, from these expressions."""
    return {"session_id": F("session_id"), "session_name": JSONText("session_data", "session_name")}


class Unindexed(Func):
    """A column that SQLite's planner may not use an index for (`+column`); the column itself elsewhere.

    Without statistics, SQLite answers `session_type = ? ORDER BY created_at` by sorting every row
    of that type; kept off that index it walks created_at's and stops after one page.
    """

    template = "%(expressions)s"

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template="+%(expressions)s", **extra_context)


# --- One page of rows.


@dataclass
class ListRow:
    session: agno.Session
    component_name: str
    runs: int | None  # None: the stored runs could not be read, or are not counted yet (runs_pending)
    runs_pending: bool = False
    size: int | None = None  # the stored bytes of the session and its runs (queries.measures)
    named: bool = True  # False: the name shown is the first input (or the id), not a stored session_name

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
    # The first and last rows' Position tokens, for Previous and Next; "" where pages are offsets.
    first: str = ""
    last: str = ""

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


def list_page(
    sessions: QuerySet,
    number: int,
    *,
    filtered: bool,
    newest_window: bool = False,
    sort: str | None = None,
    after: Position | None = None,
    before: Position | None = None,
) -> ListPage:
    """One page of `sessions` (filtered and ordered), fast at a million rows.

    Reads one row more than a page to know whether a next page exists, and counts only what is
    cheap: nothing when the page tells, else when unfiltered PostgreSQL's estimate or at most
    COUNT_CAP + 1 rows of an index. A filtered count reads every row it counts, so it is left
    "pending" for `list_total`, which the page asks for once its rows are shown.
    `newest_window` (the sessions are a search, newest first): see `_newest_rows`.
    `sort` in KEYSET_SORTS: the page has Position tokens, and is the one `after` or `before` one
    (page `number` is then only what it is called); see sessions_ui/queries/positions.py.
    """
    measured = sort is not None and sort.lstrip("-") in MEASURES
    with _without_jit() if measured else nullcontext():
        return _list_page(
            sessions, number, filtered=filtered, newest_window=newest_window, sort=sort, after=after, before=before
        )


def _list_page(
    sessions: QuerySet,
    number: int,
    *,
    filtered: bool,
    newest_window: bool,
    sort: str | None,
    after: Position | None,
    before: Position | None,
) -> ListPage:
    keyset = sort in KEYSET_SORTS and not newest_window
    if keyset and (after or before):
        page = _keyset_page(sessions, number, sort, after, before, filtered=filtered)
        if page is not None:
            return page
        if before:
            number = 1
    if (number - 1) * LIST_PAGE_SIZE >= DEEP_OFFSET:
        return _deep_page(sessions, number, keyset=keyset)
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
    if past_end:
        return _page(rows, number, has_next, (total, total_is), past_end=True, keyset=keyset)
    return _page(rows, number, has_next, _total(sessions, number, rows, has_next, filtered), keyset=keyset)


def _keyset_page(
    sessions: QuerySet, number: int, sort: str, after: Position | None, before: Position | None, *, filtered: bool
) -> ListPage | None:
    """The page after `after` (or before `before`); None when none is left there (rows were deleted)."""
    if after:
        rows = list(_list_columns(rows_after(sessions, after, sort))[: LIST_PAGE_SIZE + 1])
        has_next = len(rows) > LIST_PAGE_SIZE
        rows = rows[:LIST_PAGE_SIZE]
    else:
        rows = list(_list_columns(rows_before(sessions, before, sort))[: LIST_PAGE_SIZE + 1])
        if len(rows) <= LIST_PAGE_SIZE:
            return None  # the first page, or less: the offset page 1 says it best
        rows, has_next = rows[:LIST_PAGE_SIZE][::-1], True
    if not rows:
        return None
    number = max(number, 2)  # a page after or before another is not the first
    return _page(rows, number, has_next, _total(sessions, number, rows, has_next, filtered), keyset=True)


def _total(sessions: QuerySet, number: int, rows: list, has_next: bool, filtered: bool) -> tuple[int, str]:
    seen = (number - 1) * LIST_PAGE_SIZE + len(rows)
    if rows and not has_next:
        return seen, "exact"
    if filtered:
        return seen, "pending"
    return list_total(sessions, filtered=False, seen=seen)


def _page(
    rows: list, number: int, has_next: bool, total: tuple[int, str], *, past_end: bool = False, keyset: bool
) -> ListPage:
    return ListPage(
        rows=list_rows(rows),
        number=number,
        has_next=has_next,
        total=total[0],
        total_is=total[1],
        past_end=past_end,
        per_page=LIST_PAGE_SIZE,
        first=Position.of(rows[0]).token if keyset and rows else "",
        last=Position.of(rows[-1]).token if keyset and rows else "",
    )


def _page_rows(sessions: QuerySet, number: int) -> list[SessionColumns]:
    """The rows of page `number`, and the first row of the next page if there is one."""
    offset = (number - 1) * LIST_PAGE_SIZE
    return _rows_at(sessions, offset, offset + LIST_PAGE_SIZE + 1)


def _rows_at(sessions: QuerySet, start: int, stop: int) -> list[SessionColumns]:
    """Rows `start` to `stop` of `sessions`, in order.

    Past the first rows, the keys of those rows are found first and then only they are read: an
    OFFSET over the list's columns computes them (decoding JSON) for every row it skips.
    """
    if start == 0:
        return list(_list_columns(sessions)[:stop])
    keys = list(sessions.values_list("pk", flat=True)[start:stop])
    rows = {row.pk: row for row in _list_columns(current_source().Session.objects.filter(pk__in=keys))}
    return [rows[key] for key in keys if key in rows]  # a row deleted in between is left out


def _list_columns(sessions: QuerySet) -> QuerySet:
    page = (
        sessions.for_list()
        .defer("agent_data", "team_data", "workflow_data")
        .annotate(component_name=component_name(), stored_size=session_row_size())
    )
    if has_inline_runs():
        # How big the inline runs are (NULL: none, Agno 3.x nulls the column), read without parsing them.
        page = page.annotate(inline_runs_size=StoredSize("runs"))
    return page


def _deep_page(sessions: QuerySet, number: int, *, keyset: bool) -> ListPage:
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
    return _page(rows, number, number < last, (total, "exact"), past_end=past_end, keyset=keyset)


def _newest_rows(sessions: QuerySet, number: int) -> list[SessionColumns] | None:
    """The page, newest first, if the NEWEST_WINDOW newest sessions hold all of it (and one more), else None.

    A search tests every row it reads. Walking created_at's index, a frequent term fills a page
    after a few hundred rows, but a rare one reads the whole table in random order (seconds at a
    million rows): so the walk stops at the window, and beyond it the caller's query scans instead.
    Any bound gives the right rows (all that are older sort after the window's), so it is cached.
    """
    bound = newest_bound()
    window = sessions.filter(created_at__gte=bound) if bound is not None else sessions
    with _walking_the_index():
        rows = _page_rows(window.order_by("-created_at", "session_id"), number)
    return rows if len(rows) > LIST_PAGE_SIZE or bound is None else None


def newest_bound() -> int | None:
    """created_at of the NEWEST_WINDOW-th newest session, None when there are fewer; cached NEWEST_SECONDS."""

    def bound() -> int | None:
        newest = current_source().Session.objects.order_by("-created_at").values_list("created_at", flat=True)
        return next(iter(newest[NEWEST_WINDOW - 1 : NEWEST_WINDOW]), None)

    return cache.get_or_set(f"sessions_ui:newest:{current_source().key}:{NEWEST_WINDOW}", bound, NEWEST_SECONDS)


@contextmanager
def _walking_the_index():
    """On PostgreSQL, no bitmap scans: the planner cannot estimate how many rows a search matches,
    guesses a few, and would read every row of the window, where walking created_at's index stops
    once the page is full (3 instead of 15 ms for a term in one session of twenty, at a million rows)."""
    connection = current_source().connection
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET enable_bitmapscan = off")
        try:
            yield
        finally:
            cursor.execute("RESET enable_bitmapscan")


@contextmanager
def _without_jit():
    """On PostgreSQL, no JIT compilation: a sort by a measure computes a subquery per session of its window,
    which the planner prices high enough to compile the query (1.5-2 s) to save less than it costs."""
    connection = current_source().connection
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET jit = off")
        try:
            yield
        finally:
            cursor.execute("RESET jit")


def list_total(sessions: QuerySet, *, filtered: bool, seen: int = 0) -> tuple[int, str]:
    """How many `sessions` there are, as (total, total_is): see ListPage.total_is."""
    if not filtered and current_source().vendor == "postgresql":
        key = f"sessions_ui:estimate:{current_source().key}"
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
    source = current_source()
    with source.connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)", [source.quoted_sessions])
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] and row[0] > 0 else 0


def list_rows(rows: list[SessionColumns]) -> list[ListRow]:
    """Decode a page of rows; run counts and the name fallback come from `list_run_stats`, without a blob."""
    sessions = [agno.decode_session(row) for row in rows]
    unnamed = {session.session_id for session in sessions if not session.name}
    stats = list_run_stats(rows, unnamed)
    run_sizes = runs_table_sizes([session.session_id for session in sessions])
    result = []
    for row, session in zip(rows, sessions, strict=True):
        session_stats = stats[session.session_id]
        named = bool(session.name)
        session.name = session.name or session_stats.first_input.strip()
        result.append(
            ListRow(
                session=session,
                component_name=str(row.component_name or ""),
                runs=session_stats.runs,
                runs_pending=session_stats.pending,
                size=row.stored_size + run_sizes.get(session.session_id, 0),
                named=named,
            )
        )
    return result
