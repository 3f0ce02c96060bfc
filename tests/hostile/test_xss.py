"""XSS: a payload in every displayed field (and in every parameter and form field) never becomes markup.

Each page and fragment is parsed (tests/hostile/support.py: MarkupCheck): no element, event handler,
htmx attribute or script URL that only injected markup would produce, no payload verbatim. The
browser suite (tests/browser/test_xss_browser.py) opens the same sessions in chromium.
"""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from sessions_ui import queries
from sessions_ui.models import AgnoSession
from tests.factories import create_session
from tests.hostile.support import (
    BULK_DELETE_URL,
    HTMX,
    LIST_URL,
    NOW,
    Pages,
    assert_escaped,
    markup_problems,
    read_pages,
)
from tests.hostile.xss import PAYLOADS, write_xss_sessions

pytestmark = pytest.mark.django_db

PAYLOAD_IDS = [f"payload-{index}" for index in range(len(PAYLOADS))]


def test_the_check_finds_injected_markup():
    """The checker itself: what it must flag, and our own markup it must let through."""
    for html in (
        "<script>window.__xss=1</script>",
        '<img src=x onerror="window.__xss=2">',
        '<svg onload="x">',
        '<a href=" jAvAsCrIpT:window.__xss=3">x</a>',
        '<a href="&#106;avascript:x">x</a>',
        '<div hx-get="/x" hx-trigger="load">',
        '<div hx-on::load="window.__xss=1">',
        '<iframe srcdoc="x"></iframe>',
        '<script src="https://evil.example/x.js"></script>',
        '<form action="javascript:x">',
    ):
        assert markup_problems(html), html
    ours = (
        '<script src="/static/js/app.js" defer></script><div hx-get="/sessions/" hx-target="#results">'
        '<button type="button" data-dismiss="dialog">Cancel</button><a href="/sessions/?q=xss">x</a>'
        '<p title="&lt;script&gt;window.__xss=1">&lt;script&gt;window.__xss=1&lt;/script&gt;</p></div>'
    )
    assert markup_problems(ours) == []


def test_the_check_lets_only_the_result_count_request_on_load():
    count = (
        '<span id="result-count" hx-get="/sessions/?user_id=x" hx-trigger="load" hx-target="this"'
        ' hx-swap="outerHTML" hx-push-url="false" title="Counting…">2+ sessions</span>'
    )
    pager = '<nav class="pager" id="pager" hx-target="#results" hx-swap="outerHTML" hx-swap-oob="true"></nav>'
    assert markup_problems(count + pager) == []
    for html in (
        count.replace('id="result-count"', 'id="other"'),
        count.replace('id="result-count" ', ""),
        count.replace("<span", "<div"),
        count.replace('hx-trigger="load"', 'hx-trigger="revealed"'),
        count.replace('hx-trigger="load"', 'hx-trigger="load, every 1s"'),
    ):
        assert markup_problems(html), html


