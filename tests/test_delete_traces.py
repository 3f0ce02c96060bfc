"""A session delete and its traces: agno 3.1.10's delete_session keeps them (design.md 2b), and so does the
dashboard unless the admin ticks "also delete its traces"; the confirmation says which, and how many."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from sessions_ui.models import AgnoSession
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
    trace_rows,
    traces_read_from,
)

BULK_DELETE_URL = reverse("sessions_ui:bulk_delete")
BOX = 'name="delete_traces" value="1"'


def text(response) -> str:
    """The page's words, tags left out."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split()).replace(" .", ".")


def delete_url(session_id: str) -> str:
    return reverse("sessions_ui:delete", args=[session_id])


@pytest.fixture
def deleter_client(client, deleter):
    client.force_login(deleter)
    return client


def make_sessions(connection, schema: str) -> None:
    """s0 (one run, traced: 2 spans), s1 (two runs, both traced: 3 spans each), s2 (one run, no trace)."""
    for index, traced in enumerate([1, 2, 0]):
        runs = [make_agent_run(f"s{index}", seed=index * 10 + seed) for seed in range(max(traced, 1))]
        create_session(session_id=f"s{index}", user_id="ada@example.com", runs=runs, layout="3")
        for run in runs[:traced]:
            add_trace(connection, schema, f"s{index}", run["run_id"], 1000, spans=2 if index == 0 else 3)


@pytest.fixture
def traced_sessions(db) -> Iterator[tuple]:
    connection, schema = agno_connection(), current_source().schema
    create_trace_tables(connection, schema)
    make_sessions(connection, schema)
    yield connection, schema
    drop_trace_tables(connection, schema)


def audit(session_id: str) -> str:
    return LogEntry.objects.get(object_id=session_id).get_change_message()


def test_the_confirmation_says_the_traces_stay_unless_the_box_is_ticked(deleter_client, traced_sessions):
    response = deleter_client.post(delete_url("s1"))
    assert "Its 2 traces (6 spans) stay, as Agno's own delete keeps them, unless you tick the box." in text(response)
    html = response.content.decode()
    assert BOX in html and f"{BOX} checked" not in html
    bulk = deleter_client.post(BULK_DELETE_URL, {"session_ids": ["s0", "s1", "s2"]})
    assert "Their 3 traces (8 spans) stay" in text(bulk) and BOX in bulk.content.decode()
    untraced = deleter_client.post(delete_url("s2")).content.decode()
    assert BOX not in untraced


def test_a_delete_without_the_box_keeps_the_traces_and_says_so(deleter_client, traced_sessions):
    connection, schema = traced_sessions
    response = deleter_client.post(delete_url("s1"), {"confirm": "yes"}, follow=True)
    assert not AgnoSession.objects.filter(pk="s1").exists()
    assert trace_rows(connection, schema) == (3, 8)
    assert "” and its 2 runs. Its 2 traces (6 spans) were kept." in text(response)
    assert audit("s1") == "Deleted with its 2 runs. Its 2 traces (6 spans) were kept, as Agno keeps them."


def test_a_delete_with_the_box_deletes_the_traces_and_their_spans(deleter_client, traced_sessions):
    connection, schema = traced_sessions
    response = deleter_client.post(delete_url("s1"), {"confirm": "yes", "delete_traces": "1"}, follow=True)
    assert not AgnoSession.objects.filter(pk="s1").exists()
    assert trace_rows(connection, schema) == (1, 2)  # s0's are left
    assert "” and its 2 runs and 2 traces (6 spans)." in text(response)
    assert audit("s1") == "Deleted with its 2 runs and 2 traces (6 spans)."


