"""The list's run status and model filters (issue 15): `status=` from Agno 3.x's runs table, `model=` from the
component's config; chips, notices, the export and both run layouts."""

from __future__ import annotations

import re
import time
from html import unescape

import pytest
from django.core.cache import cache
from django.test.utils import CaptureQueriesContext

from sessions_ui import listing
from sessions_ui.schema import agno_connection
from tests.factories import create_session, make_agent_run

pytestmark = pytest.mark.django_db

NOW = int(time.time())
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "results"}


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def _ids(response) -> list[str]:
    return [row.session.session_id for row in response.context["page"].rows]


def run(session_id: str, status: str, seed: int, **overrides) -> dict:
    return make_agent_run(session_id, seed=seed, run_id=f"{session_id}-{seed}", status=status, **overrides)


@pytest.fixture
def runs_table(db):
    """Sessions whose runs are in Agno 3.x's runs table, in several states."""
    create_session(session_id="ok", created_at=NOW - 400, runs=[run("ok", "COMPLETED", 1)])
    create_session(
        session_id="failed", created_at=NOW - 300, runs=[run("failed", "COMPLETED", 1), run("failed", "ERROR", 2)]
    )
    create_session(session_id="waiting", created_at=NOW - 200, runs=[run("waiting", "PAUSED", 1)])
    create_session(session_id="norun", created_at=NOW - 100)


@pytest.mark.parametrize(
    "status, expected",
    [("error", ["failed"]), ("completed", ["failed", "ok"]), ("paused", ["waiting"]), ("cancelled", [])],
)
def test_status_lists_exactly_the_sessions_with_a_run_in_that_state(viewer_client, runs_table, status, expected):
    response = viewer_client.get("/sessions/", {"status": status})
    assert _ids(response) == expected
    chips = [(chip.label, chip.value) for chip in response.context["chips"]]
    assert chips == [("run status", status)]


def test_status_combines_with_the_other_filters_and_reads_no_run_blob(viewer_client, runs_table):
    create_session(session_id="failed-bob", user_id="bob@example.com", runs=[run("failed-bob", "ERROR", 1)])
    with CaptureQueriesContext(agno_connection()) as queries:
        response = viewer_client.get("/sessions/", {"status": "error", "user_id": "bob@example.com"})
    assert [row.session.session_id for row in response.context["page"].rows] == ["failed-bob"]
    sql = " ".join(query["sql"] for query in queries.captured_queries)
    assert "EXISTS" in sql.upper()
    # The size column asks for the runs' stored size (PostgreSQL reads it without detoasting), not their JSON.
    assert "run_data" not in re.sub(r'(length|pg_column_size)\((?:"[^"]+"\.)+"run_data"\)', "", sql)


def test_a_status_that_is_no_run_state_is_a_notice_and_ignored(viewer_client, runs_table):
    response = viewer_client.get("/sessions/", {"status": "ERROR'; DROP TABLE x"})
    assert response.status_code == 200
    assert len(_ids(response)) == 4
    assert any("is not a run status" in notice for notice in response.context["notices"])
    assert response.context["chips"] == []


def test_the_status_filter_says_it_does_not_read_inline_runs(viewer_client, db):
    # Agno 2.x keeps this errored run inline: the filter reads the runs table only, and says so.
    create_session(session_id="inline-failed", runs=[run("inline-failed", "ERROR", 1)], layout="2")
    response = viewer_client.get("/sessions/", {"status": "error"})
    assert _ids(response) == []
    assert any("runs stored inline by Agno 2.x are not looked at" in notice for notice in response.context["notices"])


def test_without_a_runs_table_the_status_filter_is_ignored_and_said_so(viewer_client, runs_table, monkeypatch):
    monkeypatch.setattr(listing, "has_runs_table", lambda: False)
    response = viewer_client.get("/sessions/", {"status": "error"})
    assert len(_ids(response)) == 4
    assert response.context["chips"] == []
    assert any("this database has none" in notice for notice in response.context["notices"])


def test_the_status_filter_is_in_the_form_the_links_and_the_export(viewer_client, runs_table):
    html = unescape(viewer_client.get("/sessions/", {"status": "error"}).content.decode())
    assert '<option value="error" selected>' in html
    assert 'href="/sessions/export.csv?status=error"' in html
    exported = b"".join(viewer_client.get("/sessions/export.csv", {"status": "error"}).streaming_content).decode()
    assert [line.split(",")[0] for line in exported.splitlines()[1:]] == ["failed"]
    assert viewer_client.get("/sessions/export.csv", {"status": "broken"}).status_code == 400


