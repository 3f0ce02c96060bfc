"""The header's source menu in a real browser: switching keeps the page kind and drops the filters (issue 14)."""

import pytest
from playwright.sync_api import expect

from tests.conftest import make_user

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.agno, pytest.mark.django_db(transaction=True, databases="__all__")]


def test_switching_source_in_the_header(several_sources, page, live_server):
    make_user("admin", superuser=True)
    login(page, live_server, "admin")
    page.goto(f"{live_server.url}/sources/support/sessions/?user_id=ada@example.com")
    expect(page.locator(".chip").first).to_contain_text("ada@example.com")
    menu = page.locator("details.source-menu")
    expect(menu.locator("summary")).to_have_text("Support agent")
    expect(menu.locator("ul")).to_be_hidden()
    menu.locator("summary").click()
    expect(menu.locator("a[aria-current=page]")).to_contain_text("Support agent")
    menu.get_by_role("link", name="Archive (2.x)").click()
    page.wait_for_url(f"{live_server.url}/sources/archive/sessions/")  # the list, without user_id
    expect(menu.locator("summary")).to_have_text("Archive (2.x)")
    expect(page.get_by_role("link", name="Lisbon weather")).to_have_attribute(
        "href", "/sources/archive/sessions/archive-agent-weather/"
    )
    expect(page.locator("#results")).to_contain_text("linus@example.net")  # no filter left

    page.goto(f"{live_server.url}/sources/archive/sessions/audit/?action=edit")
    menu.locator("summary").click()
    menu.get_by_role("link", name="Support agent").click()
    page.wait_for_url(f"{live_server.url}/sources/support/sessions/audit/")  # still the audit log
    expect(page.locator("h1")).to_have_text("Audit log")
    expect(menu.locator("summary")).to_have_text("Support agent")
