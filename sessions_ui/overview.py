"""What the overview page shows: its range and filters read once, its figures per bucket, and every link.

The filters are the list's own (a `SessionList` over the same parameters), so a bar counts the
sessions of the list it links to; the range is whole days in the server's time zone, as the list's
`created_after` / `created_before`. Charts are SVG drawn by the template from the geometry here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from urllib.parse import quote, urlencode

from django.http import QueryDict
from django.utils import timezone

from sessions_ui.listing import SessionList, repr_value
from sessions_ui.queries import overview as figures
from sessions_ui.sources import reverse

DEFAULT_DAYS = 14
MAX_DAYS = 366
FILTERS = ("type", "agent_id", "team_id", "workflow_id", "user_id")
# Bars of a time-series chart: the SVG's coordinate space (it scales to the page's width).
CHART_WIDTH, CHART_HEIGHT, AXIS_WIDTH, LABEL_HEIGHT = 720, 160, 44, 18
RANK_ROW, RANK_LABEL, RANK_BAR, RANK_VALUE = 22, 170, 160, 70


@dataclass(frozen=True)
class Period:
    """Whole days, first to last inclusive, in the server's time zone."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def hourly(self) -> bool:
        """Under two days: one bar per hour."""
        return self.days < 2

    @property
    def start(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.first, time.min))

    @property
    def end(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.last + timedelta(days=1), time.min))

    @property
    def previous(self) -> Period:
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def bucket_starts(self) -> list[datetime]:
        if self.hourly:
            return [self.start + timedelta(hours=hour) for hour in range(24)]
        return [
            timezone.make_aware(datetime.combine(self.first + timedelta(days=n), time.min)) for n in range(self.days)
        ]


def read_period(params: QueryDict, today: date) -> tuple[Period, list[str]]:
    """The requested range, or the last DEFAULT_DAYS days with a notice saying why."""
    default = Period(today - timedelta(days=DEFAULT_DAYS - 1), today)
    raw_first, raw_last = params.get("created_after", ""), params.get("created_before", "")
    try:
        first = date.fromisoformat(raw_first) if raw_first else None
        last = date.fromisoformat(raw_last) if raw_last else None
    except ValueError:
        given = " / ".join(repr_value(value) for value in (raw_first, raw_last) if value)
        return default, [f"{given} is not a date (use YYYY-MM-DD): showing the last {DEFAULT_DAYS} days."]
    if first is None and last is None:
        return default, []
    if last is None:
        last = max(first, today)
    if first is None:
        first = last - timedelta(days=DEFAULT_DAYS - 1)
    if last < first:
        return default, [f"The range ends ({last}) before it starts ({first}): showing the last {DEFAULT_DAYS} days."]
    if (last - first).days + 1 > MAX_DAYS:
        first = last - timedelta(days=MAX_DAYS - 1)
        return Period(first, last), [f"A range spans at most {MAX_DAYS} days: showing {first} to {last}."]
    return Period(first, last), []


@dataclass(frozen=True)
class Bucket:
    start: datetime
    label: str
    figures: figures.Figures
    href: str  # the list of the sessions created that day (an hour's bar: its day; the list filters by day)


@dataclass(frozen=True)
class Bar:
    """One bar of a chart, in the SVG's coordinates, with what its hover and table show."""

    x: float
    y: float
    width: float
    height: float
    href: str
    title: str
    css_class: str = ""


@dataclass
class Chart:
    """A time-series chart: stacked bars per bucket (`series` names the stack, bottom first)."""

    title: str
    series: list[tuple[str, str]]  # (label, css class)
    bars: list[Bar] = field(default_factory=list)
    max_value: int = 0
    ticks: list[tuple[float, str]] = field(default_factory=list)  # x, label under the axis
    rows: list[tuple[Bucket, list[int]]] = field(default_factory=list)  # the table: values per series

    width, height, axis, label_height = CHART_WIDTH, CHART_HEIGHT, AXIS_WIDTH, LABEL_HEIGHT

    @property
    def view_height(self) -> int:
        return self.height + self.label_height


@dataclass(frozen=True)
class RankRow:
    label: str
    value: int
    bar_width: float
    href: str | None  # None: the list has no filter for it (models)
    y: int


@dataclass
class Ranking:
    title: str
    unit: str
    rows: list[RankRow]

    label_width, bar_width, row_height = RANK_LABEL, RANK_BAR, RANK_ROW
    width = RANK_LABEL + RANK_BAR + RANK_VALUE

    @property
    def height(self) -> int:
        return self.row_height * len(self.rows)


