"""Hostile ids in chromium: from the list to the detail page, a run expanded in place (an htmx fragment),
its permalink, the edit form (a fragment) and a delete, each landing on the id it was built from."""

import pytest
from playwright.sync_api import expect

from sessions_ui.models import AgnoSession
from tests.factories import create_session, make_agent_run
from tests.hostile.test_ids import LONG_ID, run_id

pytestmark = pytest.mark.browser

# Each has broken a link once: the browser resolved "." and ".." segments to another page.
IDS = ["..", ".", "a/../b", "x/.", "./x", "../../accounts/password_change", "users/x/..", "..~", "%2e%2e", LONG_ID]


@pytest.fixture
def hostile_sessions():
    for number, session_id in enumerate(IDS):
        # The long id's run gets a short one: the live server (wsgiref) takes request lines of up to 64 KB.
        run_of = run_id(session_id) if session_id != LONG_ID else "long/../run"
        run = make_agent_run(session_id, run_id=run_of, seed=number + 1, question=f"Question {number}")
        create_session(session_id=session_id, session_data={"session_name": f"Hostile {number}"}, runs=[run])


@pytest.mark.parametrize("number", range(len(IDS)), ids=lambda number: IDS[number][:20])
def test_every_link_of_a_hostile_id_opens_that_id(admin_page, live_server, hostile_sessions, number):
    page, session_id = admin_page, IDS[number]
    page.goto(f"{live_server.url}/sessions/")
    page.get_by_role("link", name=f"Hostile {number}", exact=True).click()
    page.wait_for_load_state()  # htmx is set up: the run's "toggle" is heard
    expect(page.locator("h1")).to_have_text(f"Hostile {number}")
    expect(page.locator("code[data-copy-source]")).to_have_text(session_id)
    detail = page.url

    entry = page.locator("details.run").first
    entry.locator(":scope > summary").click()
    expect(entry.locator(".run-body")).to_contain_text(f"Question {number}")
    expect(entry.locator(".run-body > .loading")).to_have_count(0)  # the fragment came, not a link to elsewhere

    entry.locator("a.permalink").click()
    expect(page.locator("details.run[open]")).to_have_count(1)
    expect(page.locator("code[data-copy-source]")).to_have_text(session_id)
    assert page.url.startswith(detail + "?run=")

    page.goto(detail)
    page.get_by_role("link", name="Edit").click()
    form = page.locator("#session-edit")
    form.get_by_label("Session name").fill(f"Renamed {number}")
    form.get_by_role("button", name="Save changes").click()
    expect(page.locator("h1")).to_have_text(f"Renamed {number}")
    assert page.url == detail
    assert f"Renamed {number}" in AgnoSession.objects.get(pk=session_id).session_data

    page.locator("#session-actions").get_by_role("button", name="Delete").click()
    page.locator("dialog#confirm-dialog").get_by_role("button", name="Delete session").click()
    expect(page.locator(".message.success")).to_contain_text(f"Deleted session “Renamed {number}”")
    assert not AgnoSession.objects.filter(pk=session_id).exists()
    assert AgnoSession.objects.count() == len(IDS) - 1  # no other session went with it
