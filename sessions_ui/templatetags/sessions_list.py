"""How the sessions list shows its rows.

A page of the list is 50 rows of a dozen cells, each with links, numbers and times. Rendered by
Django's template engine (an include per row, {% url %}, humanize and date filters per cell) they
cost several times the page's queries; so `session_table` computes the values in Python, each link
once per distinct value (as Django admin's `items_for_result` computes its cells), and leaves the
markup to Jinja2 templates, `jinja2/sessions_ui/list_table.html` and its repeated cells'
`list_cells.html`, autoescaped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from urllib.parse import quote

from django import template
from django.http import QueryDict
from django.template import engines
from django.utils import timezone
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from markupsafe import Markup

from sessions_ui.converters import id_to_path
from sessions_ui.listing import SessionList
from sessions_ui.queries import ListRow, RunStats
from sessions_ui.queries.measures import human_size
from sessions_ui.sources import reverse
from sessions_ui.templatetags.dates import when_html
from sessions_ui.templatetags.session_detail import milliseconds

register = template.Library()

HEADINGS = {
    "session": "Session",
    "type": "Type",
    "owner": "Agent / team / workflow",
    "user": "User",
    "runs": "Runs",
    "tokens": "Tokens",
    "size": "Size",
    "summary": "Summary",
    "duration": "Traced time",
}
SIZE_TITLE = "bytes stored for the session and its runs (as the database reports its stored size)"


@dataclass(slots=True)
class FilterLink:
    """A cell value that links to the list filtered by it (`hx_get` only on the list page itself)."""

    value: str
    href: str
    hx_get: str | None
    name: str = ""  # an owner's display name
    page_url: str = ""  # a user's page


@dataclass(slots=True)
class RowValues:
    """What one row of the table shows: text the template escapes, and the repeated cells as its own markup."""

    session_id: str
    key: str  # the id of its cells that the run-counts answer replaces (row_key)
    detail_url: str
    preview_url: str
    name: str
    name_title: str
    select_label: str
    malformed_data: str
    type: Markup
    owner: Markup | None
    user: Markup | None
    runs: str | None  # None: the stored runs could not be read, or are not counted yet
    runs_pending: bool
    unnamed: bool  # pending, and shown by its first input: the run-counts answer names it
    tokens: str | None
    malformed_tokens: str
    size: str | None
    size_title: str
    summary: str | None  # the summary's text (may be empty: topics only), None without a summary
    malformed_summary: str
    created: Markup  # dates.when_html
    updated: Markup | None
    traced: str | None = None  # the sum of its traces' durations, None without traces
    snippet: Markup | None = None  # where the search in conversations matched, escaped, the words in <mark>
    matched_in: str = ""  # "a run" or "the summary"


@register.simple_tag
def list_url(**filters: str) -> str:
    """The list page filtered by `filters` (`{% list_url user_id=... %}`), built as every list link is."""
    return reverse("sessions_ui:list") + SessionList(QueryDict()).query_string(filters)


@register.simple_tag
def session_table(cl: SessionList, rows: list[ListRow], *, can_delete: bool, counts_url: str) -> SafeString:
    """The list's <table>: its head (sort links from `cl`) and a <tbody> per row; `counts_url` answers
    the rows whose run counts are pending (this page's URL)."""
    detail_url, preview_url, user_url = map(
        _session_url, ("sessions_ui:detail", "sessions_ui:preview", "sessions_ui:user")
    )
    list_url = reverse("sessions_ui:list")

    cells = _template("sessions_ui/list_cells.html").module

    def link(name: str, value: str, display_name: str = "") -> FilterLink:
        query = cl.filter_query(name, value)
        return FilterLink(
            value=value,
            href=list_url + query,
            hx_get=query if cl.on_list else None,
            name=display_name,
            page_url=user_url(value) if name == "user_id" else "",
        )

    @cache
    def type_cell(session_type: str) -> Markup:
        return cells.type_cell(link("type", session_type))

    @cache
    def owner_cell(kind: str, component_id: str, name: str) -> Markup:
        return cells.owner_cell(link(f"{kind}_id", component_id, name))

    @cache
    def user_cell(user_id: str) -> Markup:
        return cells.user_cell(link("user_id", user_id))

    zone, now = timezone.get_current_timezone(), timezone.now()
    traced = cl.traced_times([row.session.session_id for row in rows])
    matches = cl.text_matches([row.session.session_id for row in rows])
    values = []
    for row in rows:
        session, malformed_data, malformed_summary = row.session, row.malformed_data, row.malformed_summary
        name, component = session.display_name, session.component
        tokens = session.metrics.tokens
        values.append(
            RowValues(
                session_id=session.session_id,
                key=row_key(session.session_id),
                detail_url=detail_url(session.session_id),
                preview_url=preview_url(session.session_id),
                name=_truncate(name, 120),
                name_title=_truncate(name, 300),
                select_label=_truncate(name, 80),
                malformed_data=malformed_data.reason if malformed_data else "",
                type=type_cell(session.session_type),
                owner=(
                    owner_cell(component.kind, component.component_id, row.component_name)
                    if component.component_id
                    else None
                ),
                user=user_cell(session.user_id) if session.user_id else None,
                runs=None if row.runs is None else f"{row.runs:,}",
                runs_pending=row.runs_pending,
                unnamed=row.runs_pending and not row.named,
                tokens=None if tokens is None else f"{tokens:,}",
                malformed_tokens=malformed_data.reason if malformed_data else "",
                size=None if row.size is None else human_size(row.size),
                size_title="" if row.size is None else f"{row.size:,} {SIZE_TITLE}",
                summary=_truncate(session.summary.text, 300) if session.summary and not malformed_summary else None,
                malformed_summary=malformed_summary.reason if malformed_summary else "",
                created=Markup(when_html(session.created_at, zone=zone, now=now)),
                updated=Markup(when_html(session.updated_at, zone=zone, now=now)) if session.updated_at else None,
                traced=milliseconds(traced[session.session_id]) if session.session_id in (traced or ()) else None,
            )
        )
        match = matches.get(session.session_id)
        if match is not None:
            value = values[-1]
            value.snippet, value.matched_in = match.snippet, "a run" if match.run_id else "the summary"
            if match.run_id:  # opening the session goes to the matching run
                run = quote(match.run_id, safe="")
                value.detail_url += f"?run={run}#run-{run}"
    table = _template("sessions_ui/list_table.html").render(
        rows=values,
        can_delete=can_delete,
        sort_links=cl.sort_links,
        headings=HEADINGS,
        counts_url=counts_url,
        traced_column=traced is not None,
        traced_sortable="duration" in cl.sort_links,
    )
    return mark_safe(table)  # Jinja2 autoescapes every value


@dataclass(slots=True)
class CountedRow:
    """A pending row's cells once its runs are counted (run_counts.html)."""

    key: str
    detail_url: str
    runs: str | None
    runs_pending: bool
    unnamed: bool
    name: str
    name_title: str


def run_counts(stats: dict[str, RunStats], unnamed: set[str]) -> SafeString:
    """The runs cells (and, for `unnamed` sessions, the name links) of counted rows, to swap in by id."""
    detail_url = _session_url("sessions_ui:detail")
    rows = []
    for session_id, session_stats in stats.items():
        name = session_stats.first_input.strip() or session_id
        rows.append(
            CountedRow(
                key=row_key(session_id),
                detail_url=detail_url(session_id),
                runs=None if session_stats.runs is None else f"{session_stats.runs:,}",
                runs_pending=False,
                unnamed=session_id in unnamed,
                name=_truncate(name, 120),
                name_title=_truncate(name, 300),
            )
        )
    return mark_safe(_template("sessions_ui/run_counts.html").render(rows=rows))  # autoescaped


def row_key(session_id: str) -> str:
    """A short id-safe key of a session id, for the ids of its row's cells."""
    return hashlib.blake2b(session_id.encode(), digest_size=8).hexdigest()


@cache
def _template(name: str):
    return engines["jinja2"].env.get_template(name)


def _session_url(name: str) -> Callable[[str], str]:
    """`reverse(name, args=[session_id])` for a page of ids: reversed once, each id quoted as reverse() does."""
    head, _, tail = reverse(name, args=["\x01"]).partition("%01")
    return lambda session_id: f"{head}{quote(id_to_path(session_id), safe=RFC3986_SUBDELIMS + '/~:@')}{tail}"


def _truncate(text: str, length: int) -> str:
    return text if len(text) <= length else Truncator(text).chars(length)