@pytest.fixture
def models(db):
    create_session(session_id="gpt", created_at=NOW - 300)  # the factory's agent runs on gpt-4o
    create_session(
        session_id="claude",
        created_at=NOW - 200,
        agent_data={"name": "Writer", "model": {"id": "claude-sonnet", "provider": "Anthropic"}},
    )
    create_session(
        session_id="team",
        created_at=NOW - 100,
        session_type="team",
        agent_id=None,
        team_id="crew",
        team_data={"name": "Crew", "model": {"id": "claude-sonnet"}},
    )
    create_session(session_id="plain", created_at=NOW - 50, agent_data={"name": "Old", "model": "gpt-3.5"})


@pytest.mark.parametrize("run_layout", ["2", "3"])
def test_model_lists_the_sessions_whose_component_uses_it(viewer_client, db, run_layout):
    create_session(session_id="gpt", created_at=NOW - 300, layout=run_layout)
    create_session(
        session_id="claude",
        created_at=NOW - 200,
        agent_data={"name": "W", "model": {"id": "claude-sonnet"}},
        layout=run_layout,
    )
    create_session(
        session_id="plain", created_at=NOW - 50, agent_data={"name": "Old", "model": "gpt-3.5"}, layout=run_layout
    )
    assert _ids(viewer_client.get("/sessions/", {"model": "claude-sonnet"})) == ["claude"]
    assert _ids(viewer_client.get("/sessions/", {"model": "gpt-4o"})) == ["gpt"]
    assert _ids(viewer_client.get("/sessions/", {"model": "gpt-3.5"})) == ["plain"]  # a model stored as a string
    assert _ids(viewer_client.get("/sessions/", {"model": "gpt"})) == []  # exactly, not a substring


def test_model_reads_the_team_config_of_a_team_and_shows_a_chip(viewer_client, models):
    response = viewer_client.get("/sessions/", {"model": "claude-sonnet"})
    assert _ids(response) == ["team", "claude"]
    assert [(chip.label, chip.value) for chip in response.context["chips"]] == [("model", "claude-sonnet")]


def test_model_with_sql_and_quotes_matches_nothing_and_never_fails(viewer_client, models):
    for value in ("' OR 1=1 --", '"model"', "%", "x" * 10_000):
        response = viewer_client.get("/sessions/", {"model": value})
        assert response.status_code == 200
        assert _ids(response) == []


def test_status_and_model_combine(viewer_client, db):
    create_session(session_id="a", runs=[run("a", "ERROR", 1)])
    create_session(session_id="b", runs=[run("b", "ERROR", 1)], agent_data={"name": "W", "model": {"id": "other"}})
    assert _ids(viewer_client.get("/sessions/", {"status": "error", "model": "other"})) == ["b"]


def test_model_choices_come_from_the_components(admin_client, models):
    response = admin_client.get("/sessions/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="filter-choices")
    html = response.content.decode()
    assert 'id="choices-model"' in html
    assert '<option value="claude-sonnet" label="2 sessions">' in html


def test_a_bulk_delete_by_status_without_a_runs_table_deletes_nothing(admin_client, runs_table, monkeypatch):
    from sessions_ui import filters
    from sessions_ui.models import AgnoSession

    monkeypatch.setattr(filters, "has_runs_table", lambda: False)
    response = admin_client.post("/sessions/delete/", {"all_matching": "1", "status": "error", "confirm": "yes"})
    assert response.status_code in (200, 302)
    assert AgnoSession.objects.count() == 4


def test_a_bulk_delete_by_status_deletes_exactly_the_matching_sessions(admin_client, runs_table):
    from sessions_ui.models import AgnoSession

    confirmation = admin_client.post("/sessions/delete/", {"all_matching": "1", "status": "error"})
    assert confirmation.status_code == 200
    assert AgnoSession.objects.count() == 4
    form = unescape(confirmation.content.decode()).split('class="form-actions"')[1]
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form):
        fields.setdefault(name, []).append(value)
    assert fields["status"] == ["error"] and fields["expected"] == ["1"]
    admin_client.post("/sessions/delete/", fields)
    assert sorted(AgnoSession.objects.values_list("pk", flat=True)) == ["norun", "ok", "waiting"]
