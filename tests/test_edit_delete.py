"""Editing and deleting sessions: validated partial edits, stale-edit refusal, deletes with their runs, audit log."""

from __future__ import annotations

import json
import re
import time
from html import unescape

import pytest
from django.conf import settings
from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sessions_ui import agno, changes, queries
from sessions_ui.bulk_write import JSON_COLUMNS, write_sessions
from sessions_ui.demo import make_session
from sessions_ui.forms import SessionEditForm
from sessions_ui.models import AgnoSession
from sessions_ui.schema import agno_connection, quoted_table, table_columns
from tests.agno import AGNO_VERSIONS, agno_db, agno_get_session, agno_get_sessions, write_with_agno
from tests.conftest import make_user
from tests.factories import create_session, make_agent_run

pytestmark = pytest.mark.django_db

SESSION_DATA = {
    "session_name": "Lisbon weather",
    "session_state": {"city": "Lisbon", "visits": 2},
    "session_metrics": {"input_tokens": 120, "output_tokens": 40, "total_tokens": 160},
    "images": [{"url": "https://example.com/a.png"}],
}
METADATA = {"source": "slack", "tags": ["travel"]}
SUMMARY = {"summary": "Asked about the weather.", "topics": ["weather", "lisbon"], "updated_at": "2026-01-02T03:04:05"}


def edit_url(session_id: str) -> str:
    return reverse("sessions_ui:edit", args=[session_id])


def delete_url(session_id: str) -> str:
    return reverse("sessions_ui:delete", args=[session_id])


BULK_DELETE_URL = "/sessions/delete/"


def raw_row(session_id: str) -> dict[str, str | int | None]:
    """Every column of a session row as the database stores it (JSON as text), for byte-for-byte comparisons."""
    connection = agno_connection()
    columns = table_columns(settings.AGNO_SESSION_TABLE)
    cast = "::text" if connection.vendor == "postgresql" else ""
    select = ", ".join(
        f"{connection.ops.quote_name(column)}{cast if column in JSON_COLUMNS else ''}" for column in columns
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {select} FROM {quoted_table(settings.AGNO_SESSION_TABLE)} WHERE session_id = %s", [session_id]
        )
        row = cursor.fetchone()
    return None if row is None else dict(zip(columns, row, strict=True))


def stored(session_id: str, column: str):
    return agno.decode_json(raw_row(session_id)[column])


def run_ids(session_id: str) -> list[str]:
    return [row.run_id for row in queries.run_rows(session_id)]


def agno_write(session_id: str, **columns) -> None:
    """What Agno does at the end of a run: rewrite the row, with a new updated_at."""
    assignments = ", ".join(f"{name} = %s" for name in columns)
    values = [json.dumps(v) if isinstance(v, (dict, list)) else v for v in columns.values()]
    with agno_connection().cursor() as cursor:
        cursor.execute(
            f"UPDATE {quoted_table(settings.AGNO_SESSION_TABLE)} SET {assignments} WHERE session_id = %s",
            [*values, session_id],
        )


def form_values(client: Client, session_id: str) -> dict[str, str]:
    """The edit form's fields as the browser would send them back untouched."""
    form = SessionEditForm(row=AgnoSession.objects.get(pk=session_id))
    response = client.get(edit_url(session_id))
    assert response.status_code == 200
    return {name: form.initial[name] for name in form.fields}


@pytest.fixture
def session():
    return create_session(
        session_id="lisbon/2026 weather ✓",
        session_data=SESSION_DATA,
        metadata=METADATA,
        summary=SUMMARY,
        runs=[make_agent_run("lisbon/2026 weather ✓", seed=1), make_agent_run("lisbon/2026 weather ✓", seed=2)],
        created_at=int(time.time()) - 7200,
        updated_at=int(time.time()) - 3600,
    )


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


@pytest.fixture
def deleter_client(client, deleter):
    client.force_login(deleter)
    return client


def test_edit_form_shows_the_values_pretty_printed_with_the_loaded_version(editor_client, session):
    response = editor_client.get(edit_url(session.session_id))
    assert response.status_code == 200
    html = unescape(response.content.decode())
    assert "<html" in html
    assert 'value="Lisbon weather"' in html
    assert '  "city": "Lisbon",' in html or '  "visits": 2,' in html  # pretty-printed (PostgreSQL orders keys)
    assert '  "source": "slack"' in html
    assert "weather\nlisbon" in html  # topics, one per line
    assert f'name="updated_at" value="{session.updated_at}"' in html


