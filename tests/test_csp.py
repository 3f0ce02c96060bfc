"""Content-Security-Policy on every page, and markup that needs no exception to it (issue 12, item 3).

The policy forbids inline scripts, eval and inline styles. htmx evals `hx-on` attributes and hx-trigger
filters (`[cond]`) and injects a <style> for its indicators unless told not to, so none may be in our
templates; tests/browser/test_csp_browser.py checks that chromium reports no violation while using them.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.conftest import make_user
from tests.factories import create_session, make_agent_run

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
HTMX = {"HTTP_HX_REQUEST": "true"}
SESSION_ID = "csp session ✓/x"
RUN_ID = "csp-run"
TABLE = "| city | rain |\n|:-----|-----:|\n| Lisbon | 12 mm |"
EXPECTED_POLICY = {
    "default-src": {"'self'"},
    "script-src": {"'self'"},
    "style-src": {"'self'"},
    "img-src": {"'self'"},
    "font-src": {"'self'"},
    "connect-src": {"'self'"},
    "object-src": {"'none'"},
    "base-uri": {"'none'"},
    "form-action": {"'self'"},
    "frame-ancestors": {"'none'"},
}


def policy(response) -> dict[str, set[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.status_code} {response.get('Content-Type')}"
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = set(sources)
    return directives


class InlineCode(HTMLParser):
    """What the policy would block in a page: inline scripts and styles, event handler and style attributes,
    and what htmx would eval (hx-on, trigger filters, js: values)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        where = f"<{tag} {attributes}>"[:300]
        if tag == "script" and "src" not in attributes:
            self.problems.append(f"inline script {where}")
        if tag == "style":
            self.problems.append(f"style element {where}")
        for name, value in attributes.items():
            value = value or ""
            if name.startswith("on") or name == "style" or name.startswith(("hx-on", "data-hx-on")):
                self.problems.append(f"{name} attribute {where}")
            elif name in {"hx-trigger", "data-hx-trigger"} and "[" in value:
                self.problems.append(f"eval'd trigger filter {where}")
            elif name.startswith("hx-") and value.strip().startswith(("js:", "javascript:")):
                self.problems.append(f"eval'd htmx value {where}")
            elif name in {"href", "src", "action"} and value.strip().lower().startswith("javascript:"):
                self.problems.append(f"script URL {where}")


def inline_code(html: str) -> list[str]:
    check = InlineCode()
    check.feed(html)
    check.close()
    return check.problems


@pytest.fixture
def pages():
    run = make_agent_run(SESSION_ID, run_id=RUN_ID, content=f"Here is the table:\n\n{TABLE}\n", messages=[])
    create_session(
        session_id=SESSION_ID,
        user_id="ada@example.com",
        session_data={"session_name": "CSP", "session_state": {"a": 1}},
        summary={"summary": f"Summary with a table\n\n{TABLE}", "topics": ["t"]},
        runs=[run],
    )
    sid = quote(SESSION_ID, safe="")
    detail = reverse("sessions_ui:detail", args=[SESSION_ID])
    return [
        ("list", "get", "/sessions/", {}, {}),
        ("list fragment", "get", "/sessions/?type=agent&live=1", {}, HTMX),
        ("filter choices", "get", "/sessions/", {}, {**HTMX, "HTTP_HX_TARGET": "filter-choices"}),
        (
            "filtered count",
            "get",
            "/sessions/?user_id=ada%40example.com",
            {},
            {**HTMX, "HTTP_HX_TARGET": "result-count"},
        ),
        ("detail", "get", detail, {}, {}),
        ("run", "get", f"/sessions/{sid}/runs/{RUN_ID}/", {}, HTMX),
        ("runs", "get", f"/sessions/{sid}/runs/", {}, HTMX),
        ("preview", "get", f"/sessions/{sid}/preview/", {}, HTMX),
        ("export", "get", f"/sessions/{sid}/export/", {}, {}),
        ("edit", "get", reverse("sessions_ui:edit", args=[SESSION_ID]), {}, {}),
        ("edit fragment", "get", reverse("sessions_ui:edit", args=[SESSION_ID]), {}, HTMX),
        ("edit refused", "post", reverse("sessions_ui:edit", args=[SESSION_ID]), {"session_state": "{"}, HTMX),
        ("delete confirmation", "post", reverse("sessions_ui:delete", args=[SESSION_ID]), {}, {}),
        ("delete dialog", "post", reverse("sessions_ui:delete", args=[SESSION_ID]), {}, HTMX),
        ("bulk delete dialog", "post", "/sessions/delete/", {"session_ids": [SESSION_ID]}, HTMX),
        ("bulk delete refused", "post", "/sessions/delete/", {}, HTMX),
        ("user", "get", "/sessions/users/ada@example.com/", {}, {}),
        ("audit", "get", "/sessions/audit/", {}, {}),
        ("overview", "get", "/overview/", {}, {}),
        ("overview fragment", "get", "/overview/?created_after=2020-01-01", {}, HTMX),
        ("password change", "get", "/accounts/password_change/", {}, {}),
        ("admin", "get", "/admin/", {}, {}),
        ("admin sessions", "get", "/admin/sessions_ui/agnosession/", {}, {}),
        ("admin session", "get", f"/admin/sessions_ui/agnosession/{quote(quote(SESSION_ID, safe=''))}/change/", {}, {}),
        ("404", "get", "/sessions/no such session/", {}, {}),
        ("404 page", "get", "/nothing/here/", {}, {}),
        ("static", "get", "/static/js/app.js", {}, {}),
    ]


