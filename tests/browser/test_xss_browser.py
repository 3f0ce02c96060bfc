"""XSS in a real browser: the corpus of tests/hostile/xss.py in every displayed field, clicked through.

Every payload that would run sets `window.__xss` or opens a dialog; after each page, each expanded
row and run, the edit form and the delete dialog, neither may have happened.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.contrib.admin.models import CHANGE
from django.contrib.auth.models import User
from django.urls import reverse
from playwright.sync_api import expect

from sessions_ui.changes import log
from tests.hostile.xss import PAYLOADS, write_xss_sessions

pytestmark = pytest.mark.browser


class Watch:
    """Dialogs the page opened, and whether any payload set its marker."""

    def __init__(self, page):
        self.page = page
        self.dialogs: list[str] = []
        page.on("dialog", self._dialog)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def settle(self) -> None:
        """Until htmx has no request under way (the class it sets on the element that asked)."""
        self.page.wait_for_function("() => !document.querySelector('.htmx-request')")

    def assert_clean(self, where: str, *, idle: bool = False) -> None:
        # An image's onerror fires once its request failed: wait for the network where images could be.
        self.page.wait_for_load_state("networkidle") if idle else self.settle()
        marker = self.page.evaluate("() => window.__xss === undefined ? null : String(window.__xss)")
        assert marker is None, f"{where}: payload {marker} ran"
        assert not self.dialogs, f"{where}: dialogs {self.dialogs}"


@pytest.fixture
def corpus(transactional_db):
    return [write_xss_sessions(payload) for payload in PAYLOADS]


def loads_something(payload: str) -> bool:
    """Whether the payload, were it markup, would run only after a request of its own (so wait for the network)."""
    return any(tag in payload for tag in ("<img", "<iframe", "<link", "<style", "<svg", "<math"))


def expand_every_row(page, watch: Watch, where: str) -> None:
    # The lazy result count and run counts may still be under way or about to start: click rows after them.
    page.wait_for_load_state("networkidle")
    watch.settle()
    for button in page.locator("#results button[data-expand]").all():
        button.click()
    watch.settle()
    # Fifty previews at once, each a request of its own: on a loaded 2-core machine they take a while.
    expect(page.locator("#results .preview .muted", has_text="Loading…")).to_have_count(0, timeout=30_000)
    watch.assert_clean(f"{where}, every row expanded", idle=True)


def test_list_and_user_pages_with_every_payload(admin_page, live_server, corpus):
    watch = Watch(admin_page)
    for page_number in (1, 2):
        admin_page.goto(f"{live_server.url}/sessions/?page={page_number}")
        expand_every_row(admin_page, watch, f"list page {page_number}")
    admin_page.locator("#filters input[name=agent_id]").focus()  # loads the filter choices
    watch.assert_clean("filter choices")
    for payload, sessions in zip(PAYLOADS, corpus, strict=True):
        query = {"q": payload, "user_id": payload, "sort": payload, "created_after": payload, "page": payload}
        admin_page.goto(f"{live_server.url}/sessions/?{urlencode(query)}")
        watch.assert_clean(f"list with the payload in its parameters: {payload!r}")
        admin_page.goto(live_server.url + reverse("sessions_ui:user", args=[sessions[0].row["user_id"]]))
        expand_every_row(admin_page, watch, f"user page of {payload!r}")


def test_detail_runs_edit_form_and_delete_dialog_with_every_payload(admin_page, live_server, corpus):
    watch = Watch(admin_page)
    for payload, sessions in zip(PAYLOADS, corpus, strict=True):
        for session in sessions:
            where = f"{session.row['session_type']} session of {payload!r}"
            admin_page.goto(live_server.url + reverse("sessions_ui:detail", args=[session.row["session_id"]]))
            for summary in admin_page.locator("details.run > summary").all():
                summary.click()
            watch.settle()
            expect(admin_page.locator("details.run .run-body > .loading")).to_have_count(0, timeout=30_000)
            admin_page.evaluate(
                "() => document.querySelectorAll('details:not(.run)').forEach((d) => { d.open = true; })"
            )
            watch.assert_clean(f"{where}, every run, panel and raw JSON open", idle=loads_something(payload))
        admin_page.get_by_role("link", name="Edit").click()
        expect(admin_page.locator("#session-edit")).to_be_visible()
        watch.assert_clean(f"edit form of {payload!r}")
        admin_page.locator("#session-actions").get_by_role("button", name="Delete").click()
        expect(admin_page.locator("#confirm-dialog")).to_be_visible()
        watch.assert_clean(f"delete dialog of {payload!r}")


def test_audit_page_and_messages_with_every_payload(admin_page, live_server, corpus):
    watch = Watch(admin_page)
    admin = User.objects.get(username="admin")
    for payload, sessions in zip(PAYLOADS, corpus, strict=True):
        log(admin, [(session.row["session_id"], payload) for session in sessions], CHANGE, f"Changed {payload}.")
    admin_page.goto(f"{live_server.url}{reverse('sessions_ui:audit')}")
    watch.assert_clean("audit page")
    for payload in PAYLOADS[:5]:
        admin_page.goto(f"{live_server.url}{reverse('sessions_ui:audit')}?{urlencode({'session': payload})}")
        watch.assert_clean(f"audit filtered by {payload!r}")
    # A delete's message names the session: shown on the list it returns to.
    session = corpus[0][0]
    admin_page.goto(live_server.url + reverse("sessions_ui:detail", args=[session.row["session_id"]]))
    admin_page.locator("#session-actions").get_by_role("button", name="Delete").click()
    admin_page.locator("#confirm-dialog").get_by_role("button", name="Delete session").click()
    expect(admin_page.locator(".message.success")).to_contain_text("Deleted session")
    watch.assert_clean("list after a delete")