def test_a_bulk_delete_of_the_selected_with_and_without_the_box(deleter_client, traced_sessions):
    connection, schema = traced_sessions
    deleter_client.post(BULK_DELETE_URL, {"session_ids": ["s0", "s2"], "confirm": "yes"})
    assert trace_rows(connection, schema) == (3, 8)
    assert audit("s0").endswith("Its 1 trace (2 spans) was kept, as Agno keeps them.") and audit("s2") == (
        "Deleted with its 1 run."
    )
    deleter_client.post(BULK_DELETE_URL, {"session_ids": ["s1"], "confirm": "yes", "delete_traces": "1"})
    assert trace_rows(connection, schema) == (1, 2) and not AgnoSession.objects.exists()


def test_a_bulk_delete_of_all_matching_with_the_box_deletes_exactly_the_confirmed_sessions_traces(
    deleter_client, traced_sessions
):
    connection, schema = traced_sessions
    filters = {"all_matching": "1", "user_id": "ada@example.com"}
    html = deleter_client.post(BULK_DELETE_URL, filters).content.decode()
    fingerprint = html.split('name="fingerprint" value="', 1)[1].split('"', 1)[0]
    assert BOX in html
    response = deleter_client.post(
        BULK_DELETE_URL, {**filters, "fingerprint": fingerprint, "confirm": "yes", "delete_traces": "1"}, follow=True
    )
    assert not AgnoSession.objects.exists() and trace_rows(connection, schema) == (0, 0)
    assert "Deleted 3 sessions and their 4 runs and 3 traces (8 spans)." in text(response)


def test_a_session_whose_trace_tables_are_missing_still_deletes_with_the_box_ticked(deleter_client, db):
    create_session(session_id="plain", runs=[make_agent_run("plain")], layout="3")
    assert BOX not in deleter_client.post(delete_url("plain")).content.decode()
    response = deleter_client.post(delete_url("plain"), {"confirm": "yes", "delete_traces": "1"})
    assert response.status_code == 302 and not AgnoSession.objects.filter(pk="plain").exists()
    assert audit("plain") == "Deleted with its 1 run."


@pytest.fixture(scope="module")
def other_database(tmp_path_factory, django_db_setup, django_db_blocker) -> Iterator[tuple[dict, str]]:
    with django_db_blocker.unblock():
        yield from second_database(tmp_path_factory)


def test_traces_in_another_database_go_with_the_box_and_stay_without_it(
    deleter_client, other_database, db, monkeypatch
):
    database, schema = other_database
    with database_added(TRACES_ALIAS, database) as connection, traces_read_from(monkeypatch, TRACES_ALIAS, schema):
        create_trace_tables(connection, schema)
        make_sessions(connection, schema)
        assert "Its 2 traces (6 spans) stay" in text(deleter_client.post(delete_url("s1")))
        deleter_client.post(delete_url("s1"), {"confirm": "yes", "delete_traces": "1"})
        assert trace_rows(connection, schema) == (1, 2)
        deleter_client.post(delete_url("s0"), {"confirm": "yes"})
        assert trace_rows(connection, schema) == (1, 2)
        assert not AgnoSession.objects.filter(pk__in=["s0", "s1"]).exists()


def test_a_down_traces_database_keeps_a_delete_that_keeps_them_and_refuses_one_that_would_not(
    deleter_client, db, monkeypatch, tmp_path_factory
):
    create_session(session_id="s0", runs=[make_agent_run("s0")], layout="3")
    with database_added(TRACES_ALIAS, down_database(tmp_path_factory)), traces_read_from(monkeypatch, TRACES_ALIAS, ""):
        response = deleter_client.post(delete_url("s0"))
        assert "Their traces are in another database, which does not answer: they are kept." in text(response)
        assert BOX not in response.content.decode()
        response = deleter_client.post(delete_url("s0"), {"confirm": "yes", "delete_traces": "1"}, follow=True)
        assert "Nothing was deleted: the database of the traces does not answer" in text(response)
        assert AgnoSession.objects.filter(pk="s0").exists() and not LogEntry.objects.exists()
        deleter_client.post(delete_url("s0"), {"confirm": "yes"})
        assert not AgnoSession.objects.filter(pk="s0").exists()
        assert audit("s0") == "Deleted with its 1 run. Its traces, if any, were kept: their database did not answer."