def test_every_page_kind_has_the_policy_and_needs_no_exception_to_it(admin_client, pages):
    admin_client.raise_request_exception = False
    seen = set()
    for label, method, url, data, headers in pages:
        response = getattr(admin_client, method)(url, data, **headers)
        assert response.status_code < 500, (label, response.status_code)
        seen.add(response.status_code)
        assert policy(response) == EXPECTED_POLICY, label
        if "html" in response.get("Content-Type", ""):
            html = response.content.decode()
            assert inline_code(html) == [], label
            if label in {"run", "detail"}:  # Markdown tables (run output, summary): alignment as a class
                assert '<td class="align-right">12 mm</td>' in html, label
    assert {200, 400, 404} <= seen


def test_anonymous_and_forbidden_pages_have_the_policy_too(pages):
    anonymous, viewer = Client(), Client()
    viewer.force_login(make_user("viewer", "view_agnosession"))
    for client, url, status in (
        (anonymous, "/accounts/login/", 200),
        (anonymous, "/sessions/", 302),
        (viewer, reverse("sessions_ui:edit", args=[SESSION_ID]), 403),
        (viewer, "/sessions/", 200),
    ):
        response = client.get(url)
        assert response.status_code == status, url
        assert policy(response) == EXPECTED_POLICY, url
        assert inline_code(response.content.decode()) == [], url


def test_the_policy_allows_no_inline_code_eval_or_other_origin():
    response = Client().get("/accounts/login/")
    header = response.headers["Content-Security-Policy"]
    for word in ("unsafe-inline", "unsafe-eval", "unsafe-hashes", "wasm-unsafe-eval", "*", "http:", "https:", "data:"):
        assert word not in header, word
    assert re.fullmatch(r"[a-z-]+ [^;]+(; [a-z-]+ [^;]+)*", header), header


def test_htmx_is_told_not_to_eval_nor_inject_its_indicator_style(client):
    html = client.get("/accounts/login/").content.decode()
    assert """<meta name="htmx-config" content='{"allowEval": false, "includeIndicatorStyles": false}'>""" in html
    css = (ROOT / "static" / "css" / "app.css").read_text()
    assert ".htmx-request .htmx-indicator, .htmx-request.htmx-indicator" in css  # what htmx would have injected


def test_no_template_or_script_of_ours_relies_on_inline_code_or_eval():
    """The source itself, for markup no test renders: every template and script."""
    problems = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = re.sub(r"\{#.*?#\}", "", path.read_text())  # comments may name what they avoid
        for pattern, what in (
            (r"<script(?![^>]*\ssrc=)[^>]*>", "inline <script>"),
            (r"<style\b", "<style> element"),
            (r"\s(?:data-)?hx-on[:-]", "hx-on attribute"),
            (r"\shx-trigger=\"[^\"]*\[", "hx-trigger filter"),
            (r"\son[a-z]+\s*=", "event handler attribute"),
            (r"\sstyle\s*=", "style attribute"),
        ):
            problems += [f"{path.relative_to(ROOT)}: {what}: {m.group()!r}" for m in re.finditer(pattern, text)]
    for path in sorted((ROOT / "static").rglob("*.js")):
        text = re.sub(r"^\s*//.*$", "", path.read_text(), flags=re.MULTILINE)
        for pattern in (r"\beval\s*\(", r"\bnew Function\b", r"setTimeout\(\s*[\"']", r"\.innerHTML\s*="):
            problems += [f"{path.relative_to(ROOT)}: {m.group()!r}" for m in re.finditer(pattern, text)]
    assert problems == []


def test_markdown_tables_keep_their_alignment_as_classes_not_styles():
    from sessions_ui.templatetags.session_detail import markdown

    html = str(markdown(f'{TABLE}\n\n<td style="color:red" class="align-right evil">x</td>'))
    assert '<th class="align-left">city</th>' in html and '<td class="align-right">12 mm</td>' in html
    assert inline_code(html) == []
    assert '<td style="color:red"' not in html  # raw HTML stays text


def test_settings_policy_is_the_one_tested_here():
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    assert {name: set(sources) for name, sources in directives.items()} == EXPECTED_POLICY
