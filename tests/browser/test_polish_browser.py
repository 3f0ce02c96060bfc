"""Issue 19 in chromium: the role badge, the styled 404 with its way back, the edit form's failure path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.factories import create_session

pytestmark = pytest.mark.browser

# SCREENSHOTS=DIR keeps the pages these tests see, light and dark at 760 px, for a person to look at.
SCREENSHOTS = os.environ.get("SCREENSHOTS", "")


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
