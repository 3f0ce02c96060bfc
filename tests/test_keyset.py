"""Keyset pages (issue 13): Next and Previous continue from the page's last and first rows, so a page
deep in the list costs what the first costs, and a session arriving meanwhile shifts nothing."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sessions_ui import queries
from tests.factories import create_session
from tests.test_list import shown

pytestmark = pytest.mark.django_db

IDS = ["a&b=c", "slash/../x", "ü space", "%41", "zz", "plain", "quote\"'", "y" * 300]


@pytest.fixture
def tied(monkeypatch):
    """17 sessions, four pages of 5, with ids that need quoting and created_at ties across page ends."""
    monkeypatch.setattr(queries.pages, "LIST_PAGE_SIZE", 5)
    ids = [f"{name}-{index}" for index, name in enumerate(IDS * 3)][:17]
    for index, session_id in enumerate(ids):
        create_session(session_id=session_id, created_at=1_000 + index // 3, user_id="ada" if index % 2 else "bob")
    return ids


def expected_order(ids: list[str], sort: str) -> list[str]:
    created = {session_id: 1_000 + index // 3 for index, session_id in enumerate(ids)}
    newest_first = sort.startswith("-")
    return sorted(
        ids, key=lambda session_id: (-created[session_id] if newest_first else created[session_id], session_id)
    )


def link(html: str, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]*)" hx-get="[^"]*" rel="{rel}">', html)
    return unescape(found.group(1)) if found else None


@pytest.mark.parametrize("sort", ["-created_at", "created_at"])
def test_next_walks_every_row_once_and_previous_walks_back(admin_client, tied, sort):
    url, seen, pages = f"/sessions/?sort={sort}", [], []
    while url:
        with CaptureQueriesContext(connection) as captured:
            response = admin_client.get(url if url.startswith("/") else f"/sessions/{url}")
        if pages:  # a page after another: entered at its place, no OFFSET
            assert "OFFSET" not in " ".join(q["sql"] for q in captured.captured_queries)
            assert "after=" in url
        pages.append(shown(response))
        seen += pages[-1]
        url = link(response.text, "next")
    assert seen == expected_order(tied, sort)
    assert [len(page) for page in pages] == [5, 5, 5, 2]
    assert response.context["page"].number == 4 and "Page 4" in response.text

    back = []
    url = link(response.text, "prev")
    while url:
        response = admin_client.get(f"/sessions/{url}")
        back.append(shown(response))
        url = link(response.text, "prev")
    assert back == pages[-2::-1]
    assert "before=" not in response.request["QUERY_STRING"]  # page 1 is the plain first page


def test_a_session_arriving_meanwhile_shifts_nothing(admin_client, tied):
    first = admin_client.get("/sessions/")
    create_session(session_id="newcomer", created_at=9_999)
    second = admin_client.get(f"/sessions/{link(first.text, 'next')}")
    assert shown(second) == expected_order(tied, "-created_at")[5:10]  # no row of page 1 again


def test_filters_are_kept_and_the_count_still_comes_after(admin_client, tied):
    first = admin_client.get("/sessions/?user_id=ada")
    url = link(first.text, "next")
    assert "user_id=ada" in url and "after=" in url
    second = admin_client.get(f"/sessions/{url}")
    expected = [s for s in expected_order(tied, "-created_at") if tied.index(s) % 2][5:]
    assert shown(second) == expected
    assert second.context["page"].total_is == "exact"  # the last page tells


@pytest.mark.parametrize("query", ["sort=-updated_at", "q=a", "sort=updated_at"])
def test_orders_without_a_place_keep_numbered_pages(admin_client, tied, query):
    response = admin_client.get(f"/sessions/?{query}")
    assert "after=" not in (link(response.text, "next") or "")
    assert "page=2" in link(response.text, "next")


@pytest.mark.parametrize("token", ["nonsense", "12", ":x", "1.5:x", "1:\x00"])
def test_a_place_that_is_not_one_is_ignored_with_a_notice(admin_client, tied, token):
    response = admin_client.get("/sessions/", {"page": "2", "after": token})
    assert response.status_code == 200
    assert "is not a place in the list: showing page 2." in response.text
    assert shown(response) == expected_order(tied, "-created_at")[5:10]


def test_a_place_past_the_end_falls_back_to_the_numbered_page(admin_client, tied):
    response = admin_client.get("/sessions/", {"page": "2", "after": "1:zzzz"})  # older than every row
    assert shown(response) == expected_order(tied, "-created_at")[5:10]


def test_filter_sort_and_chip_links_drop_the_place(admin_client, tied):
    second = admin_client.get(f"/sessions/{link(admin_client.get('/sessions/?user_id=ada').text, 'next')}")
    chips_and_sorts = re.findall(
        r'class="(?:chip-remove|clear)" href="([^"]*)"|<th[^>]*sortable[^>]*>\s*<a href="([^"]*)"', second.text
    )
    hrefs = [unescape(a or b) for a, b in chips_and_sorts]
    assert hrefs and all("after=" not in href and "page=" not in href for href in hrefs)
