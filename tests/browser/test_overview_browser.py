"""The overview in a real browser: the charts render, a filter swaps them and pushes the URL, a bar opens its list."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import create_session, make_agent_run

pytestmark = pytest.mark.browser


def test_charts_render_a_filter_pushes_the_url_and_a_bar_links_to_its_list(viewer_page, live_server, csp_report):
    today = timezone.localdate()
    noon = int((timezone.now() - timedelta(hours=1)).timestamp())
    for number, agent in enumerate(("sql-agent", "sql-agent", "weather-agent")):
        session_id = f"ov-{number}"
        create_session(
            session_id=session_id,
            agent_id=agent,
            created_at=noon - number,
            runs=[make_agent_run(session_id, created_at=noon, seed=number + 1)],
            session_data={"session_metrics": {"input_tokens": 100, "output_tokens": 20}},
        )
    page = viewer_page
    csp_report.clear()
    page.goto(f"{live_server.url}/overview/")
    expect(page.locator("#figures svg").first).to_be_visible()
    # The page came with the summary as it was (never built): its figures follow once it is refreshed.
    expect(page.locator(".overview-range")).not_to_contain_text("refreshing")
    assert page.locator("#figures .chart svg rect").count() >= 3
    page.fill("input[name=agent_id]", "sql-agent")
    page.locator("input[name=agent_id]").dispatch_event("change")
    expect(page).to_have_url(
        f"{live_server.url}/overview/?type=&agent_id=sql-agent&team_id=&workflow_id=&user_id="
        f"&created_after={today - timedelta(days=13)}&created_before={today}"
    )
    expect(page.locator(".headline-value").first).to_have_text("2")
    bar = page.locator("figure.chart").first.locator("svg a").last
    bar.click()
    page.wait_for_url(f"{live_server.url}/sessions/**")
    assert f"created_after={today}" in page.url and "agent_id=sql-agent" in page.url
    expect(page.locator("#results .session-link")).to_have_count(2)
    assert [error for error in csp_report.console_errors if "favicon.ico" not in error] == []
