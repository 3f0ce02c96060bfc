"""The Content-Security-Policy in chromium: enforced, and nothing of ours needs an exception (issue 12, item 3).

Every browser test fails if the policy blocked something (tests/browser/conftest.py: csp_report). This
file proves that the watch sees a violation, walks through every page using what needs JavaScript with
no violation and no console error, and checks the live refresh's guard, which htmx evaluated as a
trigger filter before and static/js/app.js now applies.
"""

from __future__ import annotations

import re
import time

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from sessions_ui.models import AgnoSession
from sessions_ui.views import RUNS_PER_PAGE
from tests.factories import create_session, make_agent_run

pytestmark = pytest.mark.browser

NOW = int(time.time())
# What a refused edit or delete answers (400, 409) shows up in chromium's console as a failed resource.
EXPECTED_STATUS_ERROR = re.compile(r"^Failed to load resource: the server responded with a status of (400|409) ")


def test_the_policy_is_enforced_and_a_violation_is_seen(admin_page, live_server, csp_report):
    admin_page.goto(f"{live_server.url}/sessions/")
    ran = admin_page.evaluate(
        """() => {
          const script = document.createElement("script");
          script.textContent = "window.__inlineRan = true";
          document.head.append(script);
          const div = document.createElement("div");
          div.setAttribute("hx-on:click", "window.__hxOnRan = true");
          div.setAttribute("hx-get", "/sessions/");
          div.setAttribute("hx-trigger", "click[window.__filterRan = true]");
          document.body.append(div);
          htmx.process(div);
          div.click();
          return [window.__inlineRan === true, window.__hxOnRan === true, window.__filterRan === true];
        }"""
    )
    assert ran == [False, False, False]
    deadline = time.monotonic() + 5
    while len(csp_report.violations) < 3 and time.monotonic() < deadline:
        admin_page.wait_for_timeout(100)
    seen = "\n".join(csp_report.violations)
    assert "script-src" in seen and "inline" in seen, seen
    assert seen.count("htmx:evalDisallowedError") >= 2, seen  # hx-on and the trigger filter
    csp_report.clear()


