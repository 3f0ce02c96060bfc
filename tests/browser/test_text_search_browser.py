"""The search in conversations in chromium (issue 15): the matching snippet under the row, and the row
opening the session at the matching run. With the text index and without it (the scan)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.factories import create_session, make_agent_run

pytestmark = pytest.mark.browser

SCREENSHOTS = os.environ.get("SCREENSHOTS", "")
NOW = int(time.time())


@pytest.fixture(params=[False, True], ids=["scan", "index"])
def conversation(request, transactional_db):
    runs = [
        make_agent_run("long", run_id=f"run-{n}", question=f"Question number {n}?", created_at=NOW - 3000 + n, seed=n)
        for n in range(1, 13)
    ]
    runs[8] = make_agent_run(
        "long", run_id="run-9", question="Is the <b>refund</b> of a pangolin possible?", created_at=NOW - 2991
    )
    create_session(session_id="long", created_at=NOW - 3000, runs=runs)
    create_session(session_id="other", created_at=NOW - 100, runs=[make_agent_run("other", run_id="run-other")])
    if request.param:
        call_command("agno_indexes", "--text", stdout=open(os.devnull, "w"))


def test_the_snippet_shows_under_the_row_and_the_row_opens_the_matching_run(viewer_page, live_server, conversation):
    page = viewer_page
    page.goto(f"{live_server.url}/sessions/?text=pangolin")
    row = page.locator("tbody.session-row")
    expect(row).to_have_count(1)
    snippet = row.locator(".snippet")
    expect(snippet.locator("mark").first).to_have_text("pangolin")
    expect(snippet).to_contain_text("Is the <b>refund</b> of a pangolin possible?")  # the markup shown, escaped
    expect(snippet.locator("b")).to_have_count(0)
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / "text-search-list.png"), full_page=True)
    row.locator(".col-session a").first.click()
    page.wait_for_url("**/sessions/long/?run=run-9#run-run-9")
    run = page.locator("details.run#run-run-9")
    expect(run).to_have_attribute("open", "")
    expect(run).to_be_in_viewport()
    expect(run).to_contain_text("pangolin")
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / "text-search-run.png"))