def test_the_pending_count_and_the_count_fragment_pass_the_check(admin_client, monkeypatch):
    """The list's real markup: a count left pending (a filtered list past its first page), and the count
    fragment with the pager it swaps in out of band."""
    monkeypatch.setattr(queries.pages, "LIST_PAGE_SIZE", 2)
    for index in range(3):
        create_session(session_id=f"s{index}", user_id="ada@example.com", created_at=NOW - index)
    page = admin_client.get(LIST_URL, {"user_id": "ada@example.com"})
    assert 'id="result-count"' in page.text and 'hx-trigger="load"' in page.text
    counted = admin_client.get(
        LIST_URL, {"user_id": "ada@example.com"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="result-count"
    )
    assert 'hx-swap-oob="true"' in counted.text
    assert_escaped([("pending count", page), ("count fragment", counted)], [])


def editing_with(client, session_id: str, payload: str) -> Pages:
    """The payload typed into every field of the edit form: saved, refused as invalid, refused as stale."""
    url = reverse("sessions_ui:edit", args=[session_id])
    updated_at = str(AgnoSession.objects.get(pk=session_id).updated_at)
    typed = {
        "session_name": payload,
        "session_state": json.dumps({payload: payload}),
        "metadata": json.dumps({payload: [payload]}),
        "summary_text": payload,
        "summary_topics": f"{payload}\n{payload}",
        "updated_at": updated_at,
    }
    pages: Pages = [("edit saved", client.post(url, typed))]
    pages.append(("detail after the edit (message)", client.get(reverse("sessions_ui:detail", args=[session_id]))))
    invalid = {**typed, "session_state": payload, "metadata": payload, "summary": payload, "updated_at": updated_at}
    invalid["summary_text"] = invalid.pop("summary_topics")
    for htmx in (False, True):
        current = str(AgnoSession.objects.get(pk=session_id).updated_at)
        pages.append(("edit invalid", client.post(url, {**invalid, "updated_at": current}, **(HTMX if htmx else {}))))
        pages.append(("edit stale", client.post(url, {**typed, "session_name": f"{payload}!", "updated_at": "1"})))
    pages.append(("edit bad updated_at", client.post(url, {**typed, "updated_at": payload}, **HTMX)))
    return pages


def parameters_with(client, payload: str) -> Pages:
    """The payload in every query parameter of the list, the user page and the audit page."""
    every = dict.fromkeys(
        ["q", "type", "agent_id", "team_id", "workflow_id", "user_id", "sort", "page", "created_after", "live"],
        payload,
    )
    pages: Pages = []
    for name in every:
        pages.append((f"list ?{name}=", client.get(LIST_URL, {name: payload})))
    pages.append(("list, every parameter", client.get(LIST_URL, every)))
    pages.append(("list fragment, every parameter", client.get(LIST_URL, every, **HTMX)))
    pages.append(("list, filters that match", client.get(LIST_URL, {"q": payload[:20], "sort": "-updated_at"})))
    user_url = reverse("sessions_ui:user", args=[f"{payload} user"])
    pages.append(("user page with parameters", client.get(user_url, {**every, "user_id": "x"})))
    audit = reverse("sessions_ui:audit")
    pages.append(("audit with parameters", client.get(audit, {"session": payload, "action": payload, "page": payload})))
    pages.append(("audit fragment", client.get(audit, {"session": payload}, **HTMX)))
    missing = reverse("sessions_ui:detail", args=[f"{payload} missing"])
    pages.append(("404 page", client.get(missing)))
    return pages


def deleting(client, session_ids: list[str], payload: str) -> Pages:
    pages: Pages = [
        ("bulk confirmation", client.post(BULK_DELETE_URL, {"session_ids": [*session_ids, payload]})),
        (
            "bulk confirmation fragment",
            client.post(BULK_DELETE_URL, {"session_ids": session_ids, "q": payload}, **HTMX),
        ),
        ("bulk all matching", client.post(BULK_DELETE_URL, {"all_matching": "1", "q": payload[:30]}, **HTMX)),
        ("bulk invalid", client.post(BULK_DELETE_URL, {"all_matching": "1", "created_after": payload}, **HTMX)),
        ("bulk none", client.post(BULK_DELETE_URL, {"session_ids": [f"{payload} gone"]})),
        ("list (message)", client.get(LIST_URL)),
    ]
    delete_url = reverse("sessions_ui:delete", args=[session_ids[0]])
    pages.append(("delete with list filters", client.post(delete_url, {"q": payload, "user_id": payload}, **HTMX)))
    pages.append(("delete", client.post(delete_url, {"confirm": "yes", "q": payload})))
    pages.append(("list after delete (message)", client.get(LIST_URL, {"q": payload})))
    pages.append(("delete again (gone)", client.post(delete_url, {"confirm": "yes"})))
    pages.append(("edit gone", client.get(reverse("sessions_ui:edit", args=[session_ids[0]]))))
    pages.append(("list (gone message)", client.get(LIST_URL)))
    for session_id in session_ids[1:]:
        pages.append(("delete", client.post(reverse("sessions_ui:delete", args=[session_id]), {"confirm": "yes"})))
    pages.append(("audit (names and changes)", client.get(reverse("sessions_ui:audit"))))
    pages.append(("admin log", client.get(reverse("admin:admin_logentry_changelist"))))
    return pages


@pytest.mark.parametrize("payload", PAYLOADS, ids=PAYLOAD_IDS)
def test_payload_in_every_field_is_escaped_on_every_page(admin_client, payload):
    sessions = write_xss_sessions(payload)
    pages: Pages = [
        ("list", admin_client.get(LIST_URL)),
        ("list fragment", admin_client.get(LIST_URL, **HTMX)),
        ("filter choices", admin_client.get(LIST_URL, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="filter-choices")),
        ("admin list", admin_client.get(reverse("admin:sessions_ui_agnosession_changelist"))),
    ]
    if AgnoSession.objects.filter(pk__in=[s.row["session_id"] for s in sessions]).count() != 3:
        pytest.fail("the sessions were not written")
    for session in sessions:
        pages += read_pages(admin_client, session.row["session_id"], user_id=session.row["user_id"])
        for run in session.runs:
            url = reverse("sessions_ui:run", args=[session.row["session_id"], run["run_id"]])
            pages.append((f"run fragment {run['run_id']}", admin_client.get(url, **HTMX)))
    detail = reverse("sessions_ui:detail", args=[sessions[0].row["session_id"]])
    pages.append(("detail ?run= and ?page=", admin_client.get(detail, {"run": payload, "page": payload})))
    pages += editing_with(admin_client, sessions[0].row["session_id"], payload)
    pages += parameters_with(admin_client, payload)
    pages += deleting(admin_client, [session.row["session_id"] for session in sessions], payload)
    assert_escaped(pages, [payload])
    assert not AgnoSession.objects.exists()


def test_every_run_fragment_was_reached(admin_client):
    """The crawl in read_pages follows the runs' own links: each stored run's fragment is among them."""
    sessions = write_xss_sessions(PAYLOADS[0])
    pages = dict(read_pages(admin_client, sessions[1].row["session_id"]))
    fragments = " ".join(label for label in pages if label.startswith("detail fragment"))
    assert fragments.count("/runs/") >= 2
