"""Which rows: the list's filter parameters (design.md section 4), validated, as a django-filter FilterSet.

A parameter that does not validate is left out of the query; the list (`sessions_ui.listing`) says
what was ignored. The order is the list's too (`queries.order_by_sort`): this only selects.
"""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from sessions_ui import queries
from sessions_ui.agno import SESSION_TYPES
from sessions_ui.models import AgnoSession


class SessionFilter(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(choices=[(t, t) for t in SESSION_TYPES], method="of_type")
    agent_id = django_filters.CharFilter()
    team_id = django_filters.CharFilter()
    workflow_id = django_filters.CharFilter()
    user_id = django_filters.CharFilter()
    q = django_filters.CharFilter(method="search")
    created = django_filters.DateFromToRangeFilter(method="created_between")

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
