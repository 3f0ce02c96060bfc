"""A run's trace in a browser: opened from the run, its spans nested on the waterfall, a span opened to its attributes."""

from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from sessions_ui.schema import agno_connection
from tests.factories import create_session, make_agent_run
from tests.test_traces import HOSTILE, TRACE_TABLES, drop, write_odd_trace

pytestmark = pytest.mark.browser


def test_opening_a_runs_trace_then_a_span_shows_the_tree_and_its_attributes(viewer_page, live_server, csp_report):
    run = make_agent_run("traced run")
    create_session(session_id="traced run", runs=[run], session_data={"session_state": {}})
    write_odd_trace("traced run", run["run_id"])
    try:
        viewer_page.goto(f"{live_server.url}/sessions/{quote('traced run', safe='')}/")
        entry = viewer_page.locator(f'details.run[id="run-{run["run_id"]}"]')
        entry.locator(":scope > summary").click()
        trace = entry.locator("details.trace")
        trace.locator(":scope > summary").click()
        spans = trace.locator("li.span")
        expect(spans.first.locator(".span-name")).to_have_text("Odd.run")
        expect(spans).to_have_count(5 if agno_connection().vendor == "sqlite" else 4)
        expect(trace.locator("li.span.failed .span-name")).to_have_text(HOSTILE)  # text, not markup
        expect(trace.locator("li.span.indent-1")).not_to_have_count(0)
        expect(trace.locator("svg.waterfall rect")).not_to_have_count(0)
        evil = trace.locator('li.span[id="span-evil"]')
        evil.locator("summary").click()
        expect(evil.locator(".span-attributes")).to_contain_text("output.value")
        expect(evil.locator(".span-attributes")).to_contain_text(HOSTILE)
        assert viewer_page.evaluate("document.querySelectorAll('img[src=x], script:not([src])').length") == 0
        assert [error for error in csp_report.console_errors if "/favicon.ico" not in error] == []
    finally:
        drop(*TRACE_TABLES)
