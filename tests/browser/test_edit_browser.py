"""Editing inline on the detail page and deleting behind the confirmation dialog, in chromium."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from sessions_ui import agno
from sessions_ui.models import AgnoSession
from tests.factories import create_session, make_agent_run

pytestmark = pytest.mark.browser


def detail_url(live_server, session_id: str) -> str:
    return live_server.url + reverse("sessions_ui:detail", args=[session_id])


def session_data(session_id: str) -> dict:
    return agno.decode_json(AgnoSession.objects.get(pk=session_id).session_data)


def test_edit_name_and_state_inline_on_the_detail_page(admin_page, live_server):
    create_session(
        session_id="trip/kyoto 1",
        session_data={
            "session_name": "Kyoto trip",
            "session_state": {"days": 3},
            "session_metrics": {"total_tokens": 9},
        },
    )
    url = detail_url(live_server, "trip/kyoto 1")
    admin_page.goto(url)

    admin_page.get_by_role("link", name="Edit").click()
    form = admin_page.locator("#session-edit")
    expect(form).to_be_visible()
    assert admin_page.url == url  # inline: no navigation
    expect(form.get_by_label("Session state")).to_have_value(json.dumps({"days": 3}, indent=2))

    form.get_by_label("Session name").fill("Kyoto, in spring")
    form.get_by_label("Session state").fill('{"days": 3,}')
    form.get_by_role("button", name="Save changes").click()
    expect(form.locator(".field-error")).to_contain_text("Invalid JSON")  # shown next to the field, in place
    expect(form.get_by_label("Session state")).to_have_value('{"days": 3,}')
    assert session_data("trip/kyoto 1")["session_name"] == "Kyoto trip"

    form.get_by_label("Session state").fill('{"days": 4, "season": "spring"}')
    form.get_by_role("button", name="Save changes").click()
    expect(admin_page.locator("h1")).to_have_text("Kyoto, in spring")
    expect(admin_page.locator(".message.success")).to_contain_text("Changed session name")
    assert session_data("trip/kyoto 1") == {
        "session_name": "Kyoto, in spring",
        "session_state": {"days": 4, "season": "spring"},
        "session_metrics": {"total_tokens": 9},
    }


def test_cancel_closes_the_inline_form(admin_page, live_server):
    create_session(session_id="cancel-me")
    admin_page.goto(detail_url(live_server, "cancel-me"))
    admin_page.get_by_role("link", name="Edit").click()
    admin_page.locator("#session-edit").get_by_role("button", name="Cancel").click()
    expect(admin_page.locator("#session-edit")).to_have_count(0)


def test_delete_from_the_detail_page_with_the_confirmation_dialog(admin_page, live_server):
    runs = [make_agent_run("doomed", seed=31), make_agent_run("doomed", seed=32)]
    create_session(session_id="doomed", session_data={"session_name": "Doomed session"}, runs=runs)
    create_session(session_id="survivor")
    admin_page.goto(detail_url(live_server, "doomed"))

    admin_page.locator("#session-actions").get_by_role("button", name="Delete").click()
    dialog = admin_page.locator("dialog#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Doomed session")
    expect(dialog).to_contain_text("2 runs")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    assert AgnoSession.objects.filter(pk="doomed").exists()

    admin_page.locator("#session-actions").get_by_role("button", name="Delete").click()
    admin_page.locator("dialog#confirm-dialog").get_by_role("button", name="Delete session").click()
    admin_page.wait_for_url(f"{live_server.url}/sessions/")
    expect(admin_page.locator(".message.success")).to_contain_text("Deleted session “Doomed session” and its 2 runs")
    assert list(AgnoSession.objects.values_list("pk", flat=True)) == ["survivor"]


def test_bulk_delete_of_selected_rows_from_the_list(admin_page, live_server):
    for index in range(3):
        create_session(session_id=f"bulk-{index}", session_data={"session_name": f"Bulk {index}"})
    admin_page.goto(f"{live_server.url}/sessions/")

    admin_page.get_by_label("Select Bulk 0").check()
    admin_page.get_by_label("Select Bulk 2").check()
    admin_page.get_by_role("button", name="Delete selected…").click()
    dialog = admin_page.locator("dialog#confirm-dialog")
    expect(dialog).to_contain_text("Delete 2 sessions?")
    expect(dialog).to_contain_text("Bulk 0")
    expect(dialog).not_to_contain_text("Bulk 1")
    dialog.get_by_role("button", name="Delete 2 sessions").click()
    expect(admin_page.locator(".message.success")).to_contain_text("Deleted 2 sessions")
    assert list(AgnoSession.objects.values_list("pk", flat=True)) == ["bulk-1"]


def test_bulk_delete_of_all_matching_deletes_what_the_dialog_showed(admin_page, live_server):
    for index in range(3):
        create_session(
            session_id=f"match-{index}", user_id="ada@example.com", session_data={"session_name": f"M {index}"}
        )
    create_session(session_id="other", user_id="grace@example.org")
    admin_page.goto(f"{live_server.url}/sessions/?user_id=ada%40example.com")
    admin_page.get_by_role("button", name="Delete all 3 matching…").click()
    dialog = admin_page.locator("dialog#confirm-dialog")
    expect(dialog).to_contain_text("Delete 3 sessions?")
    create_session(session_id="arrived", user_id="ada@example.com")  # after the dialog was shown
    dialog.get_by_role("button", name="Delete 3 sessions").click()
    dialog = admin_page.locator("dialog#confirm-dialog")
    expect(dialog).to_contain_text("changed since you asked (3 then, 4 now)")
    assert AgnoSession.objects.count() == 5
    dialog.get_by_role("button", name="Delete 4 sessions").click()
    expect(admin_page.locator(".message.success")).to_contain_text("Deleted 4 sessions")
    assert list(AgnoSession.objects.values_list("pk", flat=True)) == ["other"]


def test_bulk_delete_with_nothing_selected_explains_in_the_dialog(admin_page, live_server):
    create_session(session_id="lonely")
    admin_page.goto(f"{live_server.url}/sessions/")
    admin_page.get_by_role("button", name="Delete selected…").click()
    dialog = admin_page.locator("dialog#confirm-dialog")
    expect(dialog).to_contain_text("Select the sessions to delete first.")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_have_count(0)
    assert AgnoSession.objects.filter(pk="lonely").exists()


def test_viewer_sees_no_edit_or_delete_buttons(viewer_page, live_server):
    create_session(session_id="read-only")
    viewer_page.goto(detail_url(live_server, "read-only"))
    expect(viewer_page.locator("#session-actions")).to_be_visible()
    expect(viewer_page.get_by_role("link", name="Edit")).to_have_count(0)
    expect(viewer_page.get_by_role("button", name="Delete")).to_have_count(0)
