"""Traces in another database (AGNO_TRACES_DATABASE_URL, a sources file's traces_url): read from there, and a
down traces database never breaks a page: the trace view says it could not reach it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.urls import reverse

from tests.factories import create_session, make_agent_run
from tests.traces_elsewhere import (
    TRACES_ALIAS,
    add_trace,
    create_trace_tables,
    database_added,
    down_database,
    second_database,
    traces_read_from,
)

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(scope="module")
def other_database(tmp_path_factory, django_db_setup, django_db_blocker) -> Iterator[tuple[dict, str]]:
    with django_db_blocker.unblock():
        yield from second_database(tmp_path_factory)


@pytest.fixture
def traces_elsewhere(other_database, db, monkeypatch) -> Iterator:
    """The default source's traces in the second database: its connection and schema."""
    database, schema = other_database
    with database_added(TRACES_ALIAS, database) as connection, traces_read_from(monkeypatch, TRACES_ALIAS, schema):
        create_trace_tables(connection, schema)
        yield connection, schema


def test_the_detail_page_and_the_trace_view_read_the_traces_from_their_own_database(traces_elsewhere, viewer_client):
    connection, schema = traces_elsewhere
    run = make_agent_run("far")
    create_session(session_id="far", runs=[run], session_data={"session_state": {}})
    trace_id = add_trace(connection, schema, "far", run["run_id"], 1500, spans=3)

    detail = viewer_client.get(reverse("sessions_ui:detail", args=["far"])).content.decode()
    assert ">traced</span>" in detail
    html = viewer_client.get(reverse("sessions_ui:trace", args=["far", run["run_id"]]), **HTMX).content.decode()
    assert trace_id in html and html.count('<li class="span ') == 3
    span = viewer_client.get(f"{reverse('sessions_ui:trace', args=['far', run['run_id']])}?span={trace_id}-1", **HTMX)
    assert span.status_code == 200


def test_a_down_traces_database_leaves_the_detail_page_working_and_the_trace_view_says_so(
    db, viewer_client, monkeypatch, tmp_path_factory
):
    run = make_agent_run("near")
    create_session(session_id="near", runs=[run], session_data={"session_state": {}})
    with (
        database_added(TRACES_ALIAS, down_database(tmp_path_factory)) as down,
        traces_read_from(monkeypatch, TRACES_ALIAS, ""),
    ):
        attempts = []
        connect = down.connect
        monkeypatch.setattr(down, "connect", lambda: attempts.append(1) or connect())
        detail = viewer_client.get(reverse("sessions_ui:detail", args=["near"]))
        assert detail.status_code == 200 and f'id="run-{run["run_id"]}"' in detail.content.decode()
        url = reverse("sessions_ui:trace", args=["near", run["run_id"]])
        for response in (viewer_client.get(url, **HTMX), viewer_client.get(url), viewer_client.get(f"{url}?span=x")):
            assert response.status_code == 200
            assert "Could not reach the traces database" in response.content.decode()
        listed = viewer_client.get(reverse("sessions_ui:list"))
        assert listed.status_code == 200 and "near" in listed.content.decode()
        # That it does not answer is kept (as which tables exist is): the pages do not each wait for it.
        assert len(attempts) == 1


def test_agno_doctor_says_where_the_traces_are_and_that_their_database_does_not_answer(
    traces_elsewhere, monkeypatch, tmp_path_factory
):
    from sessions_ui.diagnosis import examine

    found = examine()
    assert found.traces.endswith(": agno_traces and agno_spans") and not any("traces" in p for p in found.problems)
    with (
        database_added("traces-down", down_database(tmp_path_factory)),
        traces_read_from(monkeypatch, "traces-down", ""),
    ):
        down = examine()
    assert down.traces.endswith(": does not answer")
    assert any(problem.startswith("The traces' database does not answer") for problem in down.problems)
    assert any(line.startswith("Traces:   in ") for line in down.lines())
