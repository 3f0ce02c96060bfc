"""Which rows: the list's filter parameters (design.md section 4), validated, as a django-filter FilterSet.

A parameter that does not validate is left out of the query; the list (`sessions_ui.listing`) says
what was ignored. The order is the list's too (`queries.order_by_sort`): this only selects.
"""

from __future__ import annotations

import time
from functools import cached_property

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet

from sessions_ui import queries
from sessions_ui.agno import SESSION_TYPES
from sessions_ui.agno.text import search_words
from sessions_ui.models import AgnoSession
from sessions_ui.queries import text
from sessions_ui.queries.measures import INLINE_RUNS_WINDOW, parse_size, with_measure
from sessions_ui.queries.pages import SORT_INDEXES, newest_bound
from sessions_ui.queries.positions import Position
from sessions_ui.queries.sql_json import SummaryPresent, component_model
from sessions_ui.schema import has_index, has_inline_runs, has_runs_table
from sessions_ui.sources import current_source

# Agno's RunStatus values, which it stores upper case (`ERROR`); the URL says them in lower case.
RUN_STATUSES = ("completed", "error", "paused", "cancelled", "running", "pending", "regenerated")
TEXT_MAX = 200
# The presets of `created_within` and `updated_within`: their label and length in seconds.
DAY = 86_400
WITHIN = {
    "24h": ("last 24 hours", DAY),
    "3d": ("last 3 days", 3 * DAY),
    "7d": ("last 7 days", 7 * DAY),
    "30d": ("last 30 days", 30 * DAY),
}
# A runs or size range over Agno 3.x's runs table is a subquery per session: among this many newest.
RANGE_WINDOW = 10_000
# The range filters' parameters: (measure, bound) by name; see sessions_ui/queries/measures.py.
RANGES = {f"{measure}_{bound}": (measure, bound) for measure in ("runs", "tokens", "size") for bound in ("min", "max")}


class CountField(forms.IntegerField):
    """A count: a whole number from 0 (a bigint at most)."""

    def __init__(self, **kwargs):
        super().__init__(min_value=0, max_value=2**62, **kwargs)


class SizeField(forms.CharField):
    """A number of bytes: 4096, 10k, 1.5MB, 2MiB (k and KB are 1,000 bytes, KiB 1,024)."""

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        size = parse_size(value)
        if size is None:
            raise forms.ValidationError("not a size")
        return size


class CountFilter(django_filters.Filter):
    field_class = CountField


class SizeFilter(django_filters.Filter):
    field_class = SizeField
# Where a scan for `text` (without the text index) starts: the place "search older" continues from.
TEXT_FROM = "text_from"


