"""The overview's figures: sessions, runs, errored runs and tokens per day or hour, the top groups and slowest runs.

Sessions are counted in Agno's table with the list's own filter (so a bar's count is the count of
the list it links to), over the `created_at` index. Runs, errors and tokens need Agno's JSON
(`session_data.session_metrics`, Agno 2.x's inline `runs`) or a join with the 3.x runs table, so
`refresh()` sums them per day of creation and per filterable group into the dashboard's own
`OverviewDay` table, recomputing only the days that gained, changed or lost sessions; the page reads
those sums. A single day's hours are read from Agno's tables directly: one day is few sessions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import Case, Count, F, IntegerField, Max, Q, QuerySet, Sum, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from sessions_ui.models import OverviewDay, OverviewRefresh, OverviewSlowRun
from sessions_ui.queries.sql_json import (
    JSONNumber,
    JSONText,
    inline_run_elements,
    inline_top_level_run,
    json_value_sql,
    sqlite_json_document,
    top_level_run_row_sql,
)
from sessions_ui.schema import has_inline_runs, has_runs_table
from sessions_ui.sources import current_source

HOUR, DAY = 3600, 86400
# A page view refreshes the summary when its last pass is older than this: even with nothing to
# recompute, a pass reads the whole session table for its writes (1.7 s at a million sessions).
STALE_SECONDS = 300
# The summary's group columns: the list's filters (session_type is its `type`), and the model.
FILTER_COLUMNS = ("session_type", "agent_id", "team_id", "workflow_id", "user_id")
GROUP_COLUMNS = (*FILTER_COLUMNS, "model")
TOP = 10
SLOW_RUNS_KEPT = TOP
NEVER = datetime(1970, 1, 1, tzinfo=UTC)  # OverviewRefresh.refreshed_at before its first pass


@dataclass
class Figures:
    sessions: int = 0
    runs: int = 0
    errored_runs: int = 0
    input_tokens: int = 0
    output_tokens: int = 0

    def add(self, other: Figures) -> None:
        for name in ("sessions", "runs", "errored_runs", "input_tokens", "output_tokens"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def error_rate(self) -> float | None:
        return self.errored_runs / self.runs if self.runs else None


# --- Buckets: hours, and days of the server's time zone (as the list's created_after / created_before).


def _offset(size: int) -> int:
    """Seconds to add to an epoch so that buckets of `size` start at local midnight (0 for hours).

    The current UTC offset: in a time zone with summer time, days are an hour off for part of the year.
    """
    return int(timezone.localtime().utcoffset().total_seconds()) % size if size == DAY else 0


def bucket_of(size: int, column: str = "created_at") -> F:
    """The epoch second at which the hour or local day of an epoch-seconds column starts."""
    return F(column) - (F(column) + _offset(size)) % size


def _bucket_sql(size: int, column: str) -> str:
    """`bucket_of` for raw SQL (its `%` doubled for the driver's placeholders)."""
    return f"({column} - ({column} + {_offset(size)}) %% {size})"


def _ranges(buckets: Iterable[int], size: int) -> list[tuple[int, int]]:
    """Sorted bucket starts as [start, end) ranges of consecutive buckets: one condition per range."""
    ranges: list[list[int]] = []
    for start in sorted(buckets):
        if ranges and ranges[-1][1] == start:
            ranges[-1][1] = start + size
        else:
            ranges.append([start, start + size])
    return [(start, end) for start, end in ranges]


def _in_ranges(ranges: list[tuple[int, int]]) -> Q:
    condition = Q(pk__in=[])
    for start, end in ranges:
        condition |= Q(created_at__gte=start, created_at__lt=end)
    return condition


# --- Reading Agno's tables (JSON included): what the summary stores, and a single day's hours.


def _sessions() -> QuerySet:
    return current_source().Session.objects.order_by()


def _component_model() -> Case:
    """The model id of the component that owns the session. Twin of `agno.decode_component(...).model_id`
    for a `model` dict (the rare `model` stored as a plain string is not read here)."""
    return Case(
        When(session_type="team", then=JSONText("team_data", "model", "id")),
        When(session_type="workflow", then=JSONText("workflow_data", "model", "id")),
        default=JSONText("agent_data", "model", "id"),
    )


def _component_model_sql(vendor: str, alias: str) -> str:
    """`_component_model` for raw SQL over the session table as `alias`."""
    return (
        f"CASE {alias}.session_type WHEN 'team' THEN {json_value_sql(vendor, f'{alias}.team_data', ('model', 'id'))}"
        f" WHEN 'workflow' THEN {json_value_sql(vendor, f'{alias}.workflow_data', ('model', 'id'))}"
        f" ELSE {json_value_sql(vendor, f'{alias}.agent_data', ('model', 'id'))} END"
    )


def _inline_runs(vendor: str, *, errored: bool) -> RawSQL:
    """Per session: its top-level inline (Agno 2.x) runs, or those of them whose status is ERROR."""
    document = "runs" if vendor == "postgresql" else sqlite_json_document("runs")
    condition = inline_top_level_run(vendor)
    if errored:
        status = "item ->> 'status'" if vendor == "postgresql" else "json_extract(item.value, '$.status')"
        condition = f"({condition}) AND upper({status}) = 'ERROR'"
    return RawSQL(
        f"(SELECT count(*) FROM {inline_run_elements(vendor, document)} WHERE {condition})",
        (),
        output_field=IntegerField(),
    )


def _aggregate(sessions: QuerySet, size: int, columns: tuple[str, ...]) -> dict[tuple, Figures]:
    """The figures of `sessions` per (bucket, *columns): one GROUP BY over the sessions (tokens, inline
    runs) and, for the 3.x runs table, one over its rows joined to them (no per-session subquery)."""
    vendor = current_source().vendor
    inline = {}
    if has_inline_runs():
        inline = {
            "inline_runs": Sum(_inline_runs(vendor, errored=False)),
            "inline_errored_runs": Sum(_inline_runs(vendor, errored=True)),
        }
    grouped = (
        sessions.order_by()
        .annotate(bucket=bucket_of(size), model=_component_model())
        .values_list("bucket", *columns)
        .annotate(
            counted=Count("pk"),
            input_tokens=Coalesce(Sum(JSONNumber("session_data", "session_metrics", "input_tokens")), 0),
            output_tokens=Coalesce(Sum(JSONNumber("session_data", "session_metrics", "output_tokens")), 0),
            **inline,
        )
    )
    width = 1 + len(columns)
    figures: dict[tuple, Figures] = {}
    for row in grouped:
        count, input_tokens, output_tokens, *runs = row[width:]
        runs, errored = (int(runs[0] or 0), int(runs[1] or 0)) if runs else (0, 0)
        figures[row[:width]] = Figures(count, runs, errored, int(input_tokens), int(output_tokens))
    if has_runs_table():
        for key, runs, errored in _run_rows(sessions, size, columns):
            figures.setdefault(key, Figures()).runs += runs
            figures[key].errored_runs += errored
    return figures


def _run_rows(sessions: QuerySet, size: int, columns: tuple[str, ...]) -> list[tuple[tuple, int, int]]:
    """Top-level runs-table rows of `sessions`, and those with status ERROR, per (bucket, *columns)."""
    source = current_source()
    ids = sessions.order_by().values("pk")
    selected, params = ids.query.get_compiler(using=ids.db).as_sql()
    expressions = [_bucket_sql(size, "s.created_at")] + [
        _component_model_sql(source.vendor, "s") if column == "model" else f"s.{column}" for column in columns
    ]
    group = ", ".join(expressions)
    sql = (
        f"SELECT {group}, count(*), coalesce(sum(CASE WHEN upper(r.status) = 'ERROR' THEN 1 ELSE 0 END), 0)"
        f" FROM {source.quoted_runs} AS r JOIN {source.quoted_sessions} AS s ON s.session_id = r.session_id"
        f" WHERE r.session_id IN ({selected}) AND {top_level_run_row_sql('r')} GROUP BY {group}"
    )
    with source.connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(tuple(row[:-2]), int(row[-2]), int(row[-1])) for row in cursor.fetchall()]


