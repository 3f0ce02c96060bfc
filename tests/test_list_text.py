"""The search in conversations (issue 15): `text=` over Agno 3.x's runs table, bounded to the newest sessions."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache

from sessions_ui import filters, listing
from tests.factories import create_session, make_agent_run

pytestmark = pytest.mark.django_db

NOW = int(time.time())


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def ids(response) -> list[str]:
    return [row.session.session_id for row in response.context["page"].rows]


@pytest.fixture
def conversations(db):
    create_session(
        session_id="refund",
        created_at=NOW - 300,
        runs=[make_agent_run("refund", run_id="run-refund", question="What is the Refund policy?")],
    )
    create_session(
        session_id="weather",
        created_at=NOW - 200,
        runs=[make_agent_run("weather", run_id="run-weather", question="Rain in Lisbon?")],
    )
    create_session(session_id="empty", created_at=NOW - 100, session_data={"session_name": "refund in the name only"})
    create_session(
        session_id="old-refund",
        created_at=NOW - 100,
        runs=[make_agent_run("old-refund", run_id="run-old-refund", question="refund please")],
        layout="2",
    )


def test_text_finds_the_sessions_whose_runs_contain_the_words_in_any_case(viewer_client, conversations):
    response = viewer_client.get("/sessions/", {"text": "REFUND POLICY"})
    assert ids(response) == ["refund"]
    assert [(chip.label, chip.value) for chip in response.context["chips"]] == [("in conversations", "REFUND POLICY")]
    notices = " ".join(response.context["notices"])
    assert "Searched the runs of every session" in notices
    assert "not the runs stored inline by Agno 2.x" in notices


def test_text_combines_with_the_other_filters(viewer_client, conversations):
    assert ids(viewer_client.get("/sessions/", {"text": "refund", "q": "weather"})) == []
    assert ids(viewer_client.get("/sessions/", {"text": "lisbon", "q": "weather"})) == ["weather"]


@pytest.mark.parametrize("words", ["' OR 1=1 --", "%", "_", '"role"x', "a\\b", "(?i).*", "the"])
def test_text_with_operators_and_sql_never_fails(viewer_client, conversations, words):
    response = viewer_client.get("/sessions/", {"text": words})
    assert response.status_code == 200
    assert "empty" not in ids(response)  # a session without runs never matches
    # Wildcards are escaped: "%" is a percent sign, which none of these runs holds.
    assert words != "%" or ids(response) == []


def test_text_too_long_or_with_nul_is_a_notice_and_ignored(viewer_client, conversations):
    for words in ("x" * 10_000, "a\x00b"):
        response = viewer_client.get("/sessions/", {"text": words})
        assert response.status_code == 200
        assert len(ids(response)) == 4
        assert any("is ignored" in notice for notice in response.context["notices"])


def test_text_reads_only_the_newest_window_and_says_so(viewer_client, conversations, monkeypatch):
    monkeypatch.setattr(filters, "TEXT_WINDOW", 2)
    monkeypatch.setattr(listing, "TEXT_WINDOW", 2)
    response = viewer_client.get("/sessions/", {"text": "refund"})
    assert ids(response) == []  # "refund" is the oldest: outside the 2 newest sessions
    assert any("the runs of the 2 newest sessions" in notice for notice in response.context["notices"])
    days_ago = NOW - 3 * 86400
    create_session(
        session_id="ancient",
        created_at=days_ago,
        runs=[make_agent_run("ancient", run_id="run-ancient", question="refund?")],
    )
    create_session(session_id="ancient2", created_at=days_ago - 86400)
    assert ids(viewer_client.get("/sessions/", {"text": "refund"})) == []
    until = time.strftime("%Y-%m-%d", time.localtime(days_ago + 86400))
    older = viewer_client.get("/sessions/", {"text": "refund", "created_before": until})
    assert ids(older) == ["ancient"]
    assert any("created by the end of the date range" in notice for notice in older.context["notices"])


def test_without_a_runs_table_text_is_ignored_and_said_so(viewer_client, conversations, monkeypatch):
    monkeypatch.setattr(listing, "has_runs_table", lambda: False)
    response = viewer_client.get("/sessions/", {"text": "refund"})
    assert len(ids(response)) == 4
    assert response.context["chips"] == []
    assert any("search in conversations is ignored" in notice for notice in response.context["notices"])


def test_the_export_and_the_form_carry_text(viewer_client, conversations):
    html = viewer_client.get("/sessions/", {"text": "refund"}).content.decode()
    assert 'name="text" value="refund"' in html
    exported = b"".join(viewer_client.get("/sessions/export.csv", {"text": "refund"}).streaming_content).decode()
    assert [line.split(",")[0] for line in exported.splitlines()[1:]] == ["refund"]


def test_the_overview_takes_the_new_filters_too(viewer_client, conversations):
    response = viewer_client.get("/overview/", {"text": "refund", "status": "completed", "model": "gpt-4o"})
    assert response.status_code == 200
    fragment = viewer_client.get("/overview/", {"text": "refund", "status": "error"}, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