class SessionFilter(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(choices=[(t, t) for t in SESSION_TYPES], method="of_type")
    agent_id = django_filters.CharFilter(method="by_id_or_name")
    team_id = django_filters.CharFilter(method="by_id_or_name")
    workflow_id = django_filters.CharFilter(method="by_id_or_name")
    user_id = django_filters.CharFilter(method="by_id_or_name")
    q = django_filters.CharFilter(method="search")
    created = django_filters.DateFromToRangeFilter(method="created_between")
    created_within = django_filters.ChoiceFilter(choices=[(key, key) for key in WITHIN], method="within")
    updated_within = django_filters.ChoiceFilter(choices=[(key, key) for key in WITHIN], method="within")
    status = django_filters.ChoiceFilter(choices=[(s, s) for s in RUN_STATUSES], method="with_run_status")
    model = django_filters.CharFilter(method="with_model")
    text = django_filters.CharFilter(method="in_conversations", max_length=TEXT_MAX)
    has_summary = django_filters.ChoiceFilter(choices=[("1", "with"), ("0", "without")], method="with_summary")
    runs_min = CountFilter(method="in_range")
    runs_max = CountFilter(method="in_range")
    tokens_min = CountFilter(method="in_range")
    tokens_max = CountFilter(method="in_range")
    size_min = SizeFilter(method="in_range")
    size_max = SizeFilter(method="in_range")
    text_scan: text.Scan | None = None

    class Meta:
        model = AgnoSession
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._newest_bounds: dict[int, int | None] = {}

    def of_type(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.alias(unindexed_type=queries.Unindexed("session_type")).filter(unindexed_type=value)

    def by_id_or_name(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """The sessions of the ids `value` means (queries.resolve_choice): an id, or a name or id in any case."""
        return queryset.filter(**{f"{name}__in": queries.resolve_choice(name, value).ids})

    def within(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Created (or updated) in the last day, days... as Agno's epoch seconds. No index of Agno's serves
        updated_at: without the opt-in one, only the NEWEST_WINDOW newest sessions are looked at (see
        updated_window), as a sort by updated_at does."""
        column = name.removesuffix("_within") + "_at"
        queryset = queryset.filter(**{f"{column}__gte": int(time.time()) - WITHIN[value][1]})
        if column == "updated_at" and self.updated_window is not None:
            queryset = queryset.filter(created_at__gte=self.updated_window)
        return queryset

    @cached_property
    def updated_window(self) -> int | None:
        """created_at of the NEWEST_WINDOW-th newest session when no index serves updated_at (None: one does,
        or there are fewer sessions). An `updated_at >= ?` test of every row would read the whole table."""
        if any(has_index(suffix) for suffix in SORT_INDEXES.values()):
            return None
        return newest_bound()

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Session id or name contains `value` (LIKE wildcards in it are escaped by Django)."""
        texts = {f"searched_{column}": expression for column, expression in queries.searched_texts().items()}
        matches = Q()
        for alias in texts:
            matches |= Q(**{f"{alias}__icontains": value})
        return queryset.alias(**texts).filter(matches)

    def with_run_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Sessions with a run in that state in Agno 3.x's runs table, from its `status` column: no run blob
        is read. Runs kept inline (Agno 2.x) are not looked at: SessionList says so, or ignores the filter
        when there is no runs table."""
        if not has_runs_table():
            return queryset.none()  # no table to ask (and a bulk delete by these filters deletes nothing)
        runs = current_source().Run.objects.filter(session_id=OuterRef("session_id"), status=value.upper())
        return queryset.filter(Exists(runs))

    def with_model(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """The component's model (its config's `model.id`, stored with the session), exactly; the models of
        single runs are inside the run blobs, which the list never reads."""
        return queryset.alias(**component_model()).filter(Q(model_id=value) | Q(model_text=value))

    def with_summary(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Sessions with (1) or without (0) a summary, as the list shows "✓ summary" (sql_json.SummaryPresent)."""
        return queryset.alias(summarized=SummaryPresent()).filter(summarized=value == "1")

    def in_range(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        """Sessions whose runs, tokens or stored size (sessions_ui/queries/measures.py) is at least or at most
        `value`, among the newest sessions where the measure is costly (range_window)."""
        measure, bound = RANGES[name]
        queryset, measured = with_measure(queryset, measure)
        window = self.range_window(measure)
        newest = self.newest_bound(window) if window else None
        if newest is not None:
            queryset = queryset.filter(created_at__gte=newest)
        return queryset.filter(**{f"{measured.name}__{'gte' if bound == 'min' else 'lte'}": value})

    @staticmethod
    def range_window(measure: str) -> int:
        """How many newest sessions a range of `measure` reads (0: all of them). Counting inline (Agno 2.x)
        runs reads their blobs (INLINE_RUNS_WINDOW, as a sort by runs does); runs and sizes in the runs table are a
        subquery per session (RANGE_WINDOW); tokens and the session row's size read the row only."""
        if measure == "runs" and has_inline_runs():
            return INLINE_RUNS_WINDOW
        if measure in ("runs", "size") and has_runs_table():
            return RANGE_WINDOW
        return 0

    def newest_bound(self, window: int) -> int | None:
        """created_at of the `window`-th newest session created by the end of the created-at range (None: there
        are fewer). One walk of created_at's index, once per window."""
        if window not in self._newest_bounds:
            self.is_valid()
            newest = current_source().Session.objects.order_by("-created_at")
            created = self.form.cleaned_data.get("created")
            if created and created.stop:
                newest = newest.filter(created_at__lte=int(created.stop.timestamp()))
            self._newest_bounds[window] = next(
                iter(newest.values_list("created_at", flat=True)[window - 1 : window]), None
            )
        return self._newest_bounds[window]

    def in_conversations(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Sessions whose conversations (runs of both layouts, offloaded tool results, summary) hold every word
        of `value`: from the text index when it is on, else by the bounded scan (queries.text), which
        starts after the `text_from` place and leaves what it read in `text_scan`."""
        words = search_words(value)
        if not words:
            return queryset  # SessionList says so
        if text.index_state() is not None:
            return text.indexed(queryset, words)
        self.text_scan = text.scan(queryset, words, Position.parse(self.data.get(TEXT_FROM)))
        return queryset.filter(session_id__in=list(self.text_scan.matches))

    def created_between(self, queryset: QuerySet, name: str, value: slice) -> QuerySet:
        """Whole days in the server's time zone (the field gives 00:00 to 23:59:59.999); Agno stores epoch seconds."""
        if value.start:
            queryset = queryset.filter(created_at__gte=int(value.start.timestamp()))
        if value.stop:
            queryset = queryset.filter(created_at__lte=int(value.stop.timestamp()))
        return queryset

    @property
    def is_filtered(self) -> bool:
        self.is_valid()  # cleans the form: cleaned_data holds the filters that validated
        # A range bound of 0 (runs_max=0) filters too.
        return any(value or type(value) is int for value in self.form.cleaned_data.values())

    @property
    def searching(self) -> bool:
        """A search (`q`) is among the valid filters: it tests every row it reads (see queries.order_by_sort).
        So is an `updated_within` that reads the whole table: ordered by an expression, the rows are found by
        the updated_at index and then sorted, where a walk of created_at's index would test every row for
        a rare match (seconds at 300,000 rows on SQLite)."""
        self.is_valid()
        cleaned = self.form.cleaned_data
        return bool(cleaned.get("q")) or bool(cleaned.get("updated_within") and self.updated_window is None)
