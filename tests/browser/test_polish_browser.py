"""Issue 19 in chromium: the role badge, the styled 404 with its way back, the edit form's failure path."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from sessions_ui import agno, queries
from sessions_ui.models import AgnoSession
from tests.factories import create_session, make_agent_run

pytestmark = pytest.mark.browser

# SCREENSHOTS=DIR keeps the pages these tests see, light and dark at 760 px, for a person to look at.
SCREENSHOTS = os.environ.get("SCREENSHOTS", "")


def session_name(session_id: str) -> str:
    return agno.decode_json(AgnoSession.objects.get(pk=session_id).session_data)["session_name"]


def keep(page, name: str) -> None:
    if not SCREENSHOTS:
        return
    width = page.viewport_size
    page.set_viewport_size({"width": 760, "height": 900})
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}-760-{scheme}.png"), full_page=True)
    page.emulate_media(color_scheme="light")
    page.set_viewport_size(width)


def test_a_viewer_sees_the_role_beside_the_name_and_no_edit_controls(viewer_page, live_server):
    create_session(session_id="s1", session_data={"session_name": "Trip"})
    viewer_page.goto(live_server.url + reverse("sessions_ui:detail", args=["s1"]))
    account = viewer_page.locator(".account")
    expect(account.locator(".badge.account-role")).to_have_text("viewer")
    expect(account.locator(".badge.account-role")).to_have_attribute(
        "title", "May view sessions, not edit or delete them"
    )
    name_box = account.get_by_text("viewer", exact=True).first.bounding_box()
    badge_box = account.locator(".badge.account-role").bounding_box()
    assert abs(name_box["y"] + name_box["height"] / 2 - (badge_box["y"] + badge_box["height"] / 2)) < 4  # one line
    expect(viewer_page.get_by_role("link", name="Edit")).to_have_count(0)
    keep(viewer_page, "role-viewer-detail")


def test_a_missing_session_gets_the_dashboards_404_and_its_way_back(viewer_page, live_server):
    response = viewer_page.goto(live_server.url + reverse("sessions_ui:detail", args=["gone/session"]))
    assert response.status == 404
    expect(viewer_page.locator(".not-found h1")).to_have_text("Not found")
    expect(viewer_page.locator(".not-found")).to_contain_text("There is no session “gone/session”.")
    expect(viewer_page.locator(".badge.account-role")).to_have_text("viewer")
    keep(viewer_page, "not-found")
    viewer_page.get_by_role("link", name="← Back to the sessions").click()
    viewer_page.wait_for_url(live_server.url + reverse("sessions_ui:list"))


def test_a_delete_from_page_3_of_a_filtered_list_comes_back_to_page_3(admin_page, live_server, monkeypatch):
    monkeypatch.setattr(queries.pages, "LIST_PAGE_SIZE", 2)
    now = int(time.time())
    for index in range(7):  # newest first: ada-0 ada-1 | ada-2 ada-3 | ada-4 ada-5 | ada-6
        create_session(
            session_id=f"ada-{index}",
            user_id="ada@example.com",
            created_at=now - 100 * index,
            session_data={"session_name": f"Ada {index}"},
        )
    create_session(session_id="bob-0", user_id="bob@example.com", session_data={"session_name": "Bob 0"})
    admin_page.goto(f"{live_server.url}/sessions/?user_id=ada%40example.com")
    for _ in range(2):
        admin_page.locator("#pager a[rel=next]").click()
        admin_page.wait_for_load_state("networkidle")
    expect(admin_page.locator("#results")).to_contain_text("Ada 4")
    third = admin_page.url
    assert "page=3" in third and "after=" in third and "user_id=ada%40example.com" in third

    admin_page.get_by_label("Select Ada 4").check()
    admin_page.get_by_role("button", name="Delete selected…").click()
    dialog = admin_page.locator("dialog#confirm-dialog")
    expect(dialog).to_contain_text("Ada 4")
    dialog.get_by_role("button", name="Delete session").click()
    expect(admin_page.locator(".message.success")).to_contain_text("Deleted session “Ada 4”")
    assert admin_page.url == third  # the same list, the same page
    expect(admin_page.locator("#results")).to_contain_text("Ada 5")
    expect(admin_page.locator("#results")).to_contain_text("Ada 6")
    expect(admin_page.locator("#results")).not_to_contain_text("Ada 3")
    expect(admin_page.locator("#results")).not_to_contain_text("Bob 0")


def test_invalid_json_on_the_edit_page_keeps_the_page_what_was_typed_and_says_why_by_the_field(admin_page, live_server):
    create_session(session_id="s1", session_data={"session_name": "Trip", "session_state": {}}, metadata={"a": 1})
    url = live_server.url + reverse("sessions_ui:edit", args=["s1"])
    admin_page.goto(url)
    typed = '{"source": "slack",,}'
    admin_page.get_by_label("Metadata").fill(typed)
    admin_page.get_by_label("Session name").fill("Trip, renamed")
    admin_page.get_by_role("button", name="Save changes").click()

    field = admin_page.locator(".field.invalid")
    expect(field).to_have_count(1)
    expect(field.locator("label")).to_have_text("Metadata")
    expect(field.locator(".field-error")).to_contain_text("Invalid JSON")
    expect(admin_page.get_by_label("Metadata")).to_have_value(typed)
    expect(admin_page.get_by_label("Session name")).to_have_value("Trip, renamed")
    expect(admin_page.locator(".notice.error")).to_contain_text("Not saved")
    # The page is still the dashboard's: its header, crumbs and stylesheet, at the same address.
    expect(admin_page.locator("header.topbar")).to_have_count(1)
    expect(admin_page.locator("nav.crumbs")).to_contain_text("Edit")
    expect(admin_page.locator("#session-edit")).to_have_count(1)
    assert admin_page.url == url
    assert admin_page.locator("#session-edit").evaluate("e => getComputedStyle(e).borderStyle") == "solid"  # styled
    keep(admin_page, "edit-invalid-json")
    assert session_name("s1") == "Trip"


def test_runs_are_numbered_and_copy_link_copies_a_link_that_opens_the_run(viewer_page, live_server):
    session_id = "trip/kyoto 1"
    runs = [make_agent_run(session_id, seed=seed, question=f"Question {seed}") for seed in range(3)]
    create_session(session_id=session_id, session_data={"session_name": "Kyoto"}, runs=runs)
    viewer_page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    url = live_server.url + reverse("sessions_ui:detail", args=[session_id])
    viewer_page.goto(url)
    entries = viewer_page.locator("ol.runs > li > details.run")
    expect(entries.locator("> summary .run-number")).to_have_text(["1", "2", "3"])

    second = entries.nth(1)
    button = second.locator("> summary").get_by_role("button", name="Copy link")
    button.click()
    expect(button).to_have_class(re.compile(r"\bcopied\b"))
    expect(second).not_to_have_attribute("open", "")  # the click copied, it did not open the run
    link = viewer_page.evaluate("navigator.clipboard.readText()")
    run_id = runs[1]["run_id"]
    assert link == f"{url}?run={quote(run_id, safe='')}#run-{quote(run_id, safe='')}"

    viewer_page.locator("#session-actions").get_by_role("button", name="Copy link").click()
    assert viewer_page.evaluate("navigator.clipboard.readText()") == url
    keep(viewer_page, "detail-run-numbers")

    viewer_page.goto(link)
    opened = viewer_page.locator(f'details.run[id="run-{run_id}"]')
    expect(opened).to_have_attribute("open", "")
    expect(opened).to_contain_text("Question 1")


def test_go_to_run_n_opens_that_run(viewer_page, live_server):
    session_id = "s1"
    runs = [make_agent_run(session_id, seed=seed, question=f"Question {seed}") for seed in range(4)]
    create_session(session_id=session_id, runs=runs)
    viewer_page.goto(live_server.url + reverse("sessions_ui:detail", args=[session_id]))
    viewer_page.get_by_label("Go to run").fill("3")
    viewer_page.get_by_label("Go to run").press("Enter")
    opened = viewer_page.locator(f'details.run[id="run-{runs[2]["run_id"]}"]')
    expect(opened).to_have_attribute("open", "")
    expect(opened.locator("> summary .run-number")).to_have_text("3")
    assert viewer_page.url.endswith(f"#run-{runs[2]['run_id']}")
    viewer_page.get_by_label("Go to run").fill("9")
    viewer_page.get_by_role("button", name="Go", exact=True).click()  # the browser's own check refuses it
    assert viewer_page.get_by_label("Go to run").evaluate("input => input.validity.rangeOverflow")


def test_load_more_puts_the_loaded_page_in_the_url_and_a_reload_opens_there(viewer_page, live_server):
    per_page = 50  # sessions_ui.views.RUNS_PER_PAGE
    runs = [make_agent_run("more", seed=seed, created_at=1_760_000_000 + seed) for seed in range(per_page + 3)]
    create_session(session_id="more", runs=runs)
    url = live_server.url + reverse("sessions_ui:detail", args=["more"])
    viewer_page.goto(url)
    viewer_page.get_by_role("link", name="Load more runs").click()
    numbers = viewer_page.locator("ol.runs > li > details.run > summary .run-number")
    expect(numbers).to_have_count(per_page + 3)
    viewer_page.wait_for_url(f"{url}?page=2")
    viewer_page.reload()
    expect(numbers).to_have_text([str(number) for number in range(per_page + 1, per_page + 4)])
    expect(viewer_page.locator(".timeline-pager")).to_contain_text("← Earlier runs")


def test_j_and_k_move_between_runs_and_o_opens_one(viewer_page, live_server):
    runs = [make_agent_run("s1", seed=seed, question=f"Question {seed}") for seed in range(3)]
    create_session(session_id="s1", runs=runs)
    viewer_page.goto(live_server.url + reverse("sessions_ui:detail", args=["s1"]))
    lines = viewer_page.locator("ol.runs > li > details.run > summary")
    viewer_page.keyboard.press("j")
    expect(lines.nth(0)).to_be_focused()
    viewer_page.keyboard.press("j")
    viewer_page.keyboard.press("j")
    viewer_page.keyboard.press("j")  # stays on the last
    expect(lines.nth(2)).to_be_focused()
    viewer_page.keyboard.press("k")
    expect(lines.nth(1)).to_be_focused()
    viewer_page.keyboard.press("o")
    second = viewer_page.locator(f'details.run[id="run-{runs[1]["run_id"]}"]')
    expect(second).to_have_attribute("open", "")
    expect(second.locator(".run-body")).to_contain_text("Question 1")
    expect(viewer_page.locator("details.run[open]")).to_have_count(1)