def _timed_runs_sql(where: str) -> str:
    """SQL: the top-level runs with a duration of the sessions (`s`) that match `where`, in either layout,
    with their session's day and group columns. A run's duration is its `metrics.duration` (twin of
    `agno.decode_metrics(...).duration` for a number); runs without one are left out."""
    source = current_source()
    vendor = source.vendor
    columns = (
        f"{_bucket_sql(DAY, 's.created_at')} AS day, s.session_type, s.agent_id, s.team_id, s.workflow_id,"
        f" s.user_id, {_component_model_sql(vendor, 's')} AS model, s.session_id"
    )
    parts = []
    if has_runs_table():
        duration = json_value_sql(vendor, "r.run_data", ("metrics", "duration"), number=True)
        parts.append(
            f"SELECT {columns}, r.run_id, {duration} AS duration FROM {source.quoted_runs} AS r"
            f" JOIN {source.quoted_sessions} AS s ON s.session_id = r.session_id"
            f" WHERE ({where}) AND {top_level_run_row_sql('r')}"
        )
    if has_inline_runs():
        if vendor == "postgresql":
            elements = inline_run_elements(vendor, "s.runs")
            run_id = "item ->> 'run_id'"
            duration = (
                "CASE WHEN jsonb_typeof(item -> 'metrics' -> 'duration') = 'number'"
                " THEN (item -> 'metrics' ->> 'duration')::numeric END"
            )
        else:
            elements = inline_run_elements(vendor, sqlite_json_document("s.runs"))
            run_id = "json_extract(item.value, '$.run_id')"
            duration = json_value_sql(vendor, "item.value", ("metrics", "duration"), number=True)
        parts.append(
            f"SELECT {columns}, {run_id} AS run_id, {duration} AS duration FROM {source.quoted_sessions} AS s"
            f" CROSS JOIN {'LATERAL ' if vendor == 'postgresql' else ''}{elements}"
            f" WHERE ({where}) AND {inline_top_level_run(vendor)}"
        )
    return " UNION ALL ".join(parts)


