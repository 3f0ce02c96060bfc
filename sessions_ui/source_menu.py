"""The header's source menu: the sources this user may see, with their session counts, and which is shown."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache
from django.db import OperationalError
from django.http import HttpRequest

from sessions_ui.queries.pages import list_total
from sessions_ui.sources import Source, current_source, reverse, using_source, visible_sources

# A count in the menu is this old at most; a source found down is asked again after as long.
COUNT_SECONDS = 60
DOWN = -1


@dataclass(frozen=True)
class MenuEntry:
    source: Source
    url: str  # the same kind of page (list or audit log) in that source, without the filters
    sessions: int | None  # None: its database is down
    sessions_are: str  # "exact", "at least" or "about" (queries.pages.ListPage.total_is)


def session_count(source: Source) -> tuple[int | None, str]:
    """How many sessions the source has (as the unfiltered list counts them), cached; None when it is down."""

    def count() -> tuple[int, str]:
        try:
            with using_source(source):
                return list_total(source.Session.objects.all(), filtered=False)
        except OperationalError:
            return DOWN, "exact"

    total, total_is = cache.get_or_set(f"sessions_ui:menu-count:{source.key}", count, COUNT_SECONDS)
    return (None if total == DOWN else total), total_is


def role(user, source: Source) -> str:
    """The user's role on the source's sessions, as `dashboard_user --role` names them: an admin may delete,
    an editor edit, a viewer look; "" without even the view permission."""
    for action, name in (("delete", "admin"), ("change", "editor"), ("view", "viewer")):
        if user.has_perm(source.permission(action)):
            return name
    return ""


def source_menu(request: HttpRequest) -> dict:
    """Context processor: `source` (the one shown), `may_view_source`, the user's `role` on it, and
    `source_menu` when there are several."""
    if not request.user.is_authenticated:
        return {}
    shown = current_source()
    context = {"source": shown, "may_view_source": shown.visible_to(request.user), "role": role(request.user, shown)}
    sources = visible_sources(request.user)
    if len(sources) < 2:
        return context
    match = request.resolver_match
    kind = "sessions_ui:audit" if match is not None and match.url_name == "audit" else "sessions_ui:list"
    entries = []
    for source in sources:
        with using_source(source):
            url = reverse(kind)
        entries.append(MenuEntry(source, url, *session_count(source)))
    return context | {"source_menu": entries}
