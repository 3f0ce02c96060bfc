"""The detail page in a browser: runs expand in place, permalinks open their run, "load more" appends."""

import json
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from sessions_ui.views import RUNS_PER_PAGE
from tests.factories import create_session, make_agent_run

pytestmark = pytest.mark.browser


def detail_url(live_server, session_id: str) -> str:
    return f"{live_server.url}/sessions/{quote(session_id, safe='')}/"


def run_entry(page, run_id: str):
    return page.locator(f'details.run[id="run-{run_id}"]')


def test_expanding_a_run_shows_its_tool_call_and_result_in_place(viewer_page, live_server):
    runs = [make_agent_run("a b/c", seed=seed, created_at=1_760_000_000 + seed) for seed in (1, 2)]
    create_session(session_id="a b/c", runs=runs)
    url = detail_url(live_server, "a b/c")
    viewer_page.goto(url)
    entry = run_entry(viewer_page, runs[1]["run_id"])
    expect(entry.locator(".tool-result")).to_have_count(0)
    entry.locator(":scope > summary").click()
    result = entry.locator(".tool-result pre")
    expect(result).to_have_text(runs[1]["tools"][0]["result"])
    expect(entry.locator(".tool-args pre")).to_contain_text(json.dumps(runs[1]["tools"][0]["tool_args"], indent=2))
    expect(entry.locator(".tool-name").first).to_have_text(runs[1]["tools"][0]["tool_name"])
    assert viewer_page.url == url
    expect(run_entry(viewer_page, runs[0]["run_id"]).locator(".tool-result")).to_have_count(0)
    entry.locator(":scope > summary").click()  # and folds again
    expect(result).to_be_hidden()


def test_run_permalink_with_a_hash_opens_the_run_expanded(viewer_page, live_server):
    runs = [make_agent_run("long", seed=seed, created_at=1_760_000_000 + seed) for seed in range(RUNS_PER_PAGE + 5)]
    create_session(session_id="long", runs=runs)
    near, far = runs[3], runs[RUNS_PER_PAGE + 2]
    viewer_page.goto(f"{detail_url(live_server, 'long')}#run-{near['run_id']}")
    expect(run_entry(viewer_page, near["run_id"]).locator(".tool-result pre")).to_have_text(near["tools"][0]["result"])
    # A run on a later page: the server finds its page from ?run=.
    viewer_page.goto(f"{detail_url(live_server, 'long')}#run-{far['run_id']}")
    entry = run_entry(viewer_page, far["run_id"])
    expect(entry.locator(".tool-result pre")).to_have_text(far["tools"][0]["result"])
    assert f"?run={far['run_id']}" in viewer_page.url
    expect(entry).to_be_in_viewport()


def test_load_more_appends_the_next_page_of_runs(viewer_page, live_server):
    runs = [make_agent_run("more", seed=seed, created_at=1_760_000_000 + seed) for seed in range(RUNS_PER_PAGE + 3)]
    create_session(session_id="more", runs=runs)
    viewer_page.goto(detail_url(live_server, "more"))
    entries = viewer_page.locator("ol.runs > li > details.run")
    expect(entries).to_have_count(RUNS_PER_PAGE)
    viewer_page.get_by_role("link", name="Load more runs").click()
    expect(entries).to_have_count(RUNS_PER_PAGE + 3)
    expect(viewer_page.get_by_role("link", name="Load more runs")).to_have_count(0)
    last = run_entry(viewer_page, runs[-1]["run_id"])
    last.locator(":scope > summary").click()
    expect(last.locator(".tool-result pre")).to_have_text(runs[-1]["tools"][0]["result"])


def test_copy_a_run_as_json(viewer_page, live_server):
    viewer_page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    run = make_agent_run("copy")
    create_session(session_id="copy", runs=[run])
    viewer_page.goto(detail_url(live_server, "copy"))
    entry = run_entry(viewer_page, run["run_id"])
    entry.locator(":scope > summary").click()
    entry.get_by_role("button", name="Copy as JSON").click()
    expect(entry.get_by_role("button", name="Copied")).to_be_visible()
    assert json.loads(viewer_page.evaluate("navigator.clipboard.readText()")) == run
