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
from sessions_ui.filters import RANGES, RUN_STATUSES, TEXT_FROM, TEXT_MAX, WITHIN, SessionFilter
from sessions_ui.queries import text as text_search
from sessions_ui.schema import TracesUnreachable, has_inline_runs, has_runs_table, has_trace_tables
from sessions_ui.sources import current_source, reverse

SORTS = {
    "-created_at": "Newest first",
    "created_at": "Oldest first",
    "-updated_at": "Recently updated",
    "updated_at": "Least recently updated",
    "-duration": "Longest traced time",
    "duration": "Shortest traced time",
    "-size": "Largest first",
    "size": "Smallest first",
    "-runs": "Most runs",
    "runs": "Fewest runs",
    "-tokens": "Most tokens",
    "tokens": "Fewest tokens",
}
# What a sort by a measure (sessions_ui/queries/measures.py) is called in its notice.
MEASURE_SORTS = {"size": "stored size", "runs": "runs", "tokens": "tokens"}
DEFAULT_SORT = "-created_at"
# By the sum of the session's traces' durations (agno_traces.duration_ms), where Agno's tracing is on.
TRACED_SORTS = ("-duration", "duration")
FILTER_LABELS = {
    "type": "type",
    "agent_id": "agent",
    "team_id": "team",
    "workflow_id": "workflow",
    "user_id": "user",
    "q": "search",
    "created_after": "created from",
    "created_before": "created until",
    "created_within": "created within",
    "updated_within": "updated within",
    "status": "run status",
    "model": "model",
    "text": "in conversations",
    "has_summary": "summary",
    "runs_min": "runs at least",
    "runs_max": "runs at most",
    "tokens_min": "tokens at least",
    "tokens_max": "tokens at most",
    "size_min": "size at least",
    "size_max": "size at most",
}
CHIP_VALUES = {"has_summary": {"1": "with", "0": "without"}}
# What a list URL carries besides its place (PAGING): a delete returns to the same list (at the same
# place: SessionList.return_parameters), and a bulk delete's confirmation sends the same selection again.
LIST_PARAMETERS = (*FILTER_LABELS, "sort", "live")
WITHIN_PARAMETERS = ("created_within", "updated_within")
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
        self._range_caveats()
        if self.sort not in SORTS:
            self._problems.append(
                f"{repr_value(self.sort)} is not a sort order ({', '.join(SORTS)}): showing the newest first."
            )
            self.sort = DEFAULT_SORT
        if self.sort in TRACED_SORTS:
            self._traced_sort_problem()
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

    @cached_property
    def shows_traced_time(self) -> bool:
        """Whether the list has its "Traced time" column: Agno's trace tables exist (and answer, when they are
        in another database: else a notice says so)."""
        try:
            return has_trace_tables()
        except TracesUnreachable:
            self.caveats.append("The traces' database does not answer: the list shows no traced time.")
            return False

    def _traced_sort_problem(self) -> None:
        """The traced-time sorts need the trace tables, beside the sessions (an order is one query)."""
        if not self.shows_traced_time:
            self._problems.append(
                "There is no traced time to sort by: Agno's tracing has recorded no traces here"
                " (agno_traces). Showing the newest first."
            )
        elif current_source().traces_elsewhere:
            self._problems.append(
                "The traces are in another database than the sessions, so the list cannot be sorted by"
                " traced time: showing the newest first."
            )
        else:
            return
        self.sort = DEFAULT_SORT

    @property
    def sort_choices(self) -> dict[str, str]:
        """The orders the sort menu offers: by traced time only where that works."""
        traced = self.shows_traced_time and not current_source().traces_elsewhere
        return {key: label for key, label in SORTS.items() if traced or key not in TRACED_SORTS}

    def traced_times(self, session_ids: list[str]) -> dict[str, int] | None:
        """The traced time of each of a page's sessions that has traces (one grouped query); None without the column."""
        if not self.shows_traced_time:
            return None
        try:
            return queries.traced_time(session_ids)
        except TracesUnreachable:
            return {}

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

    def _range_caveats(self) -> None:
        """A runs or size range is computed per session, so among the newest sessions only: say so."""
        self.filterset.is_valid()
        cleaned = self.filterset.form.cleaned_data
        for measure in ("runs", "size"):
            asked = any(self.data.get(name) and name in cleaned for name in (f"{measure}_min", f"{measure}_max"))
            window = self.filterset.range_window(measure)
            if not asked or not window or self.filterset.newest_bound(window) is None:
                continue
            inline = (
                " (runs stored inline by Agno 2.x from their stored JSON)"
                if measure == "runs" and has_inline_runs()
                else ""
            )
            self.caveats.append(
                f"The {measure} filter looked at the {window:,} newest sessions"
                + (" created by the end of the date range" if self.data.get("created_before") else "")
                + f" only: it is computed for each session{inline}; set “created until” to look at older ones."
            )

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

    @property
    def exported(self) -> tuple[QuerySet, int]:
        """What an export of this list writes, and the newest sessions it is bounded to (0: not bounded).

        The list's selection in its order; sorted by a measure (size, runs, tokens), the sessions the list
        sorts (see queries.sort_window): over the whole table the database would compute every session's
        measure and sort them before the download's first line (a minute at a million sessions).
        """
        if self.sort.lstrip("-") in MEASURE_SORTS:
            return self._listed
        return self.sessions, 0

    @cached_property
    def _listed(self) -> tuple[QuerySet, int]:
        """What the list's pages show: the selected sessions, only the newest ones when no index serves the
        order (and how many newest, 0 when all); the overview's charts count all of them."""
        self.filterset.is_valid()
        created = self.filterset.form.cleaned_data.get("created")
        until = int(created.stop.timestamp()) if created and created.stop else None
        listed, windowed = queries.sort_window(self.filterset.qs, self.sort, until=until)
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
        measure = MEASURE_SORTS.get(self.sort.lstrip("-"))
        if self._listed[1] and self.sort in TRACED_SORTS:
            notices.append(
                f"Sorted by traced time among the {queries.pages.NEWEST_WINDOW:,} newest sessions only: adding up"
                " the traces of every session would read all of them."
            )
        elif self._listed[1] and measure:
            notices.append(
                f"Sorted by {measure} among the {self._listed[1]:,} newest sessions"
                + (" created by the end of the date range" if self.data.get("created_before") else "")
                + f" only: the {measure} of each session is computed, which no index can hold (set “created"
                " until” to sort older ones)."
            )
        elif self._listed[1]:
            notices.append(
                f"Sorted by last update among the {queries.pages.NEWEST_WINDOW:,} newest sessions only: no index"
                " serves this order on the whole table (manage.py agno_indexes --apply adds one)."
            )
        if self.filterset.form.cleaned_data.get("updated_within") and self.filterset.updated_window is not None:
            notices.append(
                f"“Updated within” looks at the {queries.pages.NEWEST_WINDOW:,} newest sessions only: no index"
                " serves updated_at on the whole table (manage.py agno_indexes --apply adds one)."
            )
        if not self.page.rows:
            notices += self._unknown_values()
        if self.page.past_end:
            notices.append(
                f"There is no page {self.page_number}: showing the last page."
                if self.page.rows
                else f"There is no page {self.page_number} (these filters match fewer sessions)."
            )
        return notices

    def _unknown_values(self) -> list[str]:
        """The agent, team, workflow or user filters whose value is neither a known id nor a name."""
        unknown = []
        for column in queries.totals.CHOICE_COLUMNS:
            value = self.data.get(column)
            if value and column not in self.fixed and not queries.resolve_choice(column, value).matched:
                what = FILTER_LABELS[column]
                frequent = f"the ids of the {queries.totals.CHOICES_LIMIT} most frequent {what}s"
                matched = f"names, and {frequent}, are" if column in queries.totals.NAMED_BY else f"{frequent} are"
                unknown.append(
                    f"No {what} has the id{' or name' if column in queries.totals.NAMED_BY else ''}"
                    f" {repr_value(value)} ({matched} matched in any case; other ids only exactly)."
                )
        return unknown

    def _chip_value(self, param: str, value: str) -> str:
        if param in WITHIN_PARAMETERS:
            return WITHIN[value][0]
        if param in queries.totals.CHOICE_COLUMNS:
            return queries.resolve_choice(param, value).label
        return CHIP_VALUES.get(param, {}).get(value, value)

    @property
    def chips(self) -> list[Chip]:
        """The valid active filters, each with the query string that removes it (and resets the page)."""
        self.filterset.is_valid()
        cleaned = self.filterset.form.cleaned_data
        chips = []
        for param, label in FILTER_LABELS.items():
            value = self.data.get(param, "")
            field = "created" if param in ("created_after", "created_before") else param
            if param in self.fixed or not value or field not in cleaned:
                continue
            chips.append(Chip(param, label, self._chip_value(param, value), self.query_string(remove=(param, *PAGING))))
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
        traced = ("duration",) if "duration" in self.sort_choices else ()
        for field in ("created_at", "updated_at", "size", "runs", "tokens", *traced):
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
            elif field in RANGES:
                what = "a size (4096, 10k, 1.5MB, 2MiB)" if RANGES[field][0] == "size" else "a whole number"
                messages.append(
                    f"{repr_value(data.get(field))} is not {what}: the {FILTER_LABELS[field]} filter is ignored."
                )
            elif field == "has_summary":
                messages.append(
                    f"{repr_value(data.get(field))} is not 1 or 0 (with or without a summary): the summary filter"
                    " is ignored."
                )
            elif field in WITHIN_PARAMETERS:
                messages.append(
                    f"{repr_value(data.get(field))} is not a range ({', '.join(WITHIN)}): the"
                    f" {FILTER_LABELS[field]} filter is ignored."
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
