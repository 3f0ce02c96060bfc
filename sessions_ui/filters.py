"""Which rows: the list's filter parameters (design.md section 4), validated, as a django-filter FilterSet.

A parameter that does not validate is left out of the query; the list (`sessions_ui.listing`) says
what was ignored. The order is the list's too (`queries.order_by_sort`): this only selects.
"""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet

from sessions_ui import queries
from sessions_ui.agno import SESSION_TYPES
from sessions_ui.agno.text import search_words
from sessions_ui.models import AgnoSession
from sessions_ui.queries import text
from sessions_ui.queries.positions import Position
from sessions_ui.queries.sql_json import component_model
from sessions_ui.schema import has_runs_table
from sessions_ui.sources import current_source

# Agno's RunStatus values, which it stores upper case (`ERROR`); the URL says them in lower case.
RUN_STATUSES = ("completed", "error", "paused", "cancelled", "running", "pending", "regenerated")
TEXT_MAX = 200
# Where a scan for `text` (without the text index) starts: the place "search older" continues from.
TEXT_FROM = "text_from"


class SessionFilter(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(choices=[(t, t) for t in SESSION_TYPES], method="of_type")
    agent_id = django_filters.CharFilter()
    team_id = django_filters.CharFilter()
    workflow_id = django_filters.CharFilter()
    user_id = django_filters.CharFilter()
    q = django_filters.CharFilter(method="search")
    created = django_filters.DateFromToRangeFilter(method="created_between")
    status = django_filters.ChoiceFilter(choices=[(s, s) for s in RUN_STATUSES], method="with_run_status")
    model = django_filters.CharFilter(method="with_model")
    text = django_filters.CharFilter(method="in_conversations", max_length=TEXT_MAX)
    text_scan: text.Scan | None = None

    class Meta:
        model = AgnoSession
        fields: list[str] = []

    def of_type(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.alias(unindexed_type=queries.Unindexed("session_type")).filter(unindexed_type=value)

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
        return any(self.form.cleaned_data.values())

    @property
    def searching(self) -> bool:
        """A search (`q`) is among the valid filters: it tests every row it reads (see queries.order_by_sort)."""
        self.is_valid()
        return bool(self.form.cleaned_data.get("q"))
