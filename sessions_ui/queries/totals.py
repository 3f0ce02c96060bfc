"""Counts across many sessions: the filter choices (most frequent values per column) and a user's totals.

Each is a GROUP BY or an aggregate over the whole table (Agno indexes none of these columns), so the
list never waits for them: choices are cached and asked for separately, totals are a user page's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.core.cache import cache
from django.db.models import Count, Max, Min, Sum

from sessions_ui import agno
from sessions_ui.queries.runs import run_total
from sessions_ui.queries.sql_json import JSONNumber, JSONText, component_model
from sessions_ui.schema import has_inline_runs
from sessions_ui.sources import current_source

CHOICE_COLUMNS = ("agent_id", "team_id", "workflow_id", "user_id")
# The config JSON whose `name` names a component's id (twin of `agno.decode_component(...).name`).
NAMED_BY = {"agent_id": "agent_data", "team_id": "team_data", "workflow_id": "workflow_data"}
CHOICES_LIMIT = 100
CHOICES_SECONDS = 300
USER_INLINE_RUNS_CAP = 2_000


@dataclass(frozen=True)
class Choice:
    """A value of a filter column, the name its component's config gives it (most used first), its sessions."""

    value: str
    sessions: int
    names: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.names[0] if self.names else ""

    @property
    def label(self) -> str:
        """As the table shows it: "Travel Planner (travel-team)", or the id alone."""
        return f"{self.name} ({self.value})" if self.name and self.name != self.value else self.value


@dataclass(frozen=True)
class Resolved:
    """What a typed filter value means: the ids it selects, and the choices it matched (none: no known id or name)."""

    ids: list[str]
    matched: list[Choice] = field(default_factory=list)

    @property
    def label(self) -> str:
        """“Travel Planner (travel-agent, trip-agent)” when the choices share a name, else their ids."""
        if not self.matched:
            return ", ".join(self.ids)
        ids = ", ".join(choice.value for choice in self.matched)
        names = {choice.name.casefold() for choice in self.matched}
        if len(names) == 1 and "" not in names and self.matched[0].name != ids:
            return f"{self.matched[0].name} ({ids})"
        return ids


def _choices_key() -> str:
    return f"sessions_ui:choices:2:{current_source().key}"  # 2: Choice objects with names


def forget_filter_choices() -> None:
    """Count the choices again on their next use (tests that write sessions between pages)."""
    cache.delete(_choices_key())


def cached_filter_choices() -> dict[str, list[Choice]] | None:
    """The filter choices if they were counted recently, without touching the database."""
    return cache.get(_choices_key())


def _column_choices(column: str) -> list[Choice]:
    """The CHOICES_LIMIT most frequent values of `column`, each with its component's names (most used first)."""
    sessions = current_source().Session.objects.exclude(**{column: None}).exclude(**{column: ""}).order_by()
    if column not in NAMED_BY:
        counted = sessions.values_list(column).annotate(sessions=Count("*")).order_by("-sessions", column)
        return [Choice(value, count) for value, count in counted[:CHOICES_LIMIT]]
    named = (
        sessions.annotate(name=JSONText(NAMED_BY[column], "name"))
        .values_list(column, "name")
        .annotate(sessions=Count("*"))
        .order_by("-sessions", column, "name")
    )
    counts: dict[str, int] = {}
    names: dict[str, list[str]] = {}
    for value, name, count in named[: CHOICES_LIMIT * 2]:
        counts[value] = counts.get(value, 0) + count
        if isinstance(name, str) and name.strip():  # a name of another JSON type is no name (decode_component)
            names.setdefault(value, []).append(name.strip())
    ordered = sorted(counts, key=lambda value: (-counts[value], value))[:CHOICES_LIMIT]
    return [Choice(value, counts[value], tuple(dict.fromkeys(names.get(value, ())))) for value in ordered]


def filter_choices() -> dict[str, list[Choice]]:
    """The most frequent values of each filter column with their session counts (and the agents', teams' and
    workflows' names), cached for a few minutes.

    Each is a GROUP BY over the whole table (Agno indexes none of these columns), so the list page
    never waits for them: the page asks for them separately, and a full page only shows cached ones.
    """

    def count() -> dict[str, list[Choice]]:
        choices = {column: _column_choices(column) for column in CHOICE_COLUMNS}
        # The components' models (the `model` filter), read from their config JSON.
        choices["model"] = [
            Choice(value, count)
            for value, count in current_source()
            .Session.objects.annotate(model=component_model()["model_id"])
            .exclude(model=None)
            .exclude(model="")
            .order_by()
            .values_list("model")
            .annotate(sessions=Count("*"))
            .order_by("-sessions", "model")[:CHOICES_LIMIT]
        ]
        return choices

    choices = cache.get(_choices_key())
    if choices is None:
        choices = count()
        # None counted yet (a database Agno has not written to): counted again next time, not in five minutes.
        if any(choices.values()):
            cache.set(_choices_key(), choices, CHOICES_SECONDS)
    return choices


def resolve_choice(column: str, value: str) -> Resolved:
    """The ids a value typed in the `column` filter selects: the value itself when it is one of the choices'
    ids, else the choices whose id or name equals it in any case (and the value itself, for an id beyond the
    CHOICES_LIMIT most frequent). The filter then compares ids, so an index on the column still serves it.

    Uses the cached choices, and counts them (once per CHOICES_SECONDS) when a typed value needs them.
    """
    choices = filter_choices().get(column, [])
    exact = [choice for choice in choices if choice.value == value]
    if exact:
        return Resolved([value], exact)
    folded = value.strip().casefold()
    matched = [
        choice
        for choice in choices
        if choice.value.casefold() == folded or any(name.casefold() == folded for name in choice.names)
    ]
    return Resolved(list(dict.fromkeys([value, *(choice.value for choice in matched)])), matched)


@dataclass
class UserTotals:
    sessions: int
    runs: int | None  # None: too many sessions with inline (Agno 2.x) runs to count them quickly
    tokens: int
    first_seen: datetime | None
    last_seen: datetime | None


def user_totals(user_id: str) -> UserTotals:
    """Totals over all sessions of one user: one aggregate query, plus the run count."""
    sessions = current_source().Session.objects.filter(user_id=user_id).order_by()
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
