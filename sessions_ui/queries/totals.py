"""Counts across many sessions: the filter choices (most frequent values per column) and a user's totals.

Each is a GROUP BY or an aggregate over the whole table (Agno indexes none of these columns), so the
list never waits for them: choices are cached and asked for separately, totals are a user page's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.db.models import Count, Max, Min, Sum

from sessions_ui import agno
from sessions_ui.queries.runs import run_total
from sessions_ui.queries.sql_json import JSONNumber, component_model
from sessions_ui.schema import has_inline_runs
from sessions_ui.sources import current_source

CHOICE_COLUMNS = ("agent_id", "team_id", "workflow_id", "user_id")
CHOICES_LIMIT = 100
CHOICES_SECONDS = 300
USER_INLINE_RUNS_CAP = 2_000


def _choices_key() -> str:
    return f"sessions_ui:choices:{current_source().key}"


def cached_filter_choices() -> dict[str, list[tuple[str, int]]] | None:
    """The filter choices if they were counted recently, without touching the database."""
    return cache.get(_choices_key())


def filter_choices() -> dict[str, list[tuple[str, int]]]:
    """The most frequent values of each filter column with their session counts, cached for a few minutes.

    Each is a GROUP BY over the whole table (Agno indexes none of these columns), so the list page
    never waits for them: the page asks for them separately, and a full page only shows cached ones.
    """

    def count() -> dict[str, list[tuple[str, int]]]:
        choices = {
            column: list(
                current_source()
                .Session.objects.exclude(**{column: None})
                .exclude(**{column: ""})
                .order_by()
                .values_list(column)
                .annotate(sessions=Count("*"))
                .order_by("-sessions", column)[:CHOICES_LIMIT]
            )
            for column in CHOICE_COLUMNS
        }
        # The components' models (the `model` filter), read from their config JSON.
        choices["model"] = list(
            current_source()
            .Session.objects.annotate(model=component_model()["model_id"])
            .exclude(model=None)
            .exclude(model="")
            .order_by()
            .values_list("model")
            .annotate(sessions=Count("*"))
            .order_by("-sessions", "model")[:CHOICES_LIMIT]
        )
        return choices

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