def test_using_every_page_reports_no_violation_and_no_console_error(admin_page, live_server, csp_report):
    page = admin_page
    runs = [make_agent_run("walk", seed=seed, created_at=NOW - 1000 + seed) for seed in range(RUNS_PER_PAGE + 2)]
    create_session(
        session_id="walk",
        user_id="ada@example.com",
        session_data={"session_name": "Walk through", "session_state": {"step": 1}},
        summary={"summary": "| a | b |\n|:-|-:|\n| 1 | 2 |", "topics": ["csp"]},
        runs=runs,
        created_at=NOW - 10,
    )
    create_session(session_id="other", session_type="team", agent_id=None, team_id="t", created_at=NOW - 20)
    create_session(session_id="doomed", session_data={"session_name": "Doomed"}, created_at=NOW - 30)

    # The list: filter, search, expand a row, the choices, the live toggle and one of its beats.
    page.clock.install()
    page.goto(f"{live_server.url}/sessions/")
    page.select_option("select[name=type]", "agent")
    expect(page.locator("#results .session-link")).to_have_count(2)
    page.fill("#filter-q", "walk")
    expect(page.locator("#results .session-link")).to_have_text(["Walk through"])
    page.focus("input[name=user_id]")
    expect(page.locator("#choices-user_id option")).not_to_have_count(0)
    page.fill("#filter-q", "")
    expect(page.locator("#results .session-link")).to_have_count(2)
    row = page.locator("tbody.session-row", has_text="Walk through")
    row.locator("[data-expand]").click()
    expect(row.locator(".preview")).to_contain_text("csp")
    row.locator("[data-expand]").click()
    page.check("input[name=live]")
    expect(page.locator(".live-badge")).to_be_visible()
    with page.expect_response(lambda response: "live=1" in response.url):  # the beat's answer, swapped in
        page.clock.fast_forward(10_500)
    expect(page.locator(".live-badge")).to_be_visible()
    page.uncheck("input[name=live]")
    expect(page.locator(".live-badge")).to_have_count(0)
    page.locator("th.col-select input[type=checkbox]").check()  # select all, then none
    expect(page.locator("#results input[name=session_ids]:checked")).to_have_count(2)
    page.locator("th.col-select input[type=checkbox]").uncheck()
    expect(page.locator("#results input[name=session_ids]:checked")).to_have_count(0)

    # The detail page: expand a run, load more runs.
    page.goto(f"{live_server.url}{reverse('sessions_ui:detail', args=['walk'])}")
    expect(page.locator(".markdown td.align-right")).to_have_text("2")
    entry = page.locator(f'details.run[id="run-{runs[0]["run_id"]}"]')
    entry.locator(":scope > summary").click()
    expect(entry.locator(".tool-result pre")).to_have_text(runs[0]["tools"][0]["result"])
    page.get_by_role("link", name="Load more runs").click()
    expect(page.locator("ol.runs > li > details.run")).to_have_count(RUNS_PER_PAGE + 2)
    last = page.locator(f'details.run[id="run-{runs[-1]["run_id"]}"]')
    last.locator(":scope > summary").click()
    expect(last.locator(".tool-result pre")).to_have_text(runs[-1]["tools"][0]["result"])

    # Edit: refused (invalid JSON), then saved; then the form opened again and cancelled.
    page.get_by_role("link", name="Edit").click()
    form = page.locator("#session-edit")
    form.get_by_label("Session state").fill('{"step": 2,}')
    form.get_by_role("button", name="Save changes").click()
    expect(form.locator(".field-error")).to_contain_text("Invalid JSON")
    form.get_by_label("Session state").fill('{"step": 2}')
    form.get_by_role("button", name="Save changes").click()
    expect(page.locator(".message.success")).to_contain_text("Changed session state")
    page.get_by_role("link", name="Edit").click()
    page.locator("#session-edit").get_by_role("button", name="Cancel").click()
    expect(page.locator("#session-edit")).to_have_count(0)

    # Delete: the dialog, cancel, then confirm.
    page.goto(f"{live_server.url}{reverse('sessions_ui:detail', args=['doomed'])}")
    page.locator("#session-actions").get_by_role("button", name="Delete").click()
    dialog = page.locator("dialog#confirm-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    page.locator("#session-actions").get_by_role("button", name="Delete").click()
    page.locator("dialog#confirm-dialog").get_by_role("button", name="Delete session").click()
    page.wait_for_url(f"{live_server.url}/sessions/")
    expect(page.locator(".message.success")).to_contain_text("Deleted session")
    assert not AgnoSession.objects.filter(pk="doomed").exists()

    # A bulk delete with nothing selected: its 400 explains in the dialog.
    page.get_by_role("button", name="Delete selected…").click()
    expect(page.locator("dialog#confirm-dialog")).to_contain_text("Select the sessions to delete first.")
    page.locator("dialog#confirm-dialog").get_by_role("button", name="Close").click()

    assert csp_report.violations == []
    unexpected = [error for error in csp_report.console_errors if not EXPECTED_STATUS_ERROR.match(error)]
    assert unexpected == []


def test_live_refresh_skips_its_beat_while_a_row_is_expanded(admin_page, live_server):
    page = admin_page
    create_session(session_id="first", session_data={"session_name": "First"}, created_at=NOW - 100)
    page.clock.install()
    page.goto(f"{live_server.url}/sessions/?live=1")
    beats = []
    page.on("request", lambda request: beats.append(request.url) if "live=1" in request.url else None)
    row = page.locator("tbody.session-row", has_text="First")
    row.locator("[data-expand]").click()
    expect(row.locator(".preview-row")).to_be_visible()
    create_session(session_id="second", session_data={"session_name": "Second"}, created_at=NOW)
    page.clock.fast_forward(10_500)
    page.clock.fast_forward(10_500)
    page.wait_for_timeout(300)
    assert [url for url in beats if "/preview/" not in url] == []  # skipped: the expanded row stays open
    expect(row.locator(".preview-row")).to_be_visible()
    row.locator("[data-expand]").click()  # folded: the next beat refreshes
    with page.expect_request(lambda request: "live=1" in request.url):
        page.clock.fast_forward(10_500)
    expect(page.locator("#results .session-link").first).to_have_text("Second")


def test_typing_a_search_asks_once_not_again_on_leaving_the_box(admin_page, live_server):
    page = admin_page
    create_session(session_id="findme", session_data={"session_name": "Find me"})
    page.goto(f"{live_server.url}/sessions/")
    asked = []
    page.on("request", lambda request: asked.append(request.url) if "q=find" in request.url else None)
    page.fill("#filter-q", "find")
    expect(page.locator("#results .session-link")).to_have_text(["Find me"])
    page.locator("#filter-q").blur()  # its change event: the old hx-trigger filter skipped it, so does app.js
    page.wait_for_timeout(500)
    assert len(asked) == 1, asked
    # Leaving the box before the pause is over still searches (a change event would have cancelled it).
    page.fill("#filter-q", "nothing like it")
    page.locator("#filter-q").blur()
    expect(page.locator("#results")).to_contain_text("No sessions")
    page.select_option("select[name=type]", "team")  # the other fields ask on change, as before
    page.wait_for_url("**/sessions/?q=nothing*&type=team")