def test_edit_form_under_htmx_is_the_fragment(editor_client, session):
    response = editor_client.get(edit_url(session.session_id), headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith("<section") and 'id="session-edit"' in html


@pytest.mark.parametrize(
    ("field", "text", "column", "expected"),
    [
        ("session_name", "  Lisbon, again  ", "session_data", {**SESSION_DATA, "session_name": "Lisbon, again"}),
        ("session_state", '{"city": "Porto"}', "session_data", {**SESSION_DATA, "session_state": {"city": "Porto"}}),
        ("metadata", '{"source": "api"}', "metadata", {"source": "api"}),
        ("metadata", "", "metadata", None),
        ("summary", '{"summary": "Short."}', "summary", {"summary": "Short."}),
        ("summary", "null", "summary", None),
    ],
)
def test_editing_one_field_changes_only_it(editor_client, session, field, text, column, expected):
    before, runs_before = raw_row(session.session_id), run_ids(session.session_id)
    response = editor_client.post(edit_url(session.session_id), {field: text, "updated_at": session.updated_at})
    assert response.status_code == 302
    assert response["Location"] == reverse("sessions_ui:detail", args=[session.session_id])
    after = raw_row(session.session_id)
    assert agno.decode_json(after[column]) == expected
    untouched = set(before) - {column, "updated_at"}
    assert {name: after[name] for name in untouched} == {name: before[name] for name in untouched}
    assert abs(after["updated_at"] - time.time()) < 5
    assert run_ids(session.session_id) == runs_before and len(runs_before) == 2


def test_summary_as_text_and_topics(editor_client, session):
    response = editor_client.post(
        edit_url(session.session_id),
        {
            "summary_text": "Weather, twice.",
            "summary_topics": "weather\r\n\r\n  rain \r\n",
            "updated_at": session.updated_at,
        },
    )
    assert response.status_code == 302
    summary = stored(session.session_id, "summary")
    assert summary["summary"] == "Weather, twice."
    assert summary["topics"] == ["weather", "rain"]
    assert set(summary) == {"summary", "topics", "updated_at"}
    agno.epoch_to_datetime(summary["updated_at"])  # an ISO date-time, as Agno's SessionSummary writes it


def test_summary_text_wins_over_the_json_field_only_when_changed(editor_client, session):
    values = form_values(editor_client, session.session_id)
    values["summary"] = '{"summary": "From JSON"}'
    editor_client.post(edit_url(session.session_id), values)
    assert stored(session.session_id, "summary") == {"summary": "From JSON"}

    values = form_values(editor_client, session.session_id)
    values |= {"summary_text": "From text", "summary": '{"summary": "ignored"}'}
    editor_client.post(edit_url(session.session_id), values)
    assert stored(session.session_id, "summary")["summary"] == "From text"


def test_clearing_summary_text_and_topics_removes_the_summary(editor_client, session):
    editor_client.post(
        edit_url(session.session_id), {"summary_text": "", "summary_topics": "", "updated_at": session.updated_at}
    )
    assert raw_row(session.session_id)["summary"] is None


def test_resubmitting_the_form_unchanged_writes_nothing(editor_client, session):
    before = raw_row(session.session_id)
    values = form_values(editor_client, session.session_id)
    values = {name: value.replace("\n", "\r\n") for name, value in values.items()}  # as browsers send textareas
    response = editor_client.post(edit_url(session.session_id), values, follow=True)
    assert raw_row(session.session_id) == before
    assert "Nothing changed" in response.content.decode()
    assert not LogEntry.objects.exists()


def test_reformatted_json_is_not_a_change(editor_client, session):
    before = raw_row(session.session_id)
    editor_client.post(
        edit_url(session.session_id), {"metadata": json.dumps(METADATA, indent=8), "updated_at": session.updated_at}
    )
    assert raw_row(session.session_id) == before


def test_all_fields_at_once(editor_client, session):
    values = form_values(editor_client, session.session_id)
    values |= {
        "session_name": "Renamed",
        "session_state": '{"step": 3}',
        "metadata": '{"a": [1, 2]}',
        "summary_text": "New summary",
        "summary_topics": "x",
    }
    response = editor_client.post(edit_url(session.session_id), values, follow=True)
    assert response.status_code == 200
    session_data = stored(session.session_id, "session_data")
    assert session_data == {**SESSION_DATA, "session_name": "Renamed", "session_state": {"step": 3}}
    assert stored(session.session_id, "metadata") == {"a": [1, 2]}
    assert stored(session.session_id, "summary")["topics"] == ["x"]
    assert "Changed session name" in response.content.decode()


def test_clearing_the_name_removes_it_and_keeps_the_rest(editor_client, session):
    editor_client.post(edit_url(session.session_id), {"session_name": " ", "updated_at": session.updated_at})
    session_data = stored(session.session_id, "session_data")
    assert "session_name" not in session_data
    assert session_data["session_metrics"] == SESSION_DATA["session_metrics"]


def test_edit_of_an_agno_2_double_encoded_row_keeps_other_columns_byte_for_byte(editor_client):
    session = create_session(
        session_id="v2", session_data=SESSION_DATA, metadata=METADATA, summary=SUMMARY, layout="2",
        runs=[make_agent_run("v2")],
    )  # fmt: skip
    before = raw_row("v2")
    if agno_connection().vendor == "sqlite":
        assert before["session_data"].startswith('"')  # a JSON string holding JSON, as Agno 2.x writes it
    editor_client.post(edit_url("v2"), {"session_state": '{"fresh": true}', "updated_at": session.updated_at})
    after = raw_row("v2")
    assert stored("v2", "session_data") == {**SESSION_DATA, "session_state": {"fresh": True}}
    for column in ("metadata", "summary", "runs", "agent_data", "created_at", "user_id"):
        assert after[column] == before[column]


@pytest.mark.parametrize(
    ("field", "text", "message"),
    [
        (
            "session_state",
            '{"city": "Lisbon",}',
            "Invalid JSON: Expecting property name enclosed in double quotes (line 1",
        ),
        ("session_state", "[1, 2]", "The session state must be a JSON object {…}, not a list."),
        ("session_state", "", "Enter a JSON object ({} for an empty session state)."),
        ("session_state", '{"x": NaN}', "NaN is not valid JSON"),
        ("session_state", '{"x": "a\\u0000b"}', "NUL characters"),
        ("metadata", '"just text"', "The metadata must be a JSON object {…} or null, not a string."),
        ("summary", '{"summary": "s", "mood": "ok"}', "unknown keys mood"),
        ("summary", '{"topics": ["a"]}', '"summary" must be a string'),
        ("summary", '{"summary": "s", "updated_at": "yesterday"}', '"updated_at" must be an ISO date-time'),
        ("session_name", "bad\x00name", "Null characters are not allowed."),
    ],
)
def test_invalid_input_is_shown_next_to_the_field_keeps_the_text_and_writes_nothing(
    editor_client, session, field, text, message
):
    before = raw_row(session.session_id)
    response = editor_client.post(edit_url(session.session_id), {field: text, "updated_at": session.updated_at})
    assert response.status_code == 400
    html = unescape(response.content.decode())
    assert message in html
    assert "Not saved." in html
    if "\x00" not in text:
        assert text in html  # what the user typed is kept
    assert raw_row(session.session_id) == before
    assert not LogEntry.objects.exists()


def test_invalid_field_blocks_the_valid_ones_too(editor_client, session):
    before = raw_row(session.session_id)
    response = editor_client.post(
        edit_url(session.session_id), {"session_name": "New", "metadata": "{", "updated_at": session.updated_at}
    )
    assert response.status_code == 400
    assert raw_row(session.session_id) == before


def test_errors_under_htmx_are_the_fragment_with_status_400(editor_client, session):
    response = editor_client.post(
        edit_url(session.session_id),
        {"session_state": "{", "updated_at": session.updated_at},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 400
    assert "<html" not in response.content.decode()
    assert "Invalid JSON" in response.content.decode()
    # Into the form's own slot, whatever element sent the request.
    assert (response["HX-Retarget"], response["HX-Reswap"]) == ("#session-edit", "outerHTML")
    assert 'id="session-edit"' in response.content.decode()


def test_garbage_or_missing_updated_at_is_a_400(editor_client, session):
    before = raw_row(session.session_id)
    response = editor_client.post(edit_url(session.session_id), {"session_name": "x", "updated_at": "yesterday"})
    assert response.status_code == 400
    assert "Reload the form" in response.content.decode()
    response = editor_client.post(edit_url(session.session_id), {"session_name": "x"})
    assert response.status_code == 400
    assert "Send the updated_at that the form was loaded with" in response.content.decode()
    assert raw_row(session.session_id) == before


def test_malformed_session_data_refuses_name_and_state_but_allows_metadata(editor_client):
    session = create_session(session_id="broken", session_data='["not", "an", "object"]', raw=True)
    response = editor_client.get(edit_url("broken"))
    assert "cannot be read (expected an object, found list)" in response.content.decode()
    response = editor_client.post(edit_url("broken"), {"session_name": "New", "updated_at": session.updated_at})
    assert response.status_code == 400
    assert "rewriting it would destroy it" in unescape(response.content.decode())
    assert raw_row("broken")["session_data"] == '["not", "an", "object"]'
    response = editor_client.post(edit_url("broken"), {"metadata": '{"ok": 1}', "updated_at": session.updated_at})
    assert response.status_code == 302
    assert raw_row("broken")["session_data"] == '["not", "an", "object"]'
    assert stored("broken", "metadata") == {"ok": 1}


def test_null_updated_at_is_a_version_too(editor_client):
    create_session(session_id="never-updated", updated_at=None)
    response = editor_client.post(edit_url("never-updated"), {"session_name": "Named", "updated_at": ""})
    assert response.status_code == 302
    assert raw_row("never-updated")["updated_at"] is not None
    response = editor_client.post(edit_url("never-updated"), {"session_name": "Again", "updated_at": ""})
    assert response.status_code == 409


def test_stale_edit_is_refused_with_current_values_and_the_attempt_kept(editor_client, session):
    values = form_values(editor_client, session.session_id)
    # Agno finishes a run meanwhile: new state, new metrics, new updated_at.
    agno_state = {**SESSION_DATA, "session_state": {"city": "Lisbon", "visits": 3}}
    agno_write(session.session_id, session_data=agno_state, updated_at=session.updated_at + 10)
    before = raw_row(session.session_id)

    values |= {"session_name": "My rename", "session_state": '{"mine": true}'}
    response = editor_client.post(edit_url(session.session_id), values)

    assert response.status_code == 409
    html = unescape(response.content.decode())
    assert "Not saved: this session changed after you opened the form" in html
    assert json.dumps(agno_state["session_state"], indent=2) in html  # the current values, in the form
    assert f'name="updated_at" value="{session.updated_at + 10}"' in html  # ready to apply again
    attempt = html.split("Your changes (not saved)")[1]
    assert '{"mine": true}' in attempt and "My rename" in attempt
    assert "Metadata" not in attempt  # sent back unchanged: not part of the attempt
    assert raw_row(session.session_id) == before
    assert not LogEntry.objects.exists()


def test_stale_edit_with_invalid_json_is_still_reported_as_stale(editor_client, session):
    agno_write(session.session_id, updated_at=session.updated_at + 1)
    response = editor_client.post(edit_url(session.session_id), {"metadata": "{", "updated_at": session.updated_at})
    assert response.status_code == 409


def test_stale_edit_under_htmx_is_the_fragment_with_status_409(editor_client, session):
    agno_write(session.session_id, updated_at=session.updated_at + 1)
    response = editor_client.post(
        edit_url(session.session_id),
        {"session_name": "x", "updated_at": session.updated_at},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 409
    assert "<html" not in response.content.decode()
    assert (response["HX-Retarget"], response["HX-Reswap"]) == ("#session-edit", "outerHTML")


def test_agno_write_between_our_read_and_our_update_is_not_lost(editor_client, session, monkeypatch):
    """The conditional UPDATE itself refuses: Agno writes after we read the row but before we write it.

    (Across connections the row lock (PostgreSQL) or database lock (SQLite) makes Agno wait instead;
    here the test's own connection stands in for Agno, so its write rolls back with our refused one.)
    """
    columns = SessionEditForm._columns

    def agno_writes_meanwhile(form, row):
        agno_write(session.session_id, metadata={"agno": "wrote this"}, updated_at=row.updated_at + 1)
        return columns(form, row)

    monkeypatch.setattr(SessionEditForm, "_columns", agno_writes_meanwhile)
    response = editor_client.post(
        edit_url(session.session_id), {"session_name": "Mine", "updated_at": session.updated_at}
    )
    assert response.status_code == 409
    assert "Not saved: this session changed" in response.content.decode()
    assert stored(session.session_id, "session_data")["session_name"] == "Lisbon weather"
    assert not LogEntry.objects.exists()


def loaded_form(client: Client, session_id: str) -> dict[str, str]:
    """The hidden fields of the edit form as the browser got it."""
    html = client.get(edit_url(session_id)).content.decode()
    return {
        name: unescape(re.search(rf'name="{name}" value="([^"]*)"', html).group(1))
        for name in ("updated_at", "version")
    }


@pytest.mark.parametrize(
    "column, value",
    [
        ("session_data", {**SESSION_DATA, "session_state": {"city": "Porto"}}),
        ("metadata", {"source": "agno", "same": "second"}),
        ("summary", {"summary": "Written by Agno in the same second."}),
    ],
)
def test_a_write_in_the_same_second_as_the_form_was_loaded_is_not_overwritten(editor_client, session, column, value):
    """Agno's updated_at is in whole seconds: a write in the same second leaves it as the form has it."""
    hidden = loaded_form(editor_client, session.session_id)
    agno_write(session.session_id, **{column: value})  # updated_at unchanged: the same second
    before = raw_row(session.session_id)
    response = editor_client.post(edit_url(session.session_id), hidden | {"session_name": "Mine", "metadata": "{}"})
    assert response.status_code == 409
    assert "Not saved: this session changed" in unescape(response.content.decode())
    assert raw_row(session.session_id) == before
    assert not LogEntry.objects.exists()


def test_a_second_admins_edit_in_the_same_second_is_not_overwritten(editor_client, session, client):
    first, second = loaded_form(editor_client, session.session_id), loaded_form(editor_client, session.session_id)
    assert editor_client.post(edit_url(session.session_id), first | {"session_name": "First"}).status_code == 302
    agno_write(session.session_id, updated_at=session.updated_at)  # as if the clock had not moved
    response = editor_client.post(edit_url(session.session_id), second | {"session_state": '{"second": 1}'})
    assert response.status_code == 409
    assert stored(session.session_id, "session_data")["session_name"] == "First"
    assert stored(session.session_id, "session_data")["session_state"] == SESSION_DATA["session_state"]


def test_the_update_itself_refuses_a_same_second_write_after_our_check(editor_client, session, monkeypatch):
    """The stored values checked are the UPDATE's condition: a write between the check and the UPDATE is refused."""
    hidden = loaded_form(editor_client, session.session_id)
    columns = SessionEditForm._columns

    def agno_writes_meanwhile(form, row):
        agno_write(session.session_id, metadata={"agno": "same second"})
        return columns(form, row)

    monkeypatch.setattr(SessionEditForm, "_columns", agno_writes_meanwhile)
    response = editor_client.post(edit_url(session.session_id), hidden | {"session_name": "Mine"})
    assert response.status_code == 409
    assert stored(session.session_id, "session_data")["session_name"] == "Lisbon weather"


def test_an_edit_with_the_loaded_version_still_saves(editor_client, session):
    hidden = loaded_form(editor_client, session.session_id)
    response = editor_client.post(edit_url(session.session_id), hidden | {"session_name": "Renamed"})
    assert response.status_code == 302
    assert stored(session.session_id, "session_data")["session_name"] == "Renamed"


def test_edit_of_a_session_that_is_gone_is_a_message_not_an_error(editor_client, session):
    response = editor_client.get(edit_url("no such session"), follow=True)
    assert response.status_code == 200
    assert "no longer exists" in unescape(response.content.decode())
    values = form_values(editor_client, session.session_id)
    AgnoSession.objects.filter(pk=session.session_id).delete()
    response = editor_client.post(edit_url(session.session_id), values | {"session_name": "x"}, follow=True)
    assert "no longer exists" in unescape(response.content.decode())


def test_successful_edit_under_htmx_redirects_the_client_to_the_detail_page(editor_client, session):
    response = editor_client.post(
        edit_url(session.session_id),
        {"session_name": "x", "updated_at": session.updated_at},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("sessions_ui:detail", args=[session.session_id])


def test_edit_is_recorded_in_the_audit_log(editor_client, editor, session):
    editor_client.post(
        edit_url(session.session_id),
        {"session_name": "Renamed", "metadata": '{"source": "api"}', "updated_at": session.updated_at},
    )
    [entry] = LogEntry.objects.all()
    assert entry.user == editor
    assert entry.action_flag == CHANGE
    assert entry.object_id == session.session_id
    assert entry.object_repr == "Lisbon weather"
    assert entry.get_change_message() == "Changed session name and metadata."  # as Django's admin shows it
    [name, metadata] = changes.field_changes(entry)
    assert (name.label, name.before, name.after) == ("session name", "Lisbon weather", "Renamed")
    assert metadata.label == "metadata"
    assert {(key.key, key.kind, key.after) for key in metadata.keys} >= {("source", "changed", "api")}


def test_audit_preview_of_large_values_is_short_with_the_whole_value_a_click_away(editor_client, session):
    big = {"items": list(range(500))}
    editor_client.post(
        edit_url(session.session_id), {"session_state": json.dumps(big), "updated_at": session.updated_at}
    )
    html = editor_client.get(reverse("sessions_ui:audit")).content.decode()
    summary = re.search(r'<details class="audit-value after"><summary><code>([^<]*)</code></summary><pre>([^<]*)</pre>', html)
    assert summary and len(unescape(summary.group(1))) <= 80 and unescape(summary.group(1)).endswith("…")
    assert json.loads(unescape(summary.group(2))) == list(range(500))


# Deleting


@pytest.fixture
def sessions_3x():
    """Three Agno 3.x sessions with runs in the runs table (one with a team member run), one other user's."""
    made = []
    for index, user in enumerate(["ada@example.com", "ada@example.com", "bob@example.com"]):
        session_id = f"s{index}"
        runs = [make_agent_run(session_id, seed=index * 10 + seed) for seed in range(index + 1)]
        runs.append(make_agent_run(session_id, seed=index * 10 + 9, parent_run_id=runs[0]["run_id"]))  # a member run
        made.append(create_session(session_id=session_id, user_id=user, runs=runs, layout="3"))
    return made


def test_delete_asks_for_confirmation_naming_the_session_and_its_runs(deleter_client, sessions_3x):
    response = deleter_client.post(delete_url("s1"))
    assert response.status_code == 200
    html = unescape(response.content.decode())
    assert "<html" in html
    assert "Delete this session?" in html
    assert "2 runs" in html  # top-level runs only: the member run belongs to one of them
    assert 'name="confirm" value="yes"' in html
    assert AgnoSession.objects.filter(pk="s1").exists()


def test_delete_confirmation_under_htmx_is_a_dialog(deleter_client, sessions_3x):
    response = deleter_client.post(delete_url("s1"), headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    # static/js/app.js opens a dialog.confirm-dialog as a modal when it arrives (no inline script: the CSP
    # forbids it); tests/browser/test_edit_browser.py opens, cancels and confirms it in chromium.
    assert html.lstrip().startswith('<dialog id="confirm-dialog" class="confirm-dialog"') and "<script" not in html
    assert f'hx-post="{delete_url("s1")}"' in html


def test_confirmed_delete_removes_the_session_and_its_runs_only(deleter_client, deleter, sessions_3x):
    others = {session_id: (raw_row(session_id), run_ids(session_id)) for session_id in ("s0", "s2")}
    response = deleter_client.post(delete_url("s1"), {"confirm": "yes", "user_id": "ada@example.com"})
    assert response.status_code == 302
    assert response["Location"] == "/sessions/?user_id=ada%40example.com"
    assert raw_row("s1") is None and run_ids("s1") == []
    assert {session_id: (raw_row(session_id), run_ids(session_id)) for session_id in ("s0", "s2")} == others
    [entry] = LogEntry.objects.all()
    assert (entry.user, entry.action_flag, entry.object_id) == (deleter, DELETION, "s1")
    assert entry.get_change_message() == "Deleted with its 2 runs."
    response = deleter_client.get(response["Location"])
    assert "Deleted session" in unescape(response.content.decode())


def test_delete_confirmation_names_an_unnamed_session_by_its_first_input(deleter_client):
    run = make_agent_run("unnamed", question="Where is Kyoto?", seed=41)
    create_session(session_id="unnamed", session_data={"session_state": {}}, runs=[run])
    html = unescape(deleter_client.post(delete_url("unnamed")).content.decode())
    assert "Where is Kyoto?" in html and "1 run" in html


def test_confirmed_delete_under_htmx_redirects_the_client(deleter_client, sessions_3x):
    response = deleter_client.post(delete_url("s1"), {"confirm": "yes"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/sessions/"


def test_delete_of_agno_2_inline_runs(deleter_client):
    create_session(session_id="v2", layout="2", runs=[make_agent_run("v2", seed=21), make_agent_run("v2", seed=22)])
    response = deleter_client.post(delete_url("v2"))
    assert "2 runs" in response.content.decode()
    deleter_client.post(delete_url("v2"), {"confirm": "yes"})
    assert raw_row("v2") is None


def test_delete_does_not_load_runs_and_is_plain_deletes(deleter_client, sessions_3x):
    with CaptureQueriesContext(agno_connection()) as queries_run:
        deleter_client.post(delete_url("s1"), {"confirm": "yes"})
    statements = [query["sql"] for query in queries_run.captured_queries]
    assert not [sql for sql in statements if '."runs"' in sql or '"run_data"' in sql]
    deletes = [sql for sql in statements if sql.startswith("DELETE")]
    assert len(deletes) == 2
    run_reads = [
        sql for sql in statements if re.search(r'FROM ("ai"\.)?"agno_runs"', sql) and "COUNT" not in sql.upper()
    ]
    assert not [sql for sql in run_reads if not sql.startswith("DELETE")]


def test_delete_of_an_id_already_gone_is_a_message(deleter_client):
    for data in ({}, {"confirm": "yes"}):
        response = deleter_client.post(delete_url("gone"), data, follow=True)
        assert response.status_code == 200
        assert "Session “gone” no longer exists" in unescape(response.content.decode())


def test_bulk_delete_of_selected_sessions(deleter_client, sessions_3x):
    response = deleter_client.post(BULK_DELETE_URL, {"session_ids": ["s0", "s2", "already-gone"]})
    html = unescape(response.content.decode())
    assert response.status_code == 200
    assert "Delete 2 sessions?" in html
    assert "4 runs" in html  # 1 + 3 top-level runs
    assert "One of the selected sessions no longer exists" in html
    assert html.count('name="session_ids"') == 3

    response = deleter_client.post(BULK_DELETE_URL, {"session_ids": ["s0", "s2", "already-gone"], "confirm": "yes"})
    assert response.status_code == 302
    assert list(AgnoSession.objects.values_list("pk", flat=True)) == ["s1"]
    assert run_ids("s0") == run_ids("s2") == []
    assert len(run_ids("s1")) == 3
    assert sorted(LogEntry.objects.values_list("object_id", flat=True)) == ["s0", "s2"]


def test_bulk_delete_of_all_matching_the_filters(deleter_client, sessions_3x):
    filters = {"all_matching": "1", "user_id": "ada@example.com"}
    response = deleter_client.post(BULK_DELETE_URL, filters)
    html = unescape(response.content.decode())
    assert "Delete 2 sessions?" in html and "3 runs" in html
    assert 'name="all_matching" value="1"' in html and 'name="user_id" value="ada@example.com"' in html
    assert 'name="expected" value="2"' in html

    response = deleter_client.post(BULK_DELETE_URL, filters | {"confirm": "yes", "fingerprint": confirmed(html)})
    assert response.status_code == 302
    assert list(AgnoSession.objects.values_list("pk", flat=True)) == ["s2"]
    assert run_ids("s0") == run_ids("s1") == []


@pytest.mark.parametrize("layout", ["2", "3"])
def test_bulk_confirmation_of_many_sessions_lists_the_first_and_counts_all_runs_in_sql(deleter_client, layout):
    demo = [make_session(index, now=int(time.time()), runs=2) for index in range(105)]
    write_sessions(agno_connection(), demo, layout=layout)
    expected_runs = sum(stats.runs for stats in queries.page_runs([d.row["session_id"] for d in demo], set()).values())
    assert expected_runs == 2 * 105  # team member runs are not top-level runs

    html = unescape(deleter_client.post(BULK_DELETE_URL, {"all_matching": "1"}).content.decode())

    assert "Delete 105 sessions?" in html and "… and 5 more" in html
    assert f"{expected_runs} runs" in html
    assert html.count('<span class="name">') == 100  # the sessions shown


def confirmed(html: str) -> str:
    """The fingerprint of the sessions a confirmation of "all matching" showed."""
    return re.search(r'name="fingerprint" value="([0-9a-f]+)"', html).group(1)


def test_bulk_delete_by_filter_asks_again_when_the_matching_sessions_changed(deleter_client, sessions_3x):
    filters = {"all_matching": "1", "user_id": "ada@example.com"}
    shown = confirmed(deleter_client.post(BULK_DELETE_URL, filters).content.decode())
    create_session(session_id="new one", user_id="ada@example.com")
    response = deleter_client.post(BULK_DELETE_URL, filters | {"confirm": "yes", "expected": "2", "fingerprint": shown})
    assert response.status_code == 200
    html = unescape(response.content.decode())
    assert "changed since you asked (2 then, 3 now)" in html and "Delete 3 sessions?" in html
    assert AgnoSession.objects.count() == 4
    assert confirmed(html) != shown


def test_bulk_delete_by_filter_refuses_the_same_count_of_other_sessions(deleter_client, sessions_3x):
    """One session left and another arrived: the count is the same, the sessions are not."""
    filters = {"all_matching": "1", "user_id": "ada@example.com"}
    shown = confirmed(deleter_client.post(BULK_DELETE_URL, filters).content.decode())
    AgnoSession.objects.filter(pk="s0").update(user_id="someone else")
    create_session(session_id="arrived", user_id="ada@example.com")
    response = deleter_client.post(BULK_DELETE_URL, filters | {"confirm": "yes", "expected": "2", "fingerprint": shown})
    assert "changed since you asked (2 then, 2 now)" in unescape(response.content.decode())
    assert AgnoSession.objects.count() == 4


@pytest.mark.parametrize("extra", [{}, {"expected": "2"}, {"fingerprint": ""}])
def test_a_confirm_of_all_matching_without_its_fingerprint_deletes_nothing(deleter_client, sessions_3x, extra):
    data = {"all_matching": "1", "user_id": "ada@example.com", "confirm": "yes", **extra}
    response = deleter_client.post(BULK_DELETE_URL, data)
    assert response.status_code == 200
    assert "Nothing was deleted: a delete of all matching sessions needs the confirmation" in unescape(
        response.content.decode()
    )
    assert AgnoSession.objects.count() == 3


def test_bulk_delete_by_filter_deletes_the_confirmed_ids_not_the_filters_again(
    deleter_client, sessions_3x, monkeypatch
):
    """A session that arrives between the check and the delete is not deleted: the ids checked are."""
    from sessions_ui import changes

    filters = {"all_matching": "1", "user_id": "ada@example.com"}
    shown = confirmed(deleter_client.post(BULK_DELETE_URL, filters).content.decode())
    delete_sessions = changes.delete_sessions

    def agno_writes_meanwhile(sessions, user, **options):
        create_session(session_id="just arrived", user_id="ada@example.com")
        return delete_sessions(sessions, user, **options)

    monkeypatch.setattr(changes, "delete_sessions", agno_writes_meanwhile)
    response = deleter_client.post(BULK_DELETE_URL, filters | {"confirm": "yes", "fingerprint": shown}, follow=True)
    assert "Deleted 2 sessions" in unescape(response.content.decode())
    assert sorted(AgnoSession.objects.values_list("pk", flat=True)) == ["just arrived", "s2"]


def test_bulk_delete_of_selected_ids_says_which_were_gone_already(deleter_client, sessions_3x):
    data = {"session_ids": ["s0", "s2", "already-gone"], "confirm": "yes"}
    html = unescape(deleter_client.post(BULK_DELETE_URL, data, follow=True).content.decode())
    assert "Deleted 2 sessions" in html and "1 of the 3 sessions you confirmed no longer existed." in html


def test_bulk_delete_with_invalid_filters_deletes_nothing(deleter_client, sessions_3x):
    response = deleter_client.post(BULK_DELETE_URL, {"all_matching": "1", "type": "robot", "confirm": "yes"})
    assert response.status_code == 400
    assert "The filters are not valid" in unescape(response.content.decode())
    assert AgnoSession.objects.count() == 3


def test_bulk_delete_without_a_selection_is_a_400(deleter_client, sessions_3x):
    response = deleter_client.post(BULK_DELETE_URL, {"confirm": "yes"})
    assert response.status_code == 400
    assert "Select the sessions to delete first." in response.content.decode()
    response = deleter_client.post(BULK_DELETE_URL, {"confirm": "yes"}, headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert response.content.decode().lstrip().startswith("<dialog")
    assert AgnoSession.objects.count() == 3


def test_bulk_delete_of_sessions_all_gone_is_a_message(deleter_client):
    response = deleter_client.post(BULK_DELETE_URL, {"session_ids": ["x", "y"]}, follow=True)
    assert "none of these sessions exist" in response.content.decode()


def test_delete_is_one_transaction(deleter_client, sessions_3x, monkeypatch):
    """A failure half-way (after the runs went) leaves both the sessions and their runs in place."""

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("sessions_ui.changes.log", fail)
    before = {session_id: run_ids(session_id) for session_id in ("s0", "s1")}
    with pytest.raises(RuntimeError):
        deleter_client.post(BULK_DELETE_URL, {"session_ids": ["s0", "s1"], "confirm": "yes"})
    assert {session_id: run_ids(session_id) for session_id in ("s0", "s1")} == before
    assert AgnoSession.objects.count() == 3


def test_get_on_post_only_urls_is_405(admin_client, session):
    assert admin_client.get(delete_url(session.session_id)).status_code == 405
    assert admin_client.get(BULK_DELETE_URL).status_code == 405
    assert admin_client.put(edit_url(session.session_id)).status_code == 405


def test_missing_csrf_token_is_403(admin_user, session):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.post(edit_url(session.session_id), {"session_name": "x"}).status_code == 403
    assert client.post(delete_url(session.session_id), {"confirm": "yes"}).status_code == 403
    assert client.post(BULK_DELETE_URL, {"session_ids": [session.session_id], "confirm": "yes"}).status_code == 403
    assert AgnoSession.objects.filter(pk=session.session_id).exists()
    response = client.get(edit_url(session.session_id))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode())[1]
    response = client.post(edit_url(session.session_id), {"session_name": "x", "csrfmiddlewaretoken": token,
                                                          "updated_at": session.updated_at})  # fmt: skip
    assert response.status_code == 302


def test_nul_in_an_id_is_not_a_database_error(admin_client):
    assert admin_client.get("/sessions/a%00b/edit/").status_code == 404
    assert admin_client.post("/sessions/a%00b/delete/").status_code == 404
    assert admin_client.post(BULK_DELETE_URL, {"session_ids": ["a\x00b"]}).status_code == 400


# Audit log page


def test_audit_page_lists_edits_and_deletes(admin_client, sessions_3x):
    admin_client.post(edit_url("s0"), {"session_name": "<b>Renamed</b>", "updated_at": sessions_3x[0].updated_at})
    admin_client.post(delete_url("s1"), {"confirm": "yes"})
    response = admin_client.get(reverse("sessions_ui:audit"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "edited" in html and "deleted" in html
    assert "&lt;b&gt;Renamed&lt;/b&gt;" in html and "<b>Renamed" not in html
    assert "Deleted with its 2 runs." in html

    response = admin_client.get(reverse("sessions_ui:audit"), {"session": "s1"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<html" not in html and "Deleted with its 2 runs." in html and "Renamed" not in html
    response = admin_client.get(reverse("sessions_ui:audit"), {"action": "edit"})
    assert "Renamed" in unescape(response.content.decode()) and "Deleted with" not in response.content.decode()


def test_audit_page_ignores_other_admin_log_entries(admin_client, admin_user):
    LogEntry.objects.log_actions(user_id=admin_user.pk, queryset=[admin_user], action_flag=CHANGE, change_message="x")
    response = admin_client.get(reverse("sessions_ui:audit"))
    assert "No edits or deletes recorded" in response.content.decode()


# Django admin


def test_admin_changelist_never_selects_the_large_json_columns(admin_client, sessions_3x):
    with CaptureQueriesContext(agno_connection()) as captured:
        response = admin_client.get("/admin/sessions_ui/agnosession/", {"q": "ada", "session_type__exact": "agent"})
    assert response.status_code == 200
    assert "s0" in response.content.decode()
    session_queries = [q["sql"] for q in captured.captured_queries if "agno_sessions" in q["sql"]]
    assert session_queries
    for sql in session_queries:
        for column in ("runs", "agent_data", "metadata", "summary", "team_data", "workflow_data"):
            assert f'."{column}"' not in sql


def test_admin_shows_a_session_read_only_with_links_to_the_dashboard(admin_client, session):
    response = admin_client.get(reverse("admin:sessions_ui_agnosession_change", args=[session.session_id]))
    html = unescape(response.content.decode())
    assert response.status_code == 200
    assert reverse("sessions_ui:edit", args=[session.session_id]) in html
    assert '"visits": 2' in html
    assert 'name="_save"' not in html
    before = raw_row(session.session_id)
    response = admin_client.post(reverse("admin:sessions_ui_agnosession_change", args=[session.session_id]), {})
    assert response.status_code == 403
    assert admin_client.get(reverse("admin:sessions_ui_agnosession_add")).status_code == 403
    response = admin_client.post(
        reverse("admin:sessions_ui_agnosession_delete", args=[session.session_id]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert raw_row(session.session_id) == before


def test_admin_history_and_log_show_dashboard_edits(admin_client, session):
    admin_client.post(edit_url(session.session_id), {"session_name": "Renamed", "updated_at": session.updated_at})
    response = admin_client.get(reverse("admin:sessions_ui_agnosession_history", args=[session.session_id]))
    assert "Changed session name" in unescape(response.content.decode())
    response = admin_client.get(reverse("admin:admin_logentry_changelist"))
    assert "Changed session name" in unescape(response.content.decode())


def test_admin_runs_list_without_a_runs_table(admin_client):
    with agno_connection().cursor() as cursor:
        cursor.execute(f"DROP TABLE {quoted_table(settings.AGNO_RUNS_TABLE)}")
    from sessions_ui.schema import forget_layout

    forget_layout()
    response = admin_client.get(reverse("admin:sessions_ui_agnorun_changelist"))
    assert response.status_code == 200


def test_admin_runs_list_defers_run_data(admin_client, sessions_3x):
    with CaptureQueriesContext(agno_connection()) as captured:
        response = admin_client.get(reverse("admin:sessions_ui_agnorun_changelist"), {"session_id": "s2"})
    assert response.status_code == 200
    assert not [q for q in captured.captured_queries if '"run_data"' in q["sql"]]


def test_logout_works(admin_client):
    response = admin_client.post(reverse("logout"))
    assert response.status_code == 302
    response = admin_client.get("/sessions/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_login_page_is_styled_like_the_dashboard(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert "css/app.css" in response.content.decode()


# Agno reads our writes: the real agno 2.x (runs inline) and 3.x (runs table), in a subprocess.


@pytest.mark.agno
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("version", AGNO_VERSIONS)
def test_agno_reads_our_edit_back_with_its_runs_untouched_and_keeps_going(version, fake_openai_url, client):
    db = agno_db()
    session_id = f"edited by an admin / agno {version}"
    write_with_agno(version, db, fake_openai_url, "agent", session_id, "weather-agent", "ada@example.com", "Lisbon?")
    before = agno_get_session(version, db, session_id)
    client.force_login(make_user("admin", superuser=True))
    row = AgnoSession.objects.get(pk=session_id)

    response = client.post(
        edit_url(session_id),
        {
            "session_name": "Renamed by an admin",
            "session_state": '{"city": "Porto", "nested": {"days": [1, 2]}}',
            "metadata": '{"reviewed": true}',
            "summary_text": "Asked about Lisbon.",
            "summary_topics": "weather\ntravel",
            "updated_at": row.updated_at,
        },
    )
    assert response.status_code == 302

    after = agno_get_session(version, db, session_id)
    assert after["session_data"]["session_name"] == "Renamed by an admin"
    assert after["session_data"]["session_state"] == {"city": "Porto", "nested": {"days": [1, 2]}}
    untouched = set(before["session_data"]) - {"session_name", "session_state"}
    assert {key: after["session_data"][key] for key in untouched} == {
        key: before["session_data"][key] for key in untouched
    }
    assert after["metadata"] == {"reviewed": True}
    assert (after["summary"]["summary"], after["summary"]["topics"]) == ("Asked about Lisbon.", ["weather", "travel"])
    assert after["runs"] == before["runs"]
    assert after["agent_data"] == before["agent_data"]

    # Agno carries on with the edited session: the name stays, the new run joins the old one.
    write_with_agno(version, db, fake_openai_url, "agent", session_id, "weather-agent", "ada@example.com", "Kyoto?")
    later = agno_get_session(version, db, session_id)
    assert later["session_data"]["session_name"] == "Renamed by an admin"
    assert [run["run_id"] for run in later["runs"]][:1] == [run["run_id"] for run in before["runs"]]
    assert len(later["runs"]) == 2


@pytest.mark.agno
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("version", AGNO_VERSIONS)
def test_agno_stale_edit_after_a_real_agno_run_is_refused(version, fake_openai_url, client):
    db = agno_db()
    session_id = f"stale / agno {version}"
    write_with_agno(version, db, fake_openai_url, "agent", session_id, "weather-agent", "ada@example.com", "Lisbon?")
    client.force_login(make_user("admin", superuser=True))
    loaded = AgnoSession.objects.get(pk=session_id).updated_at
    time.sleep(1.1)  # Agno's updated_at has a resolution of one second
    write_with_agno(version, db, fake_openai_url, "agent", session_id, "weather-agent", "ada@example.com", "Kyoto?")
    before = agno_get_session(version, db, session_id)

    response = client.post(edit_url(session_id), {"session_name": "Too late", "updated_at": loaded})

    assert response.status_code == 409
    assert agno_get_session(version, db, session_id) == before


@pytest.mark.agno
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("version", AGNO_VERSIONS)
def test_agno_bulk_delete_removes_exactly_the_chosen_sessions_and_their_runs(version, fake_openai_url, client):
    db = agno_db()
    written = write_with_agno(version, db, fake_openai_url, "full", "bulk-")
    chosen = [
        entry["session_id"] for entry in written if entry["session_id"].endswith(("team-travel", "agent-weather"))
    ]
    kept = sorted(entry["session_id"] for entry in written if entry["session_id"] not in chosen)
    assert len(chosen) == 2 and kept
    kept_runs = {session_id: run_ids(session_id) for session_id in kept}
    client.force_login(make_user("admin", superuser=True))

    response = client.post(BULK_DELETE_URL, {"session_ids": chosen, "confirm": "yes"})

    assert response.status_code == 302
    assert agno_get_sessions(version, db, chosen) == [None, None]
    assert sorted(session["session_id"] for session in agno_get_sessions(version, db)) == kept
    assert {session_id: run_ids(session_id) for session_id in kept} == kept_runs
    with agno_connection().cursor() as cursor:
        if table_columns(settings.AGNO_RUNS_TABLE):
            cursor.execute(
                f"SELECT count(*) FROM {quoted_table(settings.AGNO_RUNS_TABLE)} WHERE session_id IN (%s, %s)", chosen
            )
            assert cursor.fetchone()[0] == 0


# --- Issue 19, item 5: a delete comes back to the list's page it was asked from.


def test_the_list_toolbar_sends_the_lists_place_on(deleter_client, sessions_3x, monkeypatch):
    monkeypatch.setattr(queries.pages, "LIST_PAGE_SIZE", 1)
    html = deleter_client.get("/sessions/?user_id=ada%40example.com&page=2&after=1%3As0").content.decode()
    toolbar = html[html.index('id="bulk-delete"') : html.index("</form>", html.index('id="bulk-delete"'))]
    assert '<input type="hidden" name="user_id" value="ada@example.com">' in toolbar
    assert '<input type="hidden" name="page" value="2">' in toolbar
    assert '<input type="hidden" name="after" value="1:s0">' in toolbar


@pytest.mark.parametrize("confirm", [{"session_ids": ["s1"]}, {"session_ids": ["s1"], "confirm": "yes"}])
def test_a_bulk_delete_comes_back_to_the_same_page_of_the_same_list(deleter_client, sessions_3x, confirm):
    place = {"user_id": "ada@example.com", "sort": "-created_at", "page": "3", "after": "1:s0"}
    response = deleter_client.post(BULK_DELETE_URL, place | confirm)
    if "confirm" in confirm:
        assert response.status_code == 302
        assert response["Location"] == "/sessions/?user_id=ada%40example.com&sort=-created_at&page=3&after=1%3As0"
        assert not AgnoSession.objects.filter(pk="s1").exists()
    else:
        html = response.content.decode()
        for name, value in place.items():
            assert f'<input type="hidden" name="{name}" value="{value}">' in html
        assert 'href="/sessions/?user_id=ada%40example.com&amp;sort=-created_at&amp;page=3&amp;after=1%3As0"' in html


def test_a_delete_drops_a_place_that_is_not_one(deleter_client, sessions_3x):
    garbage = {"user_id": "bob@example.com", "page": "x", "after": "nowhere", "before": "", "session_ids": ["s2"]}
    response = deleter_client.post(BULK_DELETE_URL, garbage | {"confirm": "yes"})
    assert response.status_code == 302
    assert response["Location"] == "/sessions/?user_id=bob%40example.com"


def test_a_single_delete_from_the_list_comes_back_to_its_page(deleter_client, sessions_3x):
    response = deleter_client.post(delete_url("s0"), {"type": "agent", "page": "2", "before": "5:s9", "confirm": "yes"})
    assert response.status_code == 302
    assert response["Location"] == "/sessions/?type=agent&page=2&before=5%3As9"
