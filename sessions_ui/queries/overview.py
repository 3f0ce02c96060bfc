"""The overview's figures: sessions, runs, errored runs and tokens per hour, and the top groups of a range.

Sessions are counted in Agno's table with the list's own filter (so a bar's count is the count of
the list it links to), over the `created_at` index. Runs, errors and tokens need Agno's JSON
(`session_data.session_metrics`, Agno 2.x's inline `runs`), so `refresh()` sums them per hour of
creation and per filterable group into the dashboard's own `OverviewHour` table, recomputing only
the hours that gained, changed or lost sessions; the page reads those sums.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Case, Count, F, IntegerField, Max, OuterRef, Q, QuerySet, Subquery, Sum, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from sessions_ui.models import OverviewHour, OverviewRefresh, OverviewSlowRun
from sessions_ui.queries.sql_json import (
    TOP_LEVEL_RUN_ROW,
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

HOUR = 3600
# A page view refreshes the summary when its last pass is older than this.
STALE_SECONDS = 60
# The summary's group columns, each a filter of the list (session_type is the list's `type`).
GROUP_COLUMNS = ("session_type", "agent_id", "team_id", "workflow_id", "user_id", "model")
TOP = 10
SLOW_RUNS_KEPT = TOP


def hour_of(column: str = "created_at") -> F:
    """The epoch second at which the hour of an epoch-seconds column starts."""
    return F(column) - F(column) % HOUR


# --- The summary: refreshed incrementally.


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


def _table_runs(*, errored: bool) -> Coalesce:
    """Per session: its top-level rows in the Agno 3.x runs table (their `status` column for errors)."""
    rows = current_source().Run.objects.filter(TOP_LEVEL_RUN_ROW, session_id=OuterRef("pk"))
    if errored:
        rows = rows.filter(status__iexact="error")
    counted = rows.order_by().values("session_id").annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _run_counts() -> dict:
    """The Sum() of each session's top-level runs and errored runs, in whichever layouts the source has."""
    vendor = current_source().vendor
    runs, errored = [], []
    if has_inline_runs():
        runs.append(_inline_runs(vendor, errored=False))
        errored.append(_inline_runs(vendor, errored=True))
    if has_runs_table():
        runs.append(_table_runs(errored=False))
        errored.append(_table_runs(errored=True))
    if not runs:
        return {}
    return {"runs": Sum(sum(runs[1:], runs[0])), "errored_runs": Sum(sum(errored[1:], errored[0]))}


