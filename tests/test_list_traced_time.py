"""The list's "Traced time" column and its sorts (sort=-duration, sort=duration), where Agno's tracing is on:
the sum of a session's traces' duration_ms, read for the page's sessions in one grouped query."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape

import pytest
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sessions_ui import queries
from sessions_ui.schema import agno_connection
from sessions_ui.sources import current_source
from tests.factories import create_session, make_agent_run
from tests.traces_elsewhere import (
    TRACES_ALIAS,
    add_trace,
    create_trace_tables,
    database_added,
    down_database,
    drop_trace_tables,
    second_database,
    traces_read_from,
)

LIST = reverse("sessions_ui:list")
HEADER = "Traced time"


def make_sessions(connection, schema: str) -> None:
    """long (2 traces: 3 s), short (0.5 s), plain (no trace); created in that order, plain the newest."""
    for index, (session_id, durations) in enumerate([("long", [1000, 2000]), ("short", [500]), ("plain", [])]):
        runs = [make_agent_run(session_id, seed=index * 10 + seed) for seed in range(max(len(durations), 1))]
        create_session(session_id=session_id, runs=runs, layout="3", created_at=1_700_000_000 + index)
        for run, duration in zip(runs, durations, strict=False):
            add_trace(connection, schema, session_id, run["run_id"], duration)


def listed(html: str) -> list[str]:
    return re.findall(r'<input type="checkbox" name="session_ids" value="([^"]+)"', html)


def traced_cells(html: str) -> list[str]:
    return [
        unescape(re.sub(r"<[^>]+>", "", cell)) for cell in re.findall(r'<td class="col-duration[^"]*">(.*?)</td>', html)
    ]


@pytest.fixture
def traced(db) -> Iterator[None]:
    connection, schema = agno_connection(), current_source().schema
    create_trace_tables(connection, schema)
    make_sessions(connection, schema)
    yield
    drop_trace_tables(connection, schema)


def test_the_column_shows_each_sessions_traced_time_in_one_grouped_query(traced, admin_client):
    with CaptureQueriesContext(agno_connection()) as captured:
        html = admin_client.get(LIST).content.decode()
    assert HEADER in html
    assert listed(html) == ["plain", "short", "long"] and traced_cells(html) == ["—", "500 ms", "3.00 s"]
    reads = [query["sql"] for query in captured.captured_queries if "duration_ms" in query["sql"]]
    assert len(reads) == 1 and "GROUP BY" in reads[0]


def test_sorting_by_traced_time_puts_sessions_without_traces_last_either_way(traced, admin_client):
    longest = admin_client.get(LIST, {"sort": "-duration"}).content.decode()
    assert listed(longest) == ["long", "short", "plain"]
    assert 'aria-sort="descending"' in longest.split(HEADER, 1)[0].rsplit("<th", 1)[1]
    shortest = admin_client.get(LIST, {"sort": "duration"}).content.decode()
    assert listed(shortest) == ["short", "long", "plain"]
    assert '<option value="-duration"' in longest and "is not a sort order" not in longest


def test_the_traced_time_sorts_page_by_numbers_and_within_the_newest_window(traced, admin_client, monkeypatch):
    monkeypatch.setattr(queries.pages, "LIST_PAGE_SIZE", 1)
    html = admin_client.get(LIST, {"sort": "-duration"}).content.decode()
    assert listed(html) == ["long"]
    assert "page=2" in html and "after=" not in html
    assert listed(admin_client.get(LIST, {"sort": "-duration", "page": "2"}).content.decode()) == ["short"]
    monkeypatch.setattr(queries.pages, "LIST_PAGE_SIZE", 50)
    monkeypatch.setattr(queries.pages, "NEWEST_WINDOW", 2)
    windowed = unescape(admin_client.get(LIST, {"sort": "-duration"}).content.decode())
    assert listed(windowed) == ["short", "plain"]  # long is older than the two newest
    assert "Sorted by traced time among the 2 newest sessions only" in windowed


def test_without_trace_tables_there_is_no_column_and_the_sort_is_refused_with_a_notice(db, admin_client):
    create_session(session_id="plain", runs=[make_agent_run("plain")], layout="3")
    response = admin_client.get(LIST, {"sort": "-duration"})
    html = unescape(response.content.decode())
    assert response.status_code == 200 and HEADER not in html and listed(html) == ["plain"]
    assert "There is no traced time to sort by" in html and '<option value="-duration"' not in html


@pytest.fixture(scope="module")
def other_database(tmp_path_factory, django_db_setup, django_db_blocker) -> Iterator[tuple[dict, str]]:
    with django_db_blocker.unblock():
        yield from second_database(tmp_path_factory)


def test_traces_in_another_database_fill_the_column_but_cannot_sort_it(other_database, db, admin_client, monkeypatch):
    database, schema = other_database
    with database_added(TRACES_ALIAS, database) as connection, traces_read_from(monkeypatch, TRACES_ALIAS, schema):
        create_trace_tables(connection, schema)
        make_sessions(connection, schema)
        html = unescape(admin_client.get(LIST).content.decode())
        assert traced_cells(html) == ["—", "500 ms", "3.00 s"] and '<option value="-duration"' not in html
        refused = unescape(admin_client.get(LIST, {"sort": "-duration"}).content.decode())
        assert listed(refused) == ["plain", "short", "long"]
        assert "cannot be sorted by traced time" in refused


def test_a_down_traces_database_leaves_the_list_working_without_the_column(
    db, admin_client, monkeypatch, tmp_path_factory
):
    create_session(session_id="plain", runs=[make_agent_run("plain")], layout="3")
    with database_added(TRACES_ALIAS, down_database(tmp_path_factory)), traces_read_from(monkeypatch, TRACES_ALIAS, ""):
        response = admin_client.get(LIST, {"sort": "-duration"})
        html = unescape(response.content.decode())
        assert response.status_code == 200 and listed(html) == ["plain"] and HEADER not in html
        assert "The traces' database does not answer" in html


def test_the_export_follows_the_traced_time_order(traced, admin_client):
    response = admin_client.get(reverse("sessions_ui:list_export_jsonl"), {"sort": "-duration"})
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert response.status_code == 200
    assert [line.split('"session_id": "', 1)[1].split('"', 1)[0] for line in lines] == ["long", "short", "plain"]
