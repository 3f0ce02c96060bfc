"""Issue 19, items 4 and 7 in chromium: a preview rendered from Markdown, and the list, the detail page and
the edit form at 1440, 760 and 390 px without overlapping controls (SCREENSHOTS=DIR keeps them)."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from sessions_ui.bulk_write import write_sessions
from sessions_ui.demo import make_session
from sessions_ui.schema import agno_connection
from tests.factories import create_session, make_agent_run

pytestmark = pytest.mark.browser

SCREENSHOTS = os.environ.get("SCREENSHOTS", "")
WIDTHS = (1440, 760, 390)
LONG_ID = "trip/2026 portugal-spain-france-rail-itinerary-with-a-long-identifier"
LONG_NAME = "Plan a three-week rail trip through Portugal, Spain and the south of France in late September"

# The boxes of the visible controls, to compare: two that intersect overlap.
CONTROL_BOXES = """(root) => [...root.querySelectorAll(
  "a, button, input, select, textarea, summary, time, .badge, .tag, .run-facts > div")].filter((element) => {
    const style = getComputedStyle(element);
    return element.getClientRects().length && style.visibility !== "hidden" && style.opacity !== "0";
  }).map((element) => {
    const box = element.getBoundingClientRect();
    const parent = element.parentElement.closest("a, button, summary, time, label, .run-facts > div");
    return {what: element.outerHTML.slice(0, 90), x: box.x, y: box.y, width: box.width, height: box.height,
            inner: parent !== null && parent !== root && root.contains(parent)};
  })"""


def overlaps(page, selector: str) -> list[tuple[str, str]]:
    """Pairs of visible controls under `selector` whose boxes intersect (by more than a pixel)."""
    boxes = [box for root in page.locator(selector).all() for box in root.evaluate(CONTROL_BOXES)]
    boxes = [box for box in boxes if not box["inner"] and box["width"] and box["height"]]
    pairs = []
    for index, first in enumerate(boxes):
        for second in boxes[index + 1 :]:
            width = min(first["x"] + first["width"], second["x"] + second["width"]) - max(first["x"], second["x"])
            height = min(first["y"] + first["height"], second["y"] + second["height"]) - max(first["y"], second["y"])
            if width > 1 and height > 1:
                pairs.append((first["what"], second["what"]))
    return pairs


def keep(page, name: str, width: int) -> None:
    """The page at `width`, light and dark, as a viewport screenshot (not the whole page)."""
    if not SCREENSHOTS:
        return
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}-{width}-{scheme}.png"))
    page.emulate_media(color_scheme="light")


@pytest.fixture
def sessions(transactional_db):
    now = int(time.time())
    team = make_session(3, now=now - 3600, runs=2)  # a team session whose member runs call tools
    write_sessions(agno_connection(), [team], layout="3")
    answer = "Here is the plan:\n\n- **Lisbon** to Porto by train\n- then `Vigo`\n\n<script>alert(1)</script>"
    create_session(
        session_id=LONG_ID,
        user_id="margaret.hamilton@example.com",
        agent_id="travel-agent",
        session_data={"session_name": LONG_NAME, "session_state": {"itinerary_with_a_long_state_key_name": [1, 2]}},
        runs=[make_agent_run("trip", content=answer, created_at=now - 600)],
        created_at=now - 700,
        updated_at=now - 500,
    )
    return team.row["session_id"]


def test_the_preview_shows_the_answer_rendered_from_markdown(admin_page, live_server, sessions):
    admin_page.goto(live_server.url + reverse("sessions_ui:list"))
    row = admin_page.locator("tbody.session-row", has_text=LONG_NAME)
    row.locator("button.expand").click()
    output = admin_page.locator(".run-output.rendered .markdown").first
    expect(output.locator("strong")).to_have_text("Lisbon")
    expect(output.locator("li")).to_have_count(2)
    expect(output).not_to_contain_text("**")
    expect(output).to_contain_text("<script>alert(1)</script>")  # shown as text, never run
    assert admin_page.locator(".preview script").count() == 0


def test_the_list_at_760_px_shows_tokens_and_updated(admin_page, live_server, sessions):
    admin_page.set_viewport_size({"width": 760, "height": 900})
    admin_page.goto(live_server.url + reverse("sessions_ui:list"))
    row = admin_page.locator("tbody.session-row", has_text=LONG_NAME)
    for cell in ("col-tokens", "col-updated", "col-runs", "col-created", "col-user"):
        expect(row.locator(f"td.{cell}")).to_be_visible()
    expect(row.locator("td.col-updated time")).to_have_text(re.compile(r"\d\d-\d\d \d\d:\d\d \w+"))
    assert overlaps(admin_page, ".sessions-table") == []


def test_the_list_at_390_px_keeps_the_whole_name_and_overlaps_no_controls(admin_page, live_server, sessions):
    admin_page.set_viewport_size({"width": 390, "height": 900})
    admin_page.goto(live_server.url + reverse("sessions_ui:list"))
    name = admin_page.locator("tbody.session-row", has_text=LONG_NAME).locator(".session-link")
    assert name.evaluate("e => e.scrollWidth <= e.clientWidth && e.getBoundingClientRect().width > 250")
    assert admin_page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the screen
    assert overlaps(admin_page, ".sessions-table") == []
    assert overlaps(admin_page, ".topbar") == []


def test_the_detail_page_at_390_px_overlaps_no_controls_with_a_run_open(admin_page, live_server, sessions):
    admin_page.set_viewport_size({"width": 390, "height": 900})
    admin_page.goto(live_server.url + reverse("sessions_ui:detail", args=[sessions]))
    run = admin_page.locator("details.run").first
    run.locator("summary").first.click()
    expect(run.locator(".run-toolbar .copy-button")).to_be_visible()
    assert admin_page.evaluate("document.documentElement.scrollWidth") <= 390
    assert overlaps(admin_page, "details.run > summary") == []
    assert overlaps(admin_page, ".run-content > .run-toolbar, .run-content > .run-facts") == []
    admin_page.evaluate("window.scrollTo(0, 0)")  # the header is sticky: scrolled content passes under it
    assert overlaps(admin_page, ".topbar") == []
    assert overlaps(admin_page, ".detail-header, .facts") == []


@pytest.mark.parametrize("width", WIDTHS)
def test_list_detail_and_edit_form_at_each_width(admin_page, live_server, sessions, width):
    """The screenshots of issue 19 (docs/issue19/), and no overlapping controls at each width."""
    admin_page.set_viewport_size({"width": width, "height": 900})
    admin_page.goto(live_server.url + reverse("sessions_ui:list"))
    admin_page.locator("tbody.session-row", has_text=LONG_NAME).locator("button.expand").click()
    expect(admin_page.locator(".run-output.rendered").first).to_be_visible()
    assert overlaps(admin_page, ".sessions-table") == []
    keep(admin_page, "list", width)

    admin_page.goto(live_server.url + reverse("sessions_ui:detail", args=[sessions]))
    run = admin_page.locator("details.run").first
    run.locator("summary").first.click()
    expect(run.locator(".run-toolbar .copy-button")).to_be_visible()
    assert overlaps(admin_page, "details.run > summary") == []
    if width < 1000:  # the run under the session's facts
        run.evaluate("e => window.scrollTo(0, e.getBoundingClientRect().top + window.scrollY - 120)")
    keep(admin_page, "detail", width)

    admin_page.goto(live_server.url + reverse("sessions_ui:edit", args=[LONG_ID]))
    expect(admin_page.locator("#session-edit")).to_be_visible()
    assert overlaps(admin_page, "#session-edit") == []
    assert admin_page.evaluate("document.documentElement.scrollWidth") <= width
    keep(admin_page, "edit", width)
