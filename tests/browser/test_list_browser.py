"""The list in a real browser: HTMX filters push the URL, back restores, rows expand in place, keyboard."""

import re
import time
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from tests.factories import create_session, make_agent_run
from tests.test_list_runs import big_runs

pytestmark = pytest.mark.browser

NOW = int(time.time())


@pytest.fixture
def sessions(transactional_db):
    create_session(
        session_id="agent-1",
        user_id="ada@example.com",
        session_data={"session_name": "Rain in Lisbon"},
        summary={"summary": "Ada asked whether it would rain.", "topics": ["weather"]},
        runs=[make_agent_run("agent-1", question="Will it rain in Lisbon?", content="Yes, bring a coat.")],
        created_at=NOW - 100,
    )
    create_session(
        session_id="team-1",
        session_type="team",
        agent_id=None,
        team_id="travel-team",
        user_id="grace@example.org",
        session_data={"session_name": "Kyoto trip"},
        created_at=NOW - 200,
    )
    create_session(
        session_id="agent-2",
        user_id="grace@example.org",
        session_data={"session_name": "Battery research"},
        created_at=NOW - 300,
    )


def names(page) -> list[str]:
    return page.locator("#results .session-link").all_inner_texts()


def query(page) -> dict:
    return parse_qs(urlparse(page.url).query)


def mark_document(page) -> None:
    """A flag that survives HTMX swaps but not a page load."""
    page.evaluate("window.__sameDocument = true")


def same_document(page) -> bool:
    return page.evaluate("window.__sameDocument === true")


def test_filter_change_swaps_results_and_pushes_the_url(sessions, admin_page, live_server):
    """`sessions` before the login: its list page counts (and caches) the filter choices."""
    page = admin_page
    page.goto(f"{live_server.url}/sessions/")
    expect(page.locator("#results .session-link")).to_have_count(3)
    mark_document(page)
    page.select_option("select[name=type]", "team")
    expect(page.locator("#results .session-link")).to_have_count(1)
    assert names(page) == ["Kyoto trip"]
    assert query(page) == {"type": ["team"]}  # empty fields stay out of the URL
    assert same_document(page)

    expect(page.locator("#choices-user_id option")).to_have_count(2)  # the choices, with counts, load with the page
    assert page.locator("#choices-user_id option").first.get_attribute("label") == "2 sessions"

    page.fill("#filter-q", "batt")
    page.select_option("select[name=type]", "agent")
    expect(page.locator("#results .session-link")).to_have_text(["Battery research"])
    assert query(page) == {"q": ["batt"], "type": ["agent"]}
    assert same_document(page)


def test_back_restores_previous_results_and_filters(admin_page, live_server, sessions):
    page = admin_page
    page.goto(f"{live_server.url}/sessions/")
    page.select_option("select[name=type]", "team")
    expect(page.locator("#results .session-link")).to_have_count(1)
    page.locator("#results a.user", has_text="grace@example.org").click()  # click-to-filter, from a row
    expect(page.locator(".chip")).to_have_count(2)
    assert query(page) == {"type": ["team"], "user_id": ["grace@example.org"]}
    assert page.input_value("input[name=user_id]") == "grace@example.org"

    page.go_back()
    expect(page.locator(".chip")).to_have_count(1)
    assert query(page) == {"type": ["team"]}
    assert page.input_value("input[name=user_id]") == ""
    page.go_back()
    expect(page.locator("#results .session-link")).to_have_count(3)
    assert page.input_value("select[name=type]") == ""


def test_chip_removal_and_sorting_update_results_in_place(admin_page, live_server, sessions):
    page = admin_page
    page.goto(f"{live_server.url}/sessions/?user_id=grace%40example.org")
    mark_document(page)
    assert names(page) == ["Kyoto trip", "Battery research"]
    page.click("th.col-created a")
    expect(page.locator("#results .session-link").first).to_have_text("Battery research")
    assert query(page) == {"user_id": ["grace@example.org"], "sort": ["created_at"]}
    assert page.input_value("select[name=sort]") == "created_at"
    page.click(".chip-remove")
    expect(page.locator("#results .session-link")).to_have_count(3)
    assert query(page) == {"sort": ["created_at"]}
    assert page.input_value("input[name=user_id]") == ""
    assert same_document(page)