def _hour_ranges(hours: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted hour starts as [start, end) ranges of consecutive hours: one condition per range."""
    ranges: list[list[int]] = []
    for hour in sorted(hours):
        if ranges and ranges[-1][1] == hour:
            ranges[-1][1] = hour + HOUR
        else:
            ranges.append([hour, hour + HOUR])
    return [(start, end) for start, end in ranges]


def _summarise(hours: set[int]) -> list[OverviewHour]:
    """The OverviewHour rows of these hours, read from Agno's tables (its JSON included)."""
    in_hours = Q(pk__in=[])
    for start, end in _hour_ranges(hours):
        in_hours |= Q(created_at__gte=start, created_at__lt=end)
    key = current_source().key
    grouped = (
        _sessions()
        .filter(in_hours)
        .annotate(hour=hour_of(), model=_component_model())
        .values("hour", *GROUP_COLUMNS)
        .annotate(
            sessions=Count("pk"),
            input_tokens=Coalesce(Sum(JSONNumber("session_data", "session_metrics", "input_tokens")), 0),
            output_tokens=Coalesce(Sum(JSONNumber("session_data", "session_metrics", "output_tokens")), 0),
            **_run_counts(),
        )
    )
    return [
        OverviewHour(
            source=key,
            **{name: row[name] for name in ("hour", *GROUP_COLUMNS, "sessions")},
            runs=int(row.get("runs") or 0),
            errored_runs=int(row.get("errored_runs") or 0),
            input_tokens=int(row["input_tokens"]),
            output_tokens=int(row["output_tokens"]),
        )
        for row in grouped
    ]


def _slow_runs_sql(hours: set[int]) -> tuple[str, list]:
    """SQL: the SLOW_RUNS_KEPT slowest top-level runs of each hour and group, in either layout.

    A run's duration is its `metrics.duration` (twin of `agno.decode_metrics(...).duration` for a
    number); runs without one are left out.
    """
    source = current_source()
    vendor = source.vendor
    ranges = _hour_ranges(hours)
    in_hours = " OR ".join(["(s.created_at >= %s AND s.created_at < %s)"] * len(ranges))
    params = [bound for hour_range in ranges for bound in hour_range]
    model = (
        f"CASE s.session_type WHEN 'team' THEN {json_value_sql(vendor, 's.team_data', ('model', 'id'))}"
        f" WHEN 'workflow' THEN {json_value_sql(vendor, 's.workflow_data', ('model', 'id'))}"
        f" ELSE {json_value_sql(vendor, 's.agent_data', ('model', 'id'))} END"
    )
    columns = (
        "s.created_at - s.created_at %% 3600 AS hour, s.session_type, s.agent_id, s.team_id, s.workflow_id,"
        f" s.user_id, {model} AS model, s.session_id"
    )
    parts = []
    if has_runs_table():
        duration = json_value_sql(vendor, "r.run_data", ("metrics", "duration"), number=True)
        parts.append(
            f"SELECT {columns}, r.run_id, {duration} AS duration FROM {source.quoted_runs} AS r"
            f" JOIN {source.quoted_sessions} AS s ON s.session_id = r.session_id"
            f" WHERE ({in_hours}) AND {top_level_run_row_sql('r')}"
        )
    if has_inline_runs():
        if vendor == "postgresql":
            elements, run = inline_run_elements(vendor, "s.runs"), "item"
            run_id = "item ->> 'run_id'"
            duration = (
                "CASE WHEN jsonb_typeof(item -> 'metrics' -> 'duration') = 'number'"
                " THEN (item -> 'metrics' ->> 'duration')::numeric END"
            )
        else:
            elements, run = inline_run_elements(vendor, sqlite_json_document("s.runs")), "item.value"
            run_id = "json_extract(item.value, '$.run_id')"
            duration = json_value_sql(vendor, run, ("metrics", "duration"), number=True)
        parts.append(
            f"SELECT {columns}, {run_id} AS run_id, {duration} AS duration FROM {source.quoted_sessions} AS s"
            f" CROSS JOIN {'LATERAL ' if vendor == 'postgresql' else ''}{elements}"
            f" WHERE ({in_hours}) AND {inline_top_level_run(vendor)}"
        )
    if not parts:
        return "", []
    union = " UNION ALL ".join(parts)
    group = "hour, session_type, agent_id, team_id, workflow_id, user_id, model"
    sql = (
        f"SELECT {group}, session_id, run_id, duration FROM (SELECT timed.*, ROW_NUMBER() OVER"
        f" (PARTITION BY {group} ORDER BY duration DESC, run_id) AS position"
        f" FROM ({union}) AS timed WHERE duration IS NOT NULL) AS ranked WHERE position <= %s"
    )
    return sql, params * len(parts) + [SLOW_RUNS_KEPT]


def _slowest(hours: set[int]) -> list[OverviewSlowRun]:
    sql, params = _slow_runs_sql(hours) if hours else ("", [])
    if not sql:
        return []
    with current_source().connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    key = current_source().key
    names = ("hour", *GROUP_COLUMNS, "session_id", "run_id")
    return [
        OverviewSlowRun(source=key, **dict(zip(names, row[:-1], strict=True)), duration=float(row[-1])) for row in rows
    ]


@dataclass(frozen=True)
class Freshness:
    refreshed_at: datetime | None
    recomputed_hours: int = 0  # by the pass that just ran (0: none ran, or nothing had changed)

    @property
    def is_stale(self) -> bool:
        return self.refreshed_at is None or timezone.now() - self.refreshed_at > timedelta(seconds=STALE_SECONDS)


def freshness() -> Freshness:
    state = OverviewRefresh.objects.filter(source=current_source().key).first()
    return Freshness(state.refreshed_at if state else None)


def refresh() -> Freshness:
    """Bring the summary up to date: recompute the hours with sessions created or updated since the last
    pass, and those whose session count changed (a deleted session leaves no trace but the count)."""
    key = current_source().key
    state = OverviewRefresh.objects.filter(source=key).first()
    sessions = _sessions()
    counted = dict(sessions.annotate(hour=hour_of()).values_list("hour").annotate(n=Count("*")))
    summarised = dict(
        OverviewHour.objects.filter(source=key).order_by().values_list("hour").annotate(n=Sum("sessions"))
    )
    stale = {hour for hour in counted.keys() | summarised.keys() if counted.get(hour) != summarised.get(hour)}
    newest = sessions.aggregate(at=Max(Greatest("created_at", Coalesce("updated_at", "created_at"))))["at"] or (
        state.written_until if state else 0
    )
    if state:
        # `>=`: a write in the very second the last pass saw may have come after it.
        written = sessions.filter(Q(created_at__gte=state.written_until) | Q(updated_at__gte=state.written_until))
        stale |= set(written.annotate(hour=hour_of()).values_list("hour", flat=True).distinct())
    rows, slow_runs = _summarise(stale & counted.keys()), _slowest(stale & counted.keys())
    with transaction.atomic(using=OverviewHour.objects.db):
        for model in (OverviewHour, OverviewSlowRun):
            summary = model.objects.filter(source=key)
            (summary.filter(hour__in=stale) if state else summary).delete()
        OverviewHour.objects.bulk_create(rows, batch_size=1000)
        OverviewSlowRun.objects.bulk_create(slow_runs, batch_size=1000)
        now = timezone.now()
        OverviewRefresh.objects.update_or_create(source=key, defaults={"refreshed_at": now, "written_until": newest})
    return Freshness(now, len(stale))


def refresh_if_stale() -> Freshness:
    current = freshness()
    return refresh() if current.is_stale else current


# --- Reading the figures of a range.


@dataclass(frozen=True)
class Selection:
    """Which sessions a figure covers: [start, end) in epoch seconds and the list's filters that validated."""

    start: int
    end: int
    filters: dict[str, str] = field(default_factory=dict)  # GROUP_COLUMNS -> value
    sessions: QuerySet | None = None  # the list's FilterSet queryset for the same range and filters

    def summary(self, model=OverviewHour) -> QuerySet:
        return model.objects.filter(
            source=current_source().key, hour__gte=self.start, hour__lt=self.end, **self.filters
        ).order_by()


@dataclass
class HourFigures:
    sessions: int = 0
    runs: int = 0
    errored_runs: int = 0
    input_tokens: int = 0
    output_tokens: int = 0

    def add(self, other: HourFigures) -> None:
        for name in ("sessions", "runs", "errored_runs", "input_tokens", "output_tokens"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def error_rate(self) -> float | None:
        return self.errored_runs / self.runs if self.runs else None


def hourly(selection: Selection) -> dict[int, HourFigures]:
    """The figures of each hour that has any: sessions counted by the list's filter, the rest from the summary."""
    figures: dict[int, HourFigures] = {}
    summed = (
        selection.summary()
        .values_list("hour")
        .annotate(Sum("runs"), Sum("errored_runs"), Sum("input_tokens"), Sum("output_tokens"))
    )
    for hour, runs, errored, input_tokens, output_tokens in summed:
        figures[hour] = HourFigures(0, runs, errored, input_tokens, output_tokens)
    counted = selection.sessions.order_by().annotate(hour=hour_of()).values_list("hour").annotate(n=Count("*"))
    for hour, sessions in counted:
        figures.setdefault(hour, HourFigures()).sessions = sessions
    return figures


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
    """The TOP slowest top-level runs of the selected sessions."""
    return list(selection.summary(OverviewSlowRun).order_by("-duration", "run_id")[:TOP])
