"""htmx failure paths in a real browser: a failing fragment request shows the failure in place (and the live
refresh stops), an expired login sends the whole page to the login."""

import time

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from playwright.sync_api import expect

from sessions_ui.schema import agno_connection, create_agno_tables, quoted_table
from tests.factories import create_session

pytestmark = pytest.mark.browser

NOW = int(time.time())


@pytest.fixture
def sessions():
    for number in range(3):
        create_session(
            session_id=f"s-{number}", session_data={"session_name": f"Row {number}"}, created_at=NOW - number
        )
    yield
    with agno_connection().cursor() as cursor:
        for table in (settings.AGNO_RUNS_TABLE, settings.AGNO_SESSION_TABLE, "moved_sessions"):
            cursor.execute(f"DROP TABLE IF EXISTS {quoted_table(table)}")
    create_agno_tables(agno_connection())


def open_live_list(page, live_server) -> None:
    page.goto(f"{live_server.url}/sessions/?live=1")
    expect(page.locator("#results .session-link")).to_have_count(3)
    expect(page.locator(".live-badge")).to_be_visible()


def test_a_database_fault_replaces_the_rows_and_stops_the_live_refresh(admin_page, live_server, sessions):
    page = admin_page
    open_live_list(page, live_server)
    with agno_connection().cursor() as cursor:
        cursor.execute(f"ALTER TABLE {quoted_table(settings.AGNO_SESSION_TABLE)} RENAME TO moved_sessions")
    page.fill("#filter-q", "Row")
    fault = page.locator("#results .fault")
    expect(fault).to_contain_text("Agno's session table is not there")
    expect(fault).to_contain_text("AGNO_SESSION_TABLE")
    expect(page.locator("#results .session-link")).to_have_count(0)
    expect(page.locator(".live-badge, [data-live-refresh]")).to_have_count(0)
    assert fault.locator("a.button").get_attribute("href") == page.url  # "Try again" reloads the page


def test_an_unanswered_request_says_so_in_place(admin_page, live_server, sessions):
    page = admin_page
    open_live_list(page, live_server)
    page.route("**/sessions/?*q=*", lambda route: route.abort())
    page.fill("#filter-q", "Row")
    expect(page.locator("#results .fault")).to_contain_text("did not answer")
    expect(page.locator("#results .session-link, .live-badge")).to_have_count(0)


def test_a_server_error_says_so_in_place(admin_page, live_server, sessions):
    page = admin_page
    open_live_list(page, live_server)
    page.route("**/sessions/?*q=*", lambda route: route.fulfill(status=500, body="<h1>Server Error (500)</h1>"))
    page.fill("#filter-q", "Row")
    expect(page.locator("#results .fault")).to_contain_text("The server failed to answer (500")
    expect(page.locator("#results h1")).to_have_count(0)


def test_an_expired_login_during_htmx_loads_the_login_page_and_comes_back(admin_page, live_server, sessions):
    page = admin_page
    open_live_list(page, live_server)
    Session.objects.all().delete()  # the login expired
    page.fill("#filter-q", "Row 1")
    page.wait_for_url(f"{live_server.url}/accounts/login/**")
    expect(page.locator("#results")).to_have_count(0)
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "pw")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/sessions/?live=1")  # the page the user was on, not a fragment
    expect(page.locator("#results .session-link")).to_have_count(3)


def test_only_the_results_say_so_not_the_filter_suggestions(admin_page, live_server, sessions):
    page = admin_page
    open_live_list(page, live_server)
    with agno_connection().cursor() as cursor:
        cursor.execute(f"ALTER TABLE {quoted_table(settings.AGNO_SESSION_TABLE)} RENAME TO moved_sessions")
    page.fill("#filter-q", "Row")  # its focus also asks for the suggestions, which fail too
    expect(page.locator("#results .fault")).to_have_count(1)
    expect(page.locator(".fault")).to_have_count(1)
