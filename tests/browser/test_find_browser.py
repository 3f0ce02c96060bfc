"""Issue 15's size column, the sorts by size in place and the size and summary filters, in a real browser."""

import os
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from tests.factories import create_session, make_agent_run

pytestmark = pytest.mark.browser

NOW = int(time.time())
SCREENSHOTS = os.environ.get("SCREENSHOTS")


@pytest.fixture
def sized():
    for offset, (name, runs) in enumerate([("Two runs", 2), ("Nine runs", 9), ("No run", 0)]):
        create_session(
            session_id=f"s{offset}",
            session_data={"session_name": name},
            summary={"summary": "Talked about runs."} if runs == 9 else None,
            runs=[make_agent_run(f"s{offset}", seed=i, run_id=f"s{offset}-{i}") for i in range(runs)],
            created_at=NOW - 100 * offset,
        )


def names(page) -> list[str]:
    return page.locator("#results .session-link").all_inner_texts()


def test_the_size_header_sorts_in_place_and_the_filters_narrow(admin_page, live_server, sized):
    page = admin_page
    page.goto(f"{live_server.url}/sessions/")
    assert names(page) == ["Two runs", "Nine runs", "No run"]
    size = page.locator("tbody.session-row").first.locator("td.col-size span")
    assert size.get_attribute("title").endswith(
        "bytes stored for the session and its runs (as the database reports its stored size)"
    )
    page.click("th.col-size a")
    expect(page.locator("#results .session-link").first).to_have_text("Nine runs")
    assert names(page) == ["Nine runs", "Two runs", "No run"]
    assert parse_qs(urlparse(page.url).query) == {"sort": ["-size"]}
    page.click("th.col-size a")
    expect(page.locator("#results .session-link").first).to_have_text("No run")
    page.select_option("select[name=has_summary]", "1")
    expect(page.locator("#results .session-link")).to_have_count(1)
    assert names(page) == ["Nine runs"]
    page.select_option("select[name=has_summary]", "")
    page.fill("input[name=size_min]", "lots")
    page.press("input[name=size_min]", "Enter")
    expect(page.locator(".notice")).to_contain_text("is not a size (4096, 10k, 1.5MB, 2MiB)")
    expect(page.locator("#results .session-link")).to_have_count(3)
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SCREENSHOTS}/find-size.png", full_page=True)
