"""Which rows: the list's query parameters (design.md section 4), validated, as a django-filter FilterSet.

A parameter that does not validate is left out of the query and reported by `problems()`, so the
page renders with sensible defaults and says what it ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

import django_filters
from django.db.models import F, Q, QuerySet
from django.http import QueryDict

from sessions_ui.agno import SESSION_TYPES
from sessions_ui.models import AgnoSession
from sessions_ui.queries import JSONText, Unindexed

SORTS = {
    "-created_at": "Newest first",
    "created_at": "Oldest first",
    "-updated_at": "Recently updated",
    "updated_at": "Least recently updated",
}
DEFAULT_SORT = "-created_at"
SMALLEST_BIGINT = -(2**63)
LABELS = {
    "type": "type",
    "agent_id": "agent",
    "team_id": "team",
    "workflow_id": "workflow",
    "user_id": "user",
    "q": "search",
    "created_after": "created from",
    "created_before": "created until",
}


def order_by_sort(queryset: QuerySet, key: str, *, searching: bool = False) -> QuerySet:
    """Order by one of SORTS, ties broken by session_id so pages never overlap or skip rows."""
    field = key.lstrip("-")
    if field == "created_at" and not searching:
        # Indexed by Agno: the database walks the index and stops after a page. The always-true
        # bound is for SQLite, which without it sorts the whole table as soon as a filter (and
        # the session_id tie-break) is added: a second instead of milliseconds at 300,000 rows.
        return queryset.filter(created_at__gte=SMALLEST_BIGINT).order_by(key, "session_id")
    # A search tests every row it cannot rule out: ordering by an expression makes the database scan
    # the table once and keep the top rows, rather than walk the index and fetch each row at random
    # (five times slower when few rows match). A frequent term's page is found before this query
    # runs, among the newest rows (queries.list_page); an opt-in trigram index (manage.py
    # agno_indexes) turns this scan into an index lookup.
    column = F(field) + 0 if searching else F(field)
    order = column.desc(nulls_last=True) if key.startswith("-") else column.asc(nulls_last=True)
    return queryset.order_by(order, "session_id")


def searched_texts() -> dict[str, F | JSONText]:
    """What `q` searches. `icontains` compares UPPER(text::text) LIKE UPPER(%q%), and `manage.py
    agno_indexes` builds its trigram indexes on exactly that, from these expressions."""
    return {"session_id": F("session_id"), "session_name": JSONText("session_data", "session_name")}


@dataclass(frozen=True)
class Chip:
    """An active filter, shown as a removable chip."""

    param: str
    label: str
    value: str
    remove_query: str


class SessionFilter(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(choices=[(t, t) for t in SESSION_TYPES], method="of_type")
    agent_id = django_filters.CharFilter()
    team_id = django_filters.CharFilter()
    workflow_id = django_filters.CharFilter()
    user_id = django_filters.CharFilter()
    q = django_filters.CharFilter(method="search")
    created = django_filters.DateFromToRangeFilter(method="created_between")
    sort = django_filters.ChoiceFilter(choices=list(SORTS.items()), method="ordered_last")

    class Meta:
        model = AgnoSession
        fields: list[str] = []

    def of_type(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.alias(unindexed_type=Unindexed("session_type")).filter(unindexed_type=value)

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Session id or name contains `value` (LIKE wildcards in it are escaped by Django)."""
        texts = {f"searched_{column}": expression for column, expression in searched_texts().items()}
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

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        return order_by_sort(queryset, self.sort_key, searching=bool(self.form.cleaned_data.get("q")))

    def ordered_last(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """The order depends on the search too: `filter_queryset` applies it once every filter is known."""
        return queryset

    @property
    def sort_key(self) -> str:
        self.is_valid()
        return self.form.cleaned_data.get("sort") or DEFAULT_SORT

    @property
    def searches_newest_first(self) -> bool:
        """A search in the default order, which `queries.list_page` first answers from the newest sessions."""
        self.is_valid()
        return bool(self.form.cleaned_data.get("q")) and self.sort_key == DEFAULT_SORT

    @property
    def is_filtered(self) -> bool:
        self.is_valid()
        return any(value for name, value in self.form.cleaned_data.items() if name != "sort")

    def chips(self, fixed: tuple[str, ...] = ()) -> list[Chip]:
        """The valid active filters, each with the query string that removes it (and resets the page)."""
        self.is_valid()
        chips = []
        for param in LABELS:
            value = self.data.get(param, "")
            if param in fixed or not value or self._field_of(param) not in self.form.cleaned_data:
                continue
            query = self.data.copy() if isinstance(self.data, QueryDict) else QueryDict(mutable=True)
            for name in (param, "page", *fixed):
                query.pop(name, None)
            chips.append(Chip(param, LABELS[param], value, f"?{query.urlencode()}"))
        return chips

    def problems(self) -> list[str]:
        """What was ignored, in words a user can act on."""
        messages = []
        for field in self.errors:
            if field == "created":
                given = " / ".join(
                    repr_value(self.data.get(param))
                    for param in ("created_after", "created_before")
                    if self.data.get(param)
                )
                messages.append(f"{given} is not a date (use YYYY-MM-DD): the created-at range is ignored.")
            elif field == "type":
                messages.append(
                    f"{repr_value(self.data.get('type'))} is not a session type (agent, team or workflow):"
                    " showing every type."
                )
            elif field == "sort":
                messages.append(
                    f"{repr_value(self.data.get('sort'))} is not a sort order ({', '.join(SORTS)}):"
                    " showing the newest first."
                )
            else:
                messages.append(f"The {LABELS.get(field, field)} filter {repr_value(self.data.get(field))} is ignored.")
        return messages

    @staticmethod
    def _field_of(param: str) -> str:
        return "created" if param.startswith("created_") else param


def repr_value(value) -> str:
    """A user-supplied value quoted for a message, cut short and without control characters."""
    text = "".join(char for char in str(value) if char.isprintable())
    return f"“{text[:60]}{'…' if len(text) > 60 else ''}”"
