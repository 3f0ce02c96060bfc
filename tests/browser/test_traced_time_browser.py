"""The list's "Traced time" column in a browser: its header sorts by it (htmx, the URL pushed), and a delete's
"also delete its traces" box in the confirmation dialog."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from sessions_ui.schema import agno_connection
from sessions_ui.sources import current_source
from tests.test_list_traced_time import make_sessions
from tests.traces_elsewhere import create_trace_tables, drop_trace_tables, trace_rows

pytestmark = pytest.mark.browser
SCREENSHOTS = os.environ.get("SCREENSHOTS", "")


def shot(page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


def test_the_traced_time_header_sorts_and_a_delete_can_take_the_traces(admin_page, live_server, csp_report):
    connection, schema = agno_connection(), current_source().schema
    create_trace_tables(connection, schema)
    try:
        make_sessions(connection, schema)
        admin_page.goto(f"{live_server.url}/sessions/")
        rows = admin_page.locator("tbody.session-row")
        expect(rows.locator("td.col-duration")).to_have_text(["—", "500 ms", "3.00 s"])
        admin_page.get_by_role("link", name="Traced time").click()
        admin_page.wait_for_url("**/sessions/?sort=-duration")
        expect(rows.locator("td.col-duration")).to_have_text(["3.00 s", "500 ms", "—"])
        expect(admin_page.locator('th[aria-sort="descending"]')).to_contain_text("Traced time")
        shot(admin_page, "list-traced-time")

        rows.first.locator('input[name="session_ids"]').check()
        admin_page.get_by_role("button", name="Delete selected…").click()
        dialog = admin_page.locator("dialog#confirm-dialog")
        expect(dialog).to_contain_text("Its 2 traces (4 spans) stay")
        box = dialog.get_by_label("Also delete its traces")
        expect(box).not_to_be_checked()
        box.check()
        shot(admin_page, "delete-traces-dialog")
        dialog.get_by_role("button", name="Delete session").click()
        expect(admin_page.locator(".message.success")).to_contain_text("and 2 traces (4 spans)")
        assert trace_rows(connection, schema) == (1, 2)
        assert [error for error in csp_report.console_errors if "/favicon.ico" not in error] == []
    finally:
        drop_trace_tables(connection, schema)
