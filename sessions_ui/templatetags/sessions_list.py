"""How the sessions list shows its rows, and short relative times for dense table cells.

A page of the list is 50 rows of a dozen cells, each with links, numbers and times. As template
tags and filters per cell ({% url %}, {% querystring %}, humanize, date filters, an include per
row) they cost several times the page's queries; `session_rows` builds the rows with format_html
instead, as Django's admin builds its changelist rows (admin_list.items_for_result).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime, tzinfo
from functools import cache
from urllib.parse import quote, quote_plus, urlencode

from django import template
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.timesince import timesince

from sessions_ui.queries import ListRow

register = template.Library()


@register.filter
def ago(value: datetime | None, now: datetime | None = None) -> str:
    """ "3 hours ago": the largest unit only (naturaltime says "2 weeks, 3 days ago", too wide for a cell)."""
    if not isinstance(value, datetime):
        return ""
    now = now or timezone.now()
    if value > now:
        return f"in {_since(now, value)}"
    if (now - value).total_seconds() < 60:
        return "just now"
    return f"{_since(value, now)} ago"


UNITS = ((7 * 24 * 3600, "week"), (24 * 3600, "day"), (3600, "hour"), (60, "minute"))


def _since(earlier: datetime, later: datetime) -> str:
    """timesince(earlier, later, depth=1), without its calendar arithmetic (and lazy text) under four weeks."""
    delta = later - earlier
    if delta.days >= 28:
        return timesince(earlier, later, depth=1)
    seconds = delta.days * 24 * 3600 + delta.seconds
    for unit, name in UNITS:
        if seconds >= unit:
            count = seconds // unit
            return f"{count}\xa0{name}{'' if count == 1 else 's'}"
    return "0\xa0minutes"


ROW = """
<tbody class="session-row" data-href="{detail_url}">
  <tr>
    {select}<td class="col-expand"><button type="button" class="expand" aria-expanded="false" aria-controls="preview-{index}" title="Show summary and runs"
      data-expand hx-get="{preview_url}" hx-trigger="click once" hx-target="#preview-{index}" hx-swap="innerHTML" hx-push-url="false">
      <span aria-hidden="true">▸</span><span class="visually-hidden">Expand</span></button></td>
    <td class="col-session">
      <a class="session-link name" href="{detail_url}" title="{name_title}">{name}</a>{malformed}
      <span class="id-line"><code class="id">{session_id}</code><button type="button" class="copy" data-copy="{session_id}" title="Copy session id" aria-label="Copy session id"><svg viewBox="0 0 16 16" width="12" height="12" aria-hidden="true"><rect x="5" y="5" width="9" height="9" rx="1.5" fill="none" stroke="currentColor" stroke-width="1.5"/><path d="M3 11V3.5A1.5 1.5 0 0 1 4.5 2H11" fill="none" stroke="currentColor" stroke-width="1.5"/></svg></button></span>
    </td>
    <td class="col-type">{type}</td>
    <td class="col-owner">{owner}</td>
    <td class="col-user">{user}</td>
    <td class="col-runs num">{runs}</td>
    <td class="col-tokens num">{tokens}</td>
    <td class="col-summary">{summary}</td>
    <td class="col-created nowrap"><time datetime="{created_iso}" title="{created_exact}">{created_ago}</time></td>
    <td class="col-updated nowrap">{updated}</td>
  </tr>
  <tr class="preview-row" hidden>
    <td colspan="{columns}"><div id="preview-{index}" class="preview"><p class="muted">Loading…</p></div></td>
  </tr>