SLOW_RUN_COLUMNS = ("day", *GROUP_COLUMNS, "session_id", "run_id", "duration")


def _slowest(days: set[int]) -> list[OverviewSlowRun]:
    """The SLOW_RUNS_KEPT slowest runs of each day, and of each day and value of each filter column: what
    the slowest runs of a range with at most one filter need (`slowest_runs` reads more filters live)."""
    ranges = _ranges(days, DAY)
    timed = _timed_runs_sql(" OR ".join(["(s.created_at >= %s AND s.created_at < %s)"] * len(ranges)))
    if not days or not timed:
        return []
    order = "ORDER BY duration DESC, run_id"
    positions = [f"ROW_NUMBER() OVER (PARTITION BY day {order}) AS p_day"] + [
        f"ROW_NUMBER() OVER (PARTITION BY day, {column} {order}) AS p_{column}" for column in FILTER_COLUMNS
    ]
    kept = " OR ".join(f"p_{name} <= %s" for name in ("day", *FILTER_COLUMNS))
    sql = (
        f"SELECT {', '.join(SLOW_RUN_COLUMNS)} FROM (SELECT timed.*, {', '.join(positions)}"
        f" FROM ({timed}) AS timed WHERE duration IS NOT NULL) AS ranked WHERE {kept}"
    )
    bounds = [bound for day_range in ranges for bound in day_range]
    params = bounds * timed.count(" UNION ALL ") + bounds + [SLOW_RUNS_KEPT] * (1 + len(FILTER_COLUMNS))
    with current_source().connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    key = current_source().key
    return [
        OverviewSlowRun(source=key, **dict(zip(SLOW_RUN_COLUMNS[:-1], row[:-1], strict=True)), duration=float(row[-1]))
        for row in rows
    ]