@dataclass(frozen=True)
class SlowRun:
    duration: float
    session_id: str
    owner: str  # the agent, team or workflow id
    user_id: str | None
    created: datetime
    href: str  # the session's page, at the run


@dataclass(frozen=True)
class Headline:
    label: str
    value: str
    change: str  # "+12%" against the previous period, "" when that had none
    tone: str  # "bad" or "good" for errors that rose or fell, "" for the others (more is neither)
    href: str


class Overview:
    """The overview's parameters, its figures and their links."""

    def __init__(self, params: QueryDict, *, today: date | None = None):
        self.today = today or timezone.localdate()
        self.period, self.notices = read_period(params, self.today)
        self.filter_params = QueryDict(mutable=True)
        for name in FILTERS:
            if params.get(name):
                self.filter_params[name] = params[name]
        if params.get("q"):
            self.notices.append(f"The overview does not search: {repr_value(params['q'])} is ignored.")
        self.cl = self._session_list(self.period)
        self.notices.extend(self.cl.filterset_problems())

    def _params(self, period: Period) -> QueryDict:
        """The filters and `period` as the list's parameters."""
        params = self.filter_params.copy()
        params["created_after"], params["created_before"] = period.first.isoformat(), period.last.isoformat()
        return params

    def _session_list(self, period: Period) -> SessionList:
        return SessionList(self._params(period))

    @cached_property
    def filters(self) -> dict[str, str]:
        """The filters that validated, as the summary's columns."""
        self.cl.filterset.is_valid()
        cleaned = self.cl.filterset.form.cleaned_data
        return {"session_type" if name == "type" else name: cleaned[name] for name in FILTERS if cleaned.get(name)}

    def selection(self, period: Period) -> figures.Selection:
        sessions = self.cl.sessions if period == self.period else self._session_list(period).sessions
        return figures.Selection(int(period.start.timestamp()), int(period.end.timestamp()), self.filters, sessions)

    # --- Links.

    def list_href(self, day: date | None = None, **filters: str) -> str:
        """The list of the sessions a figure counts: this range (or one day) and the filters, plus `filters`."""
        first, last = (day, day) if day else (self.period.first, self.period.last)
        new = {"created_after": first.isoformat(), "created_before": last.isoformat(), **filters}
        return reverse("sessions_ui:list") + self.cl.query_string(new=new, remove=("page",))

    def range_query(self, period: Period) -> str:
        return "?" + self._params(period).urlencode()

    @property
    def shift_links(self) -> dict[str, str | None]:
        """The same length of time before and after this range (none after a range that reaches today)."""
        length = timedelta(days=self.period.days)
        later = Period(self.period.first + length, self.period.last + length)
        return {
            "earlier": self.range_query(Period(self.period.first - length, self.period.last - length)),
            "later": self.range_query(later) if self.period.last < self.today else None,
        }

    # --- Figures.

    @property
    def window(self) -> tuple[int, int]:
        """What a page view's refresh covers: this range and the previous one, which the headlines compare with."""
        return int(self.period.previous.start.timestamp()), int(self.period.end.timestamp())

    @cached_property
    def per_day(self) -> dict[int, figures.Figures]:
        return figures.per_day(self.selection(self.period))

    @cached_property
    def buckets(self) -> list[Bucket]:
        """Days from the summary; the hours of a single day from Agno's tables."""
        selection = self.selection(self.period)
        found = figures.per_hour(selection) if self.period.hourly else self.per_day
        label = "%H:00" if self.period.hourly else "%m-%d"
        return [
            Bucket(
                start,
                start.strftime(label),
                found.get(int(start.timestamp()), figures.Figures()),
                self.list_href(start.date()),
            )
            for start in self.period.bucket_starts()
        ]

    @cached_property
    def total(self) -> figures.Figures:
        return figures.total(self.per_day)

    @cached_property
    def previous_total(self) -> figures.Figures:
        return figures.total(figures.per_day(self.selection(self.period.previous)))

    @property
    def is_empty(self) -> bool:
        return self.total.sessions == 0

    @property
    def headlines(self) -> list[Headline]:
        now, before = self.total, self.previous_total
        everything = self.list_href()
        rate = now.error_rate
        return [
            _headline("Sessions", now.sessions, before.sessions, everything),
            _headline("Runs", now.runs, before.runs, everything),
            _headline("Errored runs", now.errored_runs, before.errored_runs, everything, errors=True),
            Headline(
                "Error rate",
                "–" if rate is None else f"{rate:.1%}",
                _points(rate, before.error_rate),
                _tone(rate - before.error_rate) if rate is not None and before.error_rate is not None else "",
                everything,
            ),
            _headline("Input tokens", now.input_tokens, before.input_tokens, everything),
            _headline("Output tokens", now.output_tokens, before.output_tokens, everything),
        ]

    @property
    def charts(self) -> list[Chart]:
        return [
            self._chart("Sessions", [("sessions", "bar-sessions")], lambda f: [f.sessions]),
            self._chart(
                "Runs",
                [("errored", "bar-errors"), ("completed or other", "bar-runs")],
                lambda f: [f.errored_runs, f.runs - f.errored_runs],
            ),
            self._chart(
                "Tokens",
                [("input", "bar-input"), ("output", "bar-output")],
                lambda f: [f.input_tokens, f.output_tokens],
            ),
        ]

    def _chart(self, title: str, series: list[tuple[str, str]], values_of) -> Chart:
        chart = Chart(title, series)
        rows = [(bucket, values_of(bucket.figures)) for bucket in self.buckets]
        chart.rows = rows
        chart.max_value = max((sum(values) for _, values in rows), default=0)
        slot = (chart.width - chart.axis) / max(len(rows), 1)
        scale = chart.height / chart.max_value if chart.max_value else 0
        every = max(1, round(len(rows) / 8))
        for index, (bucket, values) in enumerate(rows):
            x = chart.axis + index * slot + slot * 0.1
            bottom = chart.height
            for (name, css_class), value in zip(series, values, strict=True):
                if not value:
                    continue
                height = max(value * scale, 1.0)
                bottom -= height
                chart.bars.append(
                    Bar(
                        round(x, 1),
                        round(bottom, 1),
                        round(slot * 0.8, 1),
                        round(height, 1),
                        bucket.href,
                        f"{bucket.label}: {value:,} {name}",
                        css_class,
                    )
                )
            if index % every == 0:
                chart.ticks.append((round(x + slot * 0.4, 1), bucket.label))
        return chart

    @property
    def rankings(self) -> list[Ranking]:
        """The top agents, teams, workflows and users by sessions and by tokens, and tokens by model."""
        shown = []
        for column, noun in (
            ("agent_id", "agents"),
            ("team_id", "teams"),
            ("workflow_id", "workflows"),
            ("user_id", "users"),
        ):
            if column in self.filters:
                continue
            for by in ("sessions", "tokens"):
                ranked = figures.top(self.selection(self.period), column, by=by)
                if any(getattr(row, by) for row in ranked):
                    shown.append(self._ranking(f"Top {noun} by {by}", by, ranked, column))
        by_model = figures.top(self.selection(self.period), "model", by="tokens")
        if any(row.tokens for row in by_model):
            shown.append(self._ranking("Tokens by model", "tokens", by_model, None))
        return shown

    @property
    def slowest_runs(self) -> list[SlowRun]:
        return [
            SlowRun(
                run.duration,
                run.session_id,
                run.agent_id or run.team_id or run.workflow_id or "",
                run.user_id,
                timezone.localtime(datetime.fromtimestamp(run.day, tz=timezone.get_current_timezone())),
                reverse("sessions_ui:detail", args=[run.session_id])
                + f"?{urlencode({'run': run.run_id})}#run-{quote(run.run_id, safe='')}",
            )
            for run in figures.slowest_runs(self.selection(self.period))
        ]

    def _ranking(self, title: str, by: str, ranked: list[figures.Ranked], column: str | None) -> Ranking:
        largest = max(getattr(row, by) for row in ranked) or 1
        rows = [
            RankRow(
                row.value,
                getattr(row, by),
                round(RANK_BAR * getattr(row, by) / largest, 1),
                self.list_href(**{column: row.value}) if column else None,
                index * RANK_ROW,
            )
            for index, row in enumerate(ranked)
        ]
        return Ranking(title, by, rows)


def _headline(label: str, value: int, previous: int, href: str, *, errors: bool = False) -> Headline:
    if not previous:
        return Headline(label, f"{value:,}", "", "", href)
    change = (value - previous) / previous
    return Headline(label, f"{value:,}", f"{change:+.0%}", _tone(change) if errors else "", href)


def _tone(error_change: float) -> str:
    return "bad" if error_change > 0 else "good" if error_change < 0 else ""


def _points(rate: float | None, previous: float | None) -> str:
    if rate is None or previous is None:
        return ""
    return f"{(rate - previous) * 100:+.1f} pt"