</tbody>"""
# The bulk-delete checkbox of each row (its toolbar form is delete_buttons.html#toolbar).
SELECT = (
    '<td class="col-select"><input type="checkbox" name="session_ids" value="{}" form="bulk-delete"'
    ' aria-label="Select {}"></td>\n    '
)
TYPE = '<a class="badge {}" href="{}"{} title="Only {} sessions">{}</a>'
OWNER = '\n      <a class="owner" href="{}"{} title="Only sessions of {}">\n        <span class="owner-name">{}</span>{}</a>\n    '
OWNER_ID = '\n        <code class="id">{}</code>'
USER = (
    '\n      <a class="user" href="{}"{} title="Only sessions of {}">{}</a>\n'
    '      <a class="user-page" href="{}" title="User page: totals and all sessions of {}" aria-label="User page of {}">↗</a>\n    '
)
MALFORMED = '<span class="malformed" title="{}">malformed</span>'
MALFORMED_DATA = '\n      <span class="malformed" title="session_data: {}">malformed</span>'
SUMMARY = '<span class="has-summary" title="{}">✓ summary</span>'
TIME = '<time datetime="{}" title="{}">{}</time>'
DASH = mark_safe('<span class="muted">—</span>')
UNREAD_RUNS = mark_safe('<span class="muted" title="The stored runs could not be read">—</span>')
NOTHING = mark_safe("")


@register.simple_tag
def session_rows(rows: list[ListRow], query: QueryDict, *, on_list: bool, can_delete: bool) -> SafeString:
    """The <tbody> of each row: the list's filters in `query` carry over into the links that filter by a cell.

    Every value is escaped once, up front (`_escaped`), and filled in by `_html`, which insists on
    escaped text; the type, owner and user cells repeat from row to row and are built once per value.
    """
    detail_url, preview_url, user_url = map(
        _session_url, ("sessions_ui:detail", "sessions_ui:preview", "sessions_ui:user")
    )
    list_url = reverse("sessions_ui:list")
    filter_query = _filter_query(query)

    def link(name: str, value: str) -> tuple[SafeString, SafeString]:
        """The href of the list filtered by `name=value` (the other filters kept), and its hx-get attribute."""
        query = filter_query(name, value)
        return _escaped(list_url + query), _html(' hx-get="{}"', _escaped(query)) if on_list else NOTHING

    @cache
    def type_cell(session_type: str) -> SafeString:
        escaped_type = _escaped(session_type)
        return _html(TYPE, escaped_type, *link("type", session_type), escaped_type, escaped_type)

    @cache
    def owner_cell(kind: str, component_id: str | None, component_name: str) -> SafeString:
        if not component_id:
            return DASH
        escaped_id = _escaped(component_id)
        return _html(
            OWNER,
            *link(f"{kind}_id", component_id),
            escaped_id,
            _escaped(component_name or component_id),
            _html(OWNER_ID, escaped_id) if component_name else NOTHING,
        )

    @cache
    def user_cell(user_id: str | None) -> SafeString:
        if not user_id:
            return DASH
        escaped_id = _escaped(user_id)
        return _html(
            USER, *link("user_id", user_id), escaped_id, escaped_id, _escaped(user_url(user_id)), escaped_id, escaped_id
        )

    columns = _escaped(str(11 if can_delete else 10))
    zone, now = timezone.get_current_timezone(), timezone.now()
    html_rows = []
    for index, row in enumerate(rows, start=1):
        session, malformed_data, malformed_summary = row.session, row.malformed_data, row.malformed_summary
        session_id, name = _escaped(session.session_id), session.display_name
        if malformed_data:
            tokens = format_html(MALFORMED, malformed_data.reason)
        else:
            tokens = DASH if session.metrics.tokens is None else _escaped(f"{session.metrics.tokens:,}")
        if malformed_summary:
            summary = format_html(MALFORMED, malformed_summary.reason)
        elif session.summary:
            summary = _html(SUMMARY, _escaped(_truncate(session.summary.text, 300)))
        else:
            summary = DASH
        created_iso, created_exact, created_ago = _time(session.created_at, zone, now)
        html_rows.append(
            _html(
                ROW,
                index=_escaped(str(index)),
                select=_html(SELECT, session_id, _escaped(_truncate(name, 80))) if can_delete else NOTHING,
                detail_url=_escaped(detail_url(session.session_id)),
                preview_url=_escaped(preview_url(session.session_id)),
                name=_escaped(_truncate(name, 120)),
                name_title=_escaped(_truncate(name, 300)),
                malformed=format_html(MALFORMED_DATA, malformed_data.reason) if malformed_data else NOTHING,
                session_id=session_id,
                type=type_cell(session.session_type),
                owner=owner_cell(session.component.kind, session.component.component_id, row.component_name),
                user=user_cell(session.user_id),
                runs=UNREAD_RUNS if row.runs is None else _escaped(f"{row.runs:,}"),
                tokens=tokens,
                summary=summary,
                created_iso=created_iso,
                created_exact=created_exact,
                created_ago=created_ago or SafeString("—"),
                updated=_html(TIME, *_time(session.updated_at, zone, now)) if session.updated_at else DASH,
                columns=columns,
            )
        )
    return mark_safe("".join(html_rows))  # each row is _html's, every value in it escaped


def _html(template: str, *args: SafeString, **kwargs: SafeString) -> SafeString:
    """format_html for values escaped already: it refuses any that is not, instead of escaping each again
    (conditional_escape on twenty values a row was a third of the rows' cost)."""
    for value in (*args, *kwargs.values()):
        if not isinstance(value, SafeString):
            raise TypeError(f"not escaped: {value!r}")
    return SafeString(template.format(*args, **kwargs))


def _escaped(text: str) -> SafeString:
    """Django's escape(), without its lazy-text wrapper, which costs more than the escaping itself here."""
    return SafeString(html.escape(text))


def _session_url(name: str) -> Callable[[str], str]:
    """`reverse(name, args=[session_id])` for a page of ids: reversed once, each id quoted as reverse() does."""
    head, _, tail = reverse(name, args=["\x01"]).partition("%01")
    return lambda session_id: f"{head}{quote(session_id, safe=RFC3986_SUBDELIMS + '/~:@')}{tail}"


def _filter_query(query: QueryDict) -> Callable[[str, str], str]:
    """`{% querystring query name=value page=None %}` for a page of values: `query` is encoded once."""
    parts = {name: "&".join(urlencode({name: value}) for value in values) for name, values in query.lists()}
    parts = {name: part for name, part in parts.items() if part and name != "page"}
    return lambda name, value: "?" + "&".join({**parts, name: f"{name}={quote_plus(value)}"}.values())


def _time(value: datetime | None, zone: tzinfo, now: datetime) -> tuple[SafeString, SafeString, SafeString]:
    """A <time>'s datetime, title and text, as `|date:'c'`, `|date:'Y-m-d H:i:s T'` and `|ago` show them."""
    if value is None:
        return NOTHING, NOTHING, NOTHING
    local = value.astimezone(zone)
    exact = f"{local.year:04d}-{local:%m-%d %H:%M:%S} {local.tzname() or ''}".rstrip()
    return _escaped(local.isoformat()), _escaped(exact), _escaped(ago(local, now))


def _truncate(text: str, length: int) -> str:
    return text if len(text) <= length else Truncator(text).chars(length)
