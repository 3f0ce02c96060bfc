"""The list never parses a big runs blob (issue 13): small inline runs are counted with the page, big
ones once (after the rows are shown, by the run-counts fragment) and kept per version of the row."""

from __future__ import annotations

import re
import secrets
import time

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sessions_ui.models import AgnoSession, InlineRunStats
from sessions_ui.queries.list_runs import COUNTED_WITH_THE_PAGE
from sessions_ui.schema import agno_connection, quoted_table
from sessions_ui.templatetags.sessions_list import row_key
from tests.factories import create_session, make_agent_run

pytestmark = pytest.mark.django_db

NOW = int(time.time())
RUN_COUNTS = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "run-counts"}
PARSING = ("json_each", "jsonb_array_elements", "json_array_length", "jsonb_array_length", "jsonb_path")


@pytest.fixture(autouse=True)
def _no_cache():
    cache.clear()
    yield
    cache.clear()


def big_runs(session_id: str, count: int = 120) -> list[dict]:
    """Runs stored in more than COUNTED_WITH_THE_PAGE bytes, also compressed (random text)."""
    return [
        make_agent_run(session_id, question=secrets.token_hex(600), created_at=NOW - 1000 + i, seed=i)
        for i in range(count)
    ]


def stored_size(session_id: str) -> int:
    function = "pg_column_size" if connection.vendor == "postgresql" else "length"
    with agno_connection().cursor() as cursor:
        cursor.execute(f"SELECT {function}(runs) FROM {quoted_table('agno_sessions')} WHERE session_id = %s", [session_id])
        return cursor.fetchone()[0]


def parsing_queries(captured, session_id: str) -> list[str]:
    """The captured queries that parse JSON and name `session_id`."""
    return [q["sql"] for q in captured.captured_queries if session_id in q["sql"] and any(f in q["sql"] for f in PARSING)]


def runs_cell(html: str, session_id: str) -> str:
    match = re.search(rf'<span id="runs-{row_key(session_id)}"[^>]*>(.*?)</span>', html, re.S)
    assert match, f"no runs cell for {session_id}"
    return match.group(1)


@pytest.fixture
def busy():
    """A big unnamed 2.x session among the newest, and a small named one."""
    create_session(session_id="big", session_data={}, runs=big_runs("big"), layout="2", created_at=NOW, updated_at=NOW)
    create_session(
        session_id="small",
        session_data={"session_name": "Small one"},
        runs=[make_agent_run("small", created_at=NOW - 50)],
        layout="2",
        created_at=NOW - 10,
    )
    assert stored_size("big") > COUNTED_WITH_THE_PAGE > stored_size("small")


def test_a_big_inline_session_is_pending_on_the_page_and_its_blob_is_not_parsed(admin_client, busy):
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get("/sessions/")
    rows = {row.session.session_id: row for row in response.context["page"].rows}
    assert (rows["small"].runs, rows["small"].runs_pending) == (1, False)  # counted with the page
    assert (rows["big"].runs, rows["big"].runs_pending) == (None, True)
    assert parsing_queries(captured, "big") == []
    assert parsing_queries(captured, "small")  # the small one was counted in SQL
    assert "…" in runs_cell(response.text, "big")
    assert 'id="run-counts"' in response.text and 'hx-get="/sessions/"' in response.text
    assert not InlineRunStats.objects.exists()  # nothing is written while the page renders


def test_the_run_counts_fragment_counts_keeps_and_names_the_pending_rows(admin_client, busy):
    response = admin_client.get("/sessions/", **RUN_COUNTS)
    assert response.status_code == 200
    assert runs_cell(response.text, "big") == "120"
    assert 'hx-swap-oob="true"' in response.text
    # Unnamed: its name link is swapped for its first input; the small one is not in the answer.
    name = re.search(rf'<a id="name-{row_key("big")}" hx-swap-oob="true"[^>]*>(.*?)</a>', response.text, re.S)
    assert name and re.fullmatch(r"[0-9a-f]{100,}…", name.group(1)), response.text[:600]
    assert f"runs-{row_key('small')}" not in response.text
    kept = InlineRunStats.objects.get(session_id="big")
    assert (kept.runs, kept.updated_at) == (120, NOW)

    with CaptureQueriesContext(connection) as captured:
        again = admin_client.get("/sessions/")
    big = next(row for row in again.context["page"].rows if row.session.session_id == "big")
    assert (big.runs, big.runs_pending) == (120, False)
    assert parsing_queries(captured, "big") == []
    assert 'id="run-counts"' not in again.text
    assert len(big.session.name) == 1200  # the kept first input names it


def test_a_session_agno_rewrites_is_counted_again(admin_client, busy):
    admin_client.get("/sessions/", **RUN_COUNTS)
    AgnoSession.objects.filter(pk="big").delete()
    create_session(session_id="big", session_data={}, runs=big_runs("big", 130), layout="2", created_at=NOW, updated_at=NOW + 5)
    row = next(row for row in admin_client.get("/sessions/").context["page"].rows if row.session.session_id == "big")
    assert row.runs_pending
    assert runs_cell(admin_client.get("/sessions/", **RUN_COUNTS).text, "big") == "130"
    assert InlineRunStats.objects.get(session_id="big").updated_at == NOW + 5


@pytest.mark.sqlite  # PostgreSQL's json column refuses such text
def test_big_runs_that_are_not_json_count_as_unreadable(admin_client):
    create_session(session_id="broken", runs=[], layout="2", created_at=NOW)
    with agno_connection().cursor() as cursor:
        garbage = '[{"run_id": "x", "content": "' + secrets.token_hex(COUNTED_WITH_THE_PAGE)  # unterminated
        cursor.execute(f"UPDATE {quoted_table('agno_sessions')} SET runs = %s WHERE session_id = 'broken'", [garbage])
    response = admin_client.get("/sessions/", **RUN_COUNTS)
    assert "could not be read" in runs_cell(response.text, "broken")
    assert InlineRunStats.objects.get(session_id="broken").runs is None


def test_the_user_page_fills_its_pending_rows_too(admin_client):
    create_session(session_id="big", user_id="ada", runs=big_runs("big"), layout="2", created_at=NOW)
    page = admin_client.get("/sessions/users/ada/")
    assert 'hx-get="/sessions/users/ada/"' in page.text
    assert runs_cell(admin_client.get("/sessions/users/ada/", **RUN_COUNTS).text, "big") == "120"