def test_expanding_a_row_shows_summary_and_runs_in_place(admin_page, live_server, sessions):
    page = admin_page
    page.goto(f"{live_server.url}/sessions/")
    mark_document(page)
    url = page.url
    row = page.locator("tbody.session-row", has_text="Rain in Lisbon")
    row.locator("[data-expand]").click()
    preview = row.locator(".preview")
    expect(preview).to_contain_text("Ada asked whether it would rain.")
    expect(preview).to_contain_text("weather")
    expect(preview).to_contain_text("Will it rain in Lisbon?")
    expect(preview).to_contain_text("Yes, bring a coat.")
    assert page.url == url and same_document(page)
    row.locator("[data-expand]").click()
    expect(row.locator(".preview-row")).to_be_hidden()
    row.locator("[data-expand]").click()
    expect(preview).to_be_visible()


def test_keyboard_search_move_and_open(admin_page, live_server, sessions):
    page = admin_page
    page.goto(f"{live_server.url}/sessions/")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "filter-q"
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(page.locator("tbody.session-row.selected")).to_contain_text("Kyoto trip")
    page.keyboard.press("k")
    expect(page.locator("tbody.session-row.selected")).to_contain_text("Rain in Lisbon")
    page.keyboard.press("o")
    expect(page.locator("tbody.session-row.selected .preview")).to_contain_text("Ada asked")
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/sessions/team-1/")


def test_live_refresh_shows_new_sessions(admin_page, live_server, sessions):
    page = admin_page
    page.goto(f"{live_server.url}/sessions/?type=agent&live=1")
    mark_document(page)
    expect(page.locator(".live-badge")).to_be_visible()
    create_session(session_id="agent-new", session_data={"session_name": "Fresh session"}, created_at=int(time.time()))
    create_session(
        session_id="team-new",
        session_type="team",
        agent_id=None,
        team_id="t",
        session_data={"session_name": "Not shown"},
    )
    expect(page.locator("#results .session-link").first).to_have_text("Fresh session", timeout=15_000)
    assert "Not shown" not in names(page)
    assert query(page) == {"type": ["agent"], "live": ["1"]}
    assert same_document(page)


def test_filtered_count_fills_in_after_the_rows(admin_page, live_server):
    for index in range(53):
        create_session(session_id=f"s{index:02}", user_id="ada@example.com", created_at=NOW - index)
    create_session(session_id="other", user_id="grace@example.org", created_at=NOW)
    page = admin_page
    page.goto(f"{live_server.url}/sessions/?user_id=ada%40example.com")
    mark_document(page)
    expect(page.locator("#result-count")).to_have_text("53 sessions")  # the count's own request, swapped in
    expect(page.locator("#pager")).to_contain_text("Page 1 of 2")  # its pager now knows the last page
    page.click("#pager a:has-text('Last »')")
    expect(page.locator("#results .session-link")).to_have_count(3)
    assert query(page) == {"user_id": ["ada@example.com"], "page": ["2"]}
    expect(page.locator("#result-count")).to_have_text("53 sessions")  # the last page tells: no count request
    assert same_document(page)


def test_a_big_sessions_run_count_fills_in_after_the_rows(admin_page, live_server):
    """Big inline runs are counted after the page is shown (issue 13): the pending cell and the
    unnamed session's name fill in, with no error, and stay filled on the next render."""
    create_session(session_id="busy", session_data={}, runs=big_runs("busy", 110), layout="2", created_at=NOW)
    page = admin_page
    page.goto(f"{live_server.url}/sessions/")
    runs_cell = page.locator("tbody.session-row td.col-runs")
    expect(runs_cell).to_have_text("110")
    expect(page.locator("#results .session-link")).to_have_text([re.compile(r"^[0-9a-f]{100,}…$")])
    page.reload()
    expect(runs_cell).to_have_text("110")
    assert page.locator("#run-counts").count() == 0