def _summarise(days: set[int]) -> list[OverviewDay]:
    """The OverviewDay rows of these days, read from Agno's tables."""
    if not days:
        return []
    key = current_source().key
    figures = _aggregate(_sessions().filter(_in_ranges(_ranges(days, DAY))), DAY, GROUP_COLUMNS)
    return [
        OverviewDay(
            source=key,
            day=group[0],
            **dict(zip(GROUP_COLUMNS, group[1:], strict=True)),
            sessions=day.sessions,
            runs=day.runs,
            errored_runs=day.errored_runs,
            input_tokens=day.input_tokens,
            output_tokens=day.output_tokens,
        )
        for group, day in figures.items()
    ]


# --- The summary: refreshed incrementally.


@dataclass(frozen=True)
class Freshness:
    refreshed_at: datetime | None
    pending_days: frozenset[int] = frozenset()  # stale days that the last pass left for later
    recomputed_days: int = 0  # by the pass that just ran (0: none ran, or nothing had changed)

    def is_stale(self, window: tuple[int, int] | None = None) -> bool:
        """Older than STALE_SECONDS, or with stale days in `window` ([start, end) epoch seconds)."""
        if self.refreshed_at is None or timezone.now() - self.refreshed_at > timedelta(seconds=STALE_SECONDS):
            return True
        return window is not None and any(window[0] <= day < window[1] for day in self.pending_days)


def freshness() -> Freshness:
    state = OverviewRefresh.objects.filter(source=current_source().key).first()
    if state is None or state.refreshed_at == NEVER:
        return Freshness(None)
    return Freshness(state.refreshed_at, frozenset(state.pending_days))


def refresh(window: tuple[int, int] | None = None) -> Freshness:
    """Bring the summary up to date: recompute the days with sessions created or updated since the last
    pass, and those whose session count changed (a deleted session leaves no trace but the count).

    With a `window` ([start, end) epoch seconds: a page's range), only its stale days are recomputed
    and the others are kept as pending for a later pass, so a cold summary costs a page its range only.
    Passes over one source take turns (a lock on its OverviewRefresh row): two at once would each
    insert the days they both recomputed.
    """
    key = current_source().key
    # Made before the pass, not in its transaction: on SQLite that would hold the write lock
    # (Agno's writes wait) for as long as the pass reads. Until one ends, it says "never".
    OverviewRefresh.objects.get_or_create(source=key, defaults={"refreshed_at": NEVER, "written_until": 0})
    with transaction.atomic(using=OverviewDay.objects.db):
        return _refresh(key, OverviewRefresh.objects.select_for_update().get(source=key), window)


def _refresh(key: str, state: OverviewRefresh, window: tuple[int, int] | None) -> Freshness:
    # Since 0 on a first pass: every day is new. `>=`: a write in the very second the last pass saw
    # may have come after it.
    since = state.written_until
    per_day = (
        _sessions()
        .annotate(day=bucket_of(DAY))
        .values_list("day")
        .annotate(
            sessions=Count("*"),
            newest=Max(Greatest("created_at", Coalesce("updated_at", "created_at"))),
            written=Count("pk", filter=Q(created_at__gte=since) | Q(updated_at__gte=since)),
        )
    )  # one pass over the table: counts, the newest write, and the days written since the last pass
    counted, written, newest = {}, set(), since
    for day, sessions, day_newest, day_written in per_day:
        counted[day] = sessions
        newest = max(newest, day_newest)
        if day_written:
            written.add(day)
    summarised = dict(OverviewDay.objects.filter(source=key).order_by().values_list("day").annotate(n=Sum("sessions")))
    stale = {day for day in counted.keys() | summarised.keys() if counted.get(day) != summarised.get(day)}
    stale |= written | set(state.pending_days)
    todo = stale if window is None else {day for day in stale if window[0] <= day < window[1]}
    rows, slow_runs = _summarise(todo & counted.keys()), _slowest(todo & counted.keys())
    pending = sorted(stale - todo)
    for model in (OverviewDay, OverviewSlowRun):
        model.objects.filter(source=key, day__in=todo).delete()
    OverviewDay.objects.bulk_create(rows, batch_size=1000)
    OverviewSlowRun.objects.bulk_create(slow_runs, batch_size=1000)
    now = timezone.now()
    OverviewRefresh.objects.filter(source=key).update(refreshed_at=now, written_until=newest, pending_days=pending)
    return Freshness(now, frozenset(pending), len(todo))


