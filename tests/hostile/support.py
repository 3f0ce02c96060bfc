"""Helpers of the hostile-input suites: raw rows, a crawl of every page that shows a session, an HTML safety check."""

from __future__ import annotations

import json
import re
import time
from html import unescape
from html.parser import HTMLParser

from django.conf import settings
from django.contrib.admin.utils import quote as admin_quote
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from sessions_ui.bulk_write import RUN_COLUMNS
from sessions_ui.forms import SessionEditForm, edit_queryset
from sessions_ui.schema import agno_connection, quoted_table

HTMX = {"HTTP_HX_REQUEST": "true"}
NOW = int(time.time())
LIST_URL = reverse("sessions_ui:list")
BULK_DELETE_URL = reverse("sessions_ui:bulk_delete")


def is_postgresql() -> bool:
    return agno_connection().vendor == "postgresql"


def insert_run_rows(session_id: str, rows: list[dict]) -> None:
    """Agno 3.x runs-table rows with `run_data` stored exactly as given (text, possibly not JSON at all)."""
    defaults = {"run_type": "agent", "created_at": NOW - 500}
    values = []
    for position, row in enumerate(rows):
        row = {**defaults, "run_index": position, "session_id": session_id, **row}
        values.append(tuple(row.get(column) for column in RUN_COLUMNS))
    placeholders = ", ".join(["%s"] * len(RUN_COLUMNS))
    with agno_connection().cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {quoted_table(settings.AGNO_RUNS_TABLE)} ({', '.join(RUN_COLUMNS)}) VALUES ({placeholders})",
            values,
        )


def set_columns(session_id: str, **columns) -> None:
    """Overwrite session columns with values as given (bytes, numbers, NULL): what no ORM write would store."""
    assignments = ", ".join(f"{name} = %s" for name in columns)
    with agno_connection().cursor() as cursor:
        cursor.execute(
            f"UPDATE {quoted_table(settings.AGNO_SESSION_TABLE)} SET {assignments} WHERE session_id = %s",
            [*columns.values(), session_id],
        )


# --- Crawling every page that shows a session -------------------------------------------------------

Pages = list[tuple[str, HttpResponse]]


def attribute_values(response: HttpResponse, name: str) -> list[str]:
    if "html" not in response.get("Content-Type", ""):
        return []
    return [unescape(value) for value in re.findall(rf'\s{name}="([^"]*)"', response.content.decode())]


def read_pages(client: Client, session_id: str, *, user_id: str | None = None) -> Pages:
    """Every page and fragment that shows the session, as a user clicks through them, plus the admin's page."""
    pages: Pages = []

    def get(label: str, url: str, data: dict | None = None, *, htmx: bool = False) -> HttpResponse:
        response = client.get(url, data or {}, **(HTMX if htmx else {}))
        pages.append((label, response))
        return response

    listed = get("list", LIST_URL)
    for url in attribute_values(listed, "hx-get"):
        if url.endswith("/preview/"):
            get(f"expansion {url}", url, htmx=True)
    if user_id:
        get("user page", reverse("sessions_ui:user", args=[user_id]))
    detail_url = reverse("sessions_ui:detail", args=[session_id])
    detail = get("detail", detail_url)
    get("detail page 2", detail_url, {"page": "2"})
    for url in attribute_values(detail, "hx-get"):
        if "/runs/" in url:
            get(f"detail fragment {url}", url, htmx=True)
    for url in [url for url in attribute_values(detail, "href") if "?run=" in url][:2]:
        get(f"run permalink {url}", url)
    get("runs fragment", reverse("sessions_ui:runs", args=[session_id]), htmx=True)
    get("export", reverse("sessions_ui:export", args=[session_id]))
    get("edit form", reverse("sessions_ui:edit", args=[session_id]))
    get("admin page", reverse("admin:sessions_ui_agnosession_change", args=[admin_quote(session_id)]))
    delete_url = reverse("sessions_ui:delete", args=[session_id])
    pages.append(("delete confirmation", client.post(delete_url, {}, **HTMX)))
    pages.append(("bulk delete confirmation", client.post(BULK_DELETE_URL, {"session_ids": [session_id]})))
    return pages


def edit_pages(client: Client, session_id: str) -> Pages:
    """Edit POSTs: the form sent back as loaded, invalid JSON, a stale form, a change to every field."""
    row = edit_queryset().get(pk=session_id)
    loaded = {name: value for name, value in SessionEditForm(row=row).initial.items() if value is not None}
    url = reverse("sessions_ui:edit", args=[session_id])
    pages: Pages = [("edit unchanged", client.post(url, loaded))]
    invalid = {**loaded, "session_state": "{not json", "metadata": "[1, 2]", "summary": '{"summary": 5}'}
    pages.append(("edit invalid", client.post(url, invalid, **HTMX)))
    stale = {**loaded, "session_name": "stale edit", "updated_at": "12345"}
    pages.append(("edit stale", client.post(url, stale, **HTMX)))
    changed = {
        **loaded,
        "session_name": "renamed by hostile test",
        "session_state": '{"hostile": true}',
        "metadata": '{"checked": "yes"}',
        "summary_text": "A summary written by the hostile test.",
        "summary_topics": "one\ntwo",
    }
    pages.append(("edit every field", client.post(url, changed)))
    pages.append(("detail after edits", client.get(reverse("sessions_ui:detail", args=[session_id]))))
    return pages


