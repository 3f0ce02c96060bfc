"""What a list page shows, as Django admin's ChangeList: the one reader of the list's query string.

`SessionList` reads and validates the parameters (filters, sort, page, live), holds the FilterSet
that selects the rows, and offers the page, the notices, the chips and `query_string()`, from which
every link that carries the list's parameters is built: row cells, chips, sort headers, the pager,
the user page's link to the list, the bulk delete's hidden fields and the way back after a delete.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.http import QueryDict

from sessions_ui import queries
from sessions_ui.agno.text import search_words
from sessions_ui.filters import RUN_STATUSES, TEXT_FROM, TEXT_MAX, SessionFilter
from sessions_ui.queries import text as text_search
from sessions_ui.schema import has_inline_runs, has_runs_table
from sessions_ui.sources import current_source, reverse

SORTS = {
    "-created_at": "Newest first",
    "created_at": "Oldest first",
    "-updated_at": "Recently updated",
    "updated_at": "Least recently updated",
}
DEFAULT_SORT = "-created_at"
FILTER_LABELS = {
    "type": "type",
    "agent_id": "agent",
    "team_id": "team",
    "workflow_id": "workflow",
    "user_id": "user",
    "q": "search",
    "created_after": "created from",
    "created_before": "created until",
    "status": "run status",
    "model": "model",
    "text": "in conversations",
}
# What a list URL carries besides its place (PAGING): a delete returns to the same list (at the same
# place: SessionList.return_parameters), and a bulk delete's confirmation sends the same selection again.
LIST_PARAMETERS = (*FILTER_LABELS, "sort", "live")
PAGE = "page"
# Next and Previous carry the place they continue from (sessions_ui/queries/positions.py).
AFTER, BEFORE = "after", "before"
PAGING = (PAGE, AFTER, BEFORE, TEXT_FROM)


@dataclass(frozen=True)
class Chip:
    """An active filter, shown as a removable chip."""

    param: str
    label: str
    value: str
    remove_query: str


@dataclass(frozen=True)
class SortLink:
    """A sortable column header: the query that sorts by it (or reverses its order), and its state."""

    query: str
    aria_sort: str  # "descending", "ascending" or "" when the list is sorted by another column
    arrow: str


@dataclass(frozen=True)
class PagerLinks:
    first: str
    previous: str
    next: str
    last: str | None


class SessionList:
    """The list page's parameters and every link built from them.

    `params` is the query string (or a POST carrying the list's parameters); on a user's page the
    user is `fixed`: in the path, so it filters the rows but stays out of the links' query strings.
    """

    def __init__(self, params: QueryDict, *, fixed: dict[str, str] | None = None):
        self.params = params
        self.fixed = fixed or {}
        self.data = params.copy()
        for name, value in self.fixed.items():
            self.data[name] = value
        # What a filter does not look at, said with the results (an export goes ahead).
        self.caveats: list[str] = []
        run_status_problem = self._run_status_problem()
        self.filterset = SessionFilter(self.data, queryset=current_source().Session.objects.all())
        self.sort = params.get("sort") or DEFAULT_SORT
        self._problems = self.filterset_problems() + run_status_problem + self._text_problem()
        if self.sort not in SORTS:
            self._problems.append(
                f"{repr_value(self.sort)} is not a sort order ({', '.join(SORTS)}): showing the newest first."
            )
            self.sort = DEFAULT_SORT
        self.page_number = _page_number(params.get(PAGE))
        if self.page_number is None:
            self._problems.append(f"{repr_value(params.get(PAGE))} is not a page number: showing the first page.")
            self.page_number = 1
        self.after, self.before = (self._position(name) for name in (AFTER, BEFORE))
        self.live = params.get("live") == "1"

    def _run_status_problem(self) -> list[str]:
        """The status filter reads Agno 3.x's runs table: without one it is ignored (and said so), and with
        runs kept inline (Agno 2.x) as well, the list says which runs it looked at."""
        status = self.data.get("status")
        if not status or status not in RUN_STATUSES:
            return []  # none, or one that does not validate (filterset_problems says so)
        if not has_runs_table():
            del self.data["status"]
            return [
                "The run status filter reads Agno 3.x's runs table, and this database has none (its runs are"
                " stored inline by Agno 2.x, which the list does not read): showing every status."
            ]
        if has_inline_runs():
            self.caveats.append(
                "The run status filter reads Agno 3.x's runs table: runs stored inline by Agno 2.x are not looked at."
            )
        return []

    def _text_problem(self) -> list[str]:
        """Why `text` is ignored; with the text index on, it is brought up to date first (a bounded pass)."""
        value = self.data.get("text") or ""
        if not value.strip() or "text" in self.filterset.errors:
            return []
        if not search_words(value):
            del self.data["text"]
            self.filterset = SessionFilter(self.data, queryset=current_source().Session.objects.all())
            return [f"{repr_value(value)} has no words to search for: the search in conversations is ignored."]
        if text_search.index_state() is not None and text_search.refresh().pending:
            self.caveats.append(
                "The text index is catching up with what Agno wrote: the newest sessions may be missing from"
                " this search for a moment (manage.py agno_text_index brings it up to date)."
            )
        return []

    @property
    def text_words(self) -> list[str]:
        """The words the list searches conversations for ([] when it does not)."""
        self.filterset.is_valid()
        return search_words(self.filterset.form.cleaned_data.get("text") or "")

    def text_matches(self, session_ids: list[str]) -> dict[str, text_search.TextMatch]:
        """Where each of these sessions matched the search in conversations: the run and a snippet."""
        words = self.text_words
        if not words:
            return {}
        scan = self.filterset.text_scan
        if scan is not None:
            return scan.matches
        return text_search.indexed_matches(session_ids, words)

    @property
    def text_older_query(self) -> str | None:
        """The link that continues a scan for `text` from where this one stopped (None: nothing older is left)."""
        self.filterset.qs  # noqa: B018 (the scan runs with the query)
        scan = self.filterset.text_scan
        if scan is None or scan.older is None:
            return None
        return self.query_string({TEXT_FROM: scan.older.token}, remove=PAGING)

    def _text_notice(self) -> list[str]:
        words = self.text_words
        if not words:
            return []
        self.filterset.qs  # noqa: B018 (the scan runs with the query)
        scan = self.filterset.text_scan
        quoted = repr_value(" ".join(words))
        if scan is None:
            return [f"Searched the text index of the conversations for the words {quoted}."]
        where = " older than the last search's" if self.params.get(TEXT_FROM) else ""
        stopped = (
            " and stopped there (“Search older” continues)"
            if scan.older is not None
            else (", the oldest included" if scan.scanned else "")
        )
        return [
            f"Scanning: searched the {scan.scanned:,} newest sessions{where} for the words {quoted}{stopped}."
            " The text index (manage.py agno_indexes --text) makes this search fast and complete."
        ]

    def _position(self, name: str) -> queries.Position | None:
        token = self.params.get(name)
        position = queries.Position.parse(token)
        if token and position is None:
            self._problems.append(f"{repr_value(token)} is not a place in the list: showing page {self.page_number}.")
        return position

    @property
    def on_list(self) -> bool:
        """The list page itself, not a user's page (whose links to a filtered list go to the list page)."""
        return not self.fixed

    @property
    def is_filtered(self) -> bool:
        return self.filterset.is_filtered

    @cached_property
    def sessions(self) -> QuerySet:
        """The selected sessions in the list's order."""
        return queries.order_by_sort(self.filterset.qs, self.sort, searching=self.filterset.searching)

    @cached_property
    def _listed(self) -> tuple[QuerySet, bool]:
        """What the list's pages show: the selected sessions, only the newest ones when no index serves the
        order (and whether it is so); the overview's charts count all of them."""
        listed, windowed = queries.sort_window(self.filterset.qs, self.sort)
        return queries.order_by_sort(listed, self.sort, searching=self.filterset.searching), windowed

    @property
    def _counted_as_filtered(self) -> bool:
        return self.is_filtered or self._listed[1]  # the table's size estimate is not the window's

    @cached_property
    def page(self) -> queries.ListPage:
        return queries.list_page(
            self._listed[0],
            self.page_number,
            filtered=self._counted_as_filtered,
            # A search in the default order is first answered from the newest sessions.
            newest_window=self.filterset.searching and self.sort == DEFAULT_SORT,
            sort=self.sort,
            after=self.after,
            before=self.before,
        )

    def counted_page(self) -> queries.ListPage:
        """The page's "of N" and pager once the selected sessions are counted (for a count left pending)."""
        return queries.counted_page(self._listed[0], self.page_number, filtered=self._counted_as_filtered)

    @property
    def notices(self) -> list[str]:
        """What was ignored or changed, in words a user can act on."""
        notices = [*self._problems, *self.caveats, *self._text_notice()]
        if self._listed[1]:
            notices.append(
                f"Sorted by last update among the {queries.pages.NEWEST_WINDOW:,} newest sessions only: no index"
                " serves this order on the whole table (manage.py agno_indexes --apply adds one)."
            )
        if self.page.past_end:
            notices.append(
                f"There is no page {self.page_number}: showing the last page."
                if self.page.rows
                else f"There is no page {self.page_number} (these filters match fewer sessions)."
            )
        return notices

    @property
    def chips(self) -> list[Chip]:
        """The valid active filters, each with the query string that removes it (and resets the page)."""
        self.filterset.is_valid()
        cleaned = self.filterset.form.cleaned_data
        chips = []
        for param, label in FILTER_LABELS.items():
            value = self.data.get(param, "")
            field = "created" if param.startswith("created_") else param
            if param in self.fixed or not value or field not in cleaned:
                continue
            chips.append(Chip(param, label, value, self.query_string(remove=(param, *PAGING))))
        return chips

    # --- Links.

    def query_string(self, new: dict[str, str | None] | None = None, remove: Iterable[str] = ()) -> str:
        """`?` and the list's parameters, with `new` ones set (None removes) and `remove` ones left out.

        As Django's `{% querystring %}` builds it, in the same order; a fixed parameter never appears.
        """
        parts = {name: part for name, part in self._encoded.items() if name not in remove}
        for name, value in (new or {}).items():
            if value is None:
                parts.pop(name, None)
            else:
                parts[name] = urlencode({name: value})
        return "?" + "&".join(parts.values())

    @cached_property
    def _encoded(self) -> dict[str, str]:
        """Each parameter encoded once: a page's rows build a link per distinct cell value."""
        return {
            name: "&".join(urlencode({name: value}) for value in values)
            for name, values in self.params.lists()
            if name not in self.fixed
        }

    def filter_query(self, name: str, value: str) -> str:
        """The list filtered by `name=value` as well (the other filters kept, back to the first page)."""
        return self.query_string(new={name: value}, remove=PAGING)

    @property
    def sort_links(self) -> dict[str, SortLink]:
        """Per sortable column: a click sorts by it newest first, or reverses the order it is sorted in."""
        links = {}
        for field in ("created_at", "updated_at"):
            descending = f"-{field}"
            if self.sort == descending:
                links[field] = SortLink(self.query_string({"sort": field}, remove=PAGING), "descending", " ↓")
            elif self.sort == field:
                links[field] = SortLink(self.query_string({"sort": descending}, remove=PAGING), "ascending", " ↑")
            else:
                links[field] = SortLink(self.query_string({"sort": descending}, remove=PAGING), "", "")
        return links

    def pager(self, page: queries.ListPage) -> PagerLinks:
        """Previous and Next continue from the page's first and last rows where it has their places."""

        def numbered(number: int, place: dict[str, str | None] | None = None) -> str:
            return self.query_string({PAGE: str(number), AFTER: None, BEFORE: None} | (place or {}))

        return PagerLinks(
            first=numbered(1),
            previous=numbered(page.previous_number, {BEFORE: page.first} if page.first and page.number > 2 else None),
            next=numbered(page.next_number, {AFTER: page.last} if page.last else None),
            last=numbered(page.last_number) if page.last_number else None,
        )

    @property
    def export_links(self) -> dict[str, str]:
        """The export of this list (its filters and sort, a user's page's user too), by format."""
        query = self.query_string(new=dict(self.fixed), remove=(*PAGING, "live"))
        return {fmt: reverse(f"sessions_ui:list_export_{fmt}") + query for fmt in ("csv", "jsonl")}

    @property
    def first_page_query(self) -> str:
        return self.query_string(remove=PAGING)

    @property
    def parameters(self) -> list[tuple[str, str]]:
        """The list's parameters (fixed ones included), for a form to send them on: see LIST_PARAMETERS."""
        return [(name, value) for name in LIST_PARAMETERS for value in self.data.getlist(name) if value]

    @property
    def list_url(self) -> str:
        """The list page with these parameters (a user's page: the list filtered by that user)."""
        query = urlencode(self.parameters)
        return reverse("sessions_ui:list") + (f"?{query}" if query else "")

    @property
    def return_parameters(self) -> list[tuple[str, str]]:
        """The list's parameters and its place (page, after/before) where they are valid: a delete's forms
        send them on, so that the delete comes back to the page it was asked from."""
        place = [(PAGE, str(self.page_number))] if self.page_number > 1 else []
        place += [(name, self.params[name]) for name in (AFTER, BEFORE) if getattr(self, name) is not None]
        return self.parameters + place

    @property
    def return_url(self) -> str:
        """The list page, at the same place, that a delete goes back to."""
        query = urlencode(self.return_parameters)
        return reverse("sessions_ui:list") + (f"?{query}" if query else "")

    # --- What was ignored.

    @property
    def parameter_problems(self) -> list[str]:
        """What the parameters asked for that is ignored (filters, sort, place): for an export, which has no
        page to show a notice on."""
        return list(self._problems)

    def filterset_problems(self) -> list[str]:
        messages = []
        data = self.data
        for field in self.filterset.errors:
            if field == "created":
                given = " / ".join(
                    repr_value(data.get(param)) for param in ("created_after", "created_before") if data.get(param)
                )
                messages.append(f"{given} is not a date (use YYYY-MM-DD): the created-at range is ignored.")
            elif field == "text":
                messages.append(
                    f"The search in conversations takes at most {TEXT_MAX} characters without NUL: it is ignored."
                )
            elif field == "status":
                messages.append(
                    f"{repr_value(data.get('status'))} is not a run status ({', '.join(RUN_STATUSES)}):"
                    " showing every status."
                )
            elif field == "type":
                messages.append(
                    f"{repr_value(data.get('type'))} is not a session type (agent, team or workflow):"
                    " showing every type."
                )
            else:
                label = FILTER_LABELS.get(field, field)
                messages.append(f"The {label} filter {repr_value(data.get(field))} is ignored.")
        return messages


def _page_number(raw: str | None) -> int | None:
    """The requested page (1 when none is asked for), None when `page` is not a usable number."""
    if not raw:
        return 1
    try:
        number = int(raw)
    except ValueError:
        return None
    return number if 1 <= number <= queries.pages.MAX_PAGE else None


def repr_value(value) -> str:
    """A user-supplied value quoted for a message, cut short and without control characters."""
    text = "".join(char for char in str(value) if char.isprintable())
    return f"“{text[:60]}{'…' if len(text) > 60 else ''}”"