def refresh_if_stale(window: tuple[int, int]) -> Freshness:
    current = freshness()
    return refresh(window) if current.is_stale(window) else current


# --- Reading the figures of a range.


@dataclass(frozen=True)
class Selection:
    """Which sessions a figure covers: [start, end) in epoch seconds and the list's filters that validated."""

    start: int
    end: int
    filters: dict[str, str] = field(default_factory=dict)  # FILTER_COLUMNS -> value
    sessions: QuerySet | None = None  # the list's FilterSet queryset for the same range and filters

    def summary(self, model=OverviewDay) -> QuerySet:
        return model.objects.filter(
            source=current_source().key, day__gte=self.start, day__lt=self.end, **self.filters
        ).order_by()


def per_day(selection: Selection) -> dict[int, Figures]:
    """The figures of each day that has any: sessions counted by the list's filter, the rest from the summary."""
    figures: dict[int, Figures] = {}
    summed = (
        selection.summary()
        .values_list("day")
        .annotate(Sum("runs"), Sum("errored_runs"), Sum("input_tokens"), Sum("output_tokens"))
    )
    for day, runs, errored, input_tokens, output_tokens in summed:
        figures[day] = Figures(0, runs, errored, input_tokens, output_tokens)
    counted = selection.sessions.order_by().annotate(day=bucket_of(DAY)).values_list("day").annotate(n=Count("*"))
    for day, sessions in counted:
        figures.setdefault(day, Figures()).sessions = sessions
    return figures


def per_hour(selection: Selection) -> dict[int, Figures]:
    """The figures of each hour that has any, read from Agno's tables (for a range of a day or so)."""
    return {hour: figures for (hour,), figures in _aggregate(selection.sessions, HOUR, ()).items()}


def total(figures: dict[int, Figures]) -> Figures:
    summed = Figures()
    for bucket in figures.values():
        summed.add(bucket)
    return summed


@dataclass(frozen=True)
class Ranked:
    value: str
    sessions: int
    tokens: int


def top(selection: Selection, column: str, *, by: str) -> list[Ranked]:
    """The TOP values of a group column by sessions or by tokens (input + output) in the selection."""
    ranked = (
        selection.summary()
        .exclude(**{f"{column}__isnull": True})
        .exclude(**{column: ""})
        .values_list(column)
        .annotate(sessions=Sum("sessions"), tokens=Sum(F("input_tokens") + F("output_tokens")))
        .order_by(f"-{by}", column)[:TOP]
    )
    return [Ranked(value, sessions, tokens) for value, sessions, tokens in ranked]


def slowest_runs(selection: Selection) -> list[OverviewSlowRun]:
    """The TOP slowest top-level runs of the selected sessions: from the summary for at most one filter
    (it keeps the slowest per value of each), else read from Agno's tables for the selected sessions."""
    if len(selection.filters) <= 1:
        return list(selection.summary(OverviewSlowRun).order_by("-duration", "run_id")[:TOP])
    ids = selection.sessions.order_by().values("pk")
    selected, params = ids.query.get_compiler(using=ids.db).as_sql()
    timed = _timed_runs_sql(f"s.session_id IN ({selected})")
    if not timed:
        return []
    sql = (
        f"SELECT {', '.join(SLOW_RUN_COLUMNS)} FROM ({timed}) AS timed"
        " WHERE duration IS NOT NULL ORDER BY duration DESC, run_id LIMIT %s"
    )
    with current_source().connection.cursor() as cursor:
        cursor.execute(sql, [*params * (timed.count(" UNION ALL ") + 1), TOP])
        rows = cursor.fetchall()
    return [
        OverviewSlowRun(**dict(zip(SLOW_RUN_COLUMNS[:-1], row[:-1], strict=True)), duration=float(row[-1]))
        for row in rows
    ]