def delete_pages(client: Client, session_id: str) -> Pages:
    """The delete that goes through, and the audit page that records it."""
    return [
        ("delete", client.post(reverse("sessions_ui:delete", args=[session_id]), {"confirm": "yes"})),
        ("audit after delete", client.get(reverse("sessions_ui:audit"))),
    ]


def assert_no_server_error(pages: Pages) -> None:
    failures = [f"{label}: {response.status_code}" for label, response in pages if response.status_code >= 500]
    assert not failures, failures
    for label, response in pages:
        if response.status_code == 302:
            assert response["Location"], label


# --- Is there markup in a page that stored data introduced? --------------------------------------

# Every element our templates, Django's admin and the sanitised Markdown produce.
ELEMENTS = {
    "html", "head", "meta", "title", "link", "script", "body", "header", "footer", "nav", "main", "section",
    "article", "aside", "div", "span", "a", "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol",
    "li", "dl", "dt", "dd", "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td", "col", "colgroup",
    "form", "input", "button", "select", "option", "optgroup", "datalist", "label", "textarea", "fieldset",
    "legend", "details", "summary", "dialog", "pre", "code", "kbd", "time", "strong", "em", "b", "i", "small",
    "del", "s", "blockquote", "img", "noscript",
    "svg", "rect", "path", "symbol", "use", "g", "defs", "circle", "line", "polyline", "polygon", "ellipse",
}  # fmt: skip
# htmx attributes our templates use; their values are our own code or URLs, never stored text. No hx-on:
# htmx evals it, which the Content-Security-Policy forbids (static/js/app.js does that work).
HTMX_ATTRIBUTES = {
    "hx-get", "hx-post", "hx-target", "hx-swap", "hx-push-url", "hx-trigger", "hx-sync", "hx-indicator",
    "hx-disinherit", "hx-headers", "hx-swap-oob",
}  # fmt: skip
# The elements that request without a user action: the list's result count and its filter choices (when not
# cached), which requests of their own fill in.
LAZY_PLACEHOLDERS = {("span", "result-count", "load"), ("div", "filter-choices", "load")}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "poster", "xlink:href", "background", "cite"}
SCRIPT_SCHEMES = ("javascript:", "vbscript:", "data:")
MARKER = "__xss"  # every payload that would run sets window.__xss


class MarkupCheck(HTMLParser):
    """Walks a page's tags and reports what only injected markup would produce."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.script: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        where = f"<{tag} {' '.join(f'{name}={value[:60]!r}' for name, value in attributes.items())}>"
        if tag not in ELEMENTS:
            self.problems.append(f"unexpected element {where}")
        for name, value in attributes.items():
            if name.startswith("on"):
                self.problems.append(f"event handler attribute {where}")
            elif name.startswith(("hx-", "data-hx-")) and name not in HTMX_ATTRIBUTES:
                self.problems.append(f"htmx attribute from the data {where}")
            elif name in {"hx-get", "hx-post"} and (not value.startswith(("/", "?")) or value.startswith("//")):
                self.problems.append(f"htmx request elsewhere {where}")
            elif name.startswith("hx-") and name not in {"hx-get", "hx-post"} and MARKER in value:
                self.problems.append(f"htmx attribute with stored text {where}")
            elif (
                name == "hx-trigger"
                and re.search(r"\b(load|revealed|intersect)\b", value)
                and (tag, attributes.get("id"), value) not in LAZY_PLACEHOLDERS
            ):
                self.problems.append(f"htmx request without a user action {where}")
            elif name in URL_ATTRIBUTES and re.sub(r"[\s\x00-\x1f]", "", value).lower().startswith(SCRIPT_SCHEMES):
                self.problems.append(f"script URL {where}")
            elif name in {"style", "srcdoc", "http-equiv"} and MARKER in value:
                self.problems.append(f"{name} from the data {where}")
        source = attributes.get("src", "/")
        if tag in {"img", "script"} and (not source.startswith("/") or source.startswith("//")):
            self.problems.append(f"{tag} from elsewhere {where}")
        if tag == "script":
            self.script = "" if "src" not in attributes else None

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self.script is not None:
            if MARKER in self.script:
                self.problems.append(f"inline script with stored text: {self.script[:200]!r}")
            self.script = None

    def handle_data(self, data: str) -> None:
        if self.script is not None:
            self.script += data


def markup_problems(html: str) -> list[str]:
    check = MarkupCheck()
    check.feed(html)
    check.close()
    return check.problems


def assert_escaped(pages: Pages, payloads: list[str]) -> None:
    """No page shows markup that the payloads introduced; the export stays JSON (never sniffed as HTML)."""
    failures = []
    for label, response in pages:
        assert response.status_code < 500, f"{label}: {response.status_code}"
        content_type = response.get("Content-Type", "")
        if label.startswith("export") and response.status_code == 200:
            assert content_type.startswith("application/json"), (label, content_type)
            assert response["Content-Disposition"].startswith("attachment;"), label
            assert response["X-Content-Type-Options"] == "nosniff", label
            json.loads(response.content)
            continue
        if "html" not in content_type:
            continue
        html = response.content.decode()
        failures.extend(f"{label}: {problem}" for problem in markup_problems(html))
        # Quotes may stay as they are in text (Markdown's sanitiser leaves them): MarkupCheck finds any
        # attribute they would have broken out of. A "<" never may.
        for payload in payloads:
            if "<" in payload and payload in html:
                failures.append(f"{label}: the payload appears unescaped: {payload!r}")
        if "pbkdf2_" in html or "SECRET_KEY" in html:
            failures.append(f"{label}: template syntax in the data was evaluated")
    assert not failures, "\n".join(failures[:40])
