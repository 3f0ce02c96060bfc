"""The list's export (issue 15): /sessions/export.csv and .jsonl, the filtered list streamed, safe to open."""

from __future__ import annotations

import csv
import io
import json
import time
from html import unescape

import pytest
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext

from sessions_ui import list_export
from sessions_ui.models import AgnoSession
from sessions_ui.schema import agno_connection
from sessions_ui.sources import reverse
from tests.factories import create_session, make_agent_run

pytestmark = pytest.mark.django_db

NOW = int(time.time())
CSV_URL, JSONL_URL = "/sessions/export.csv", "/sessions/export.jsonl"


def body(response) -> str:
    assert response.streaming
    return b"".join(response.streaming_content).decode()


def csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(body(response))))


def jsonl_rows(response) -> list[dict]:
    return [json.loads(line) for line in body(response).splitlines()]


@pytest.fixture
def three(db):
    create_session(session_id="old", user_id="ada@example.com", created_at=NOW - 300)
    create_session(
        session_id="mid",
        user_id="bob@example.com",
        created_at=NOW - 200,
        session_data={"session_name": '=HYPERLINK("http://evil")', "session_metrics": {"total_tokens": 42}},
    )
    create_session(session_id="new", user_id="ada@example.com", created_at=NOW - 100, runs=[make_agent_run("new")])


def test_csv_has_a_header_and_one_line_per_session_of_the_filtered_list_in_its_order(viewer_client, three):
    response = viewer_client.get(CSV_URL, {"user_id": "ada@example.com", "sort": "created_at"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'attachment; filename="sessions.csv"' == response["Content-Disposition"]
    rows = csv_rows(response)
    assert [row["session_id"] for row in rows] == ["old", "new"]
    assert list(rows[0]) == list(list_export.COLUMNS)
    assert rows[0]["user_id"] == "ada@example.com"
    assert rows[0]["component_name"] == "Research Assistant"


def test_jsonl_lines_carry_the_list_columns_with_numbers_and_utc_times(viewer_client, three):
    rows = jsonl_rows(viewer_client.get(JSONL_URL, {"q": "mid"}))
    assert [row["session_id"] for row in rows] == ["mid"]
    assert rows[0]["total_tokens"] == 42
    assert rows[0]["session_name"] == '=HYPERLINK("http://evil")'  # JSON is data: left as stored
    assert rows[0]["created_at"].endswith("+00:00")
    assert set(rows[0]) == set(list_export.COLUMNS)


def test_csv_cells_a_spreadsheet_would_run_are_prefixed(viewer_client, db):
    for session_id, user in (("f1", "+1 555"), ("f2", "-2"), ("f3", "@SUM(A1)"), ("f4", "\tx"), ("f5", "plain")):
        create_session(session_id=session_id, user_id=user, agent_id=None)
    create_session(session_id="=cmd|' /C calc'!A0", user_id="x")
    rows = {row["session_id"]: row for row in csv_rows(viewer_client.get(CSV_URL))}
    assert rows["'=cmd|' /C calc'!A0"]["user_id"] == "x"
    assert {rows[key]["user_id"] for key in ("f1", "f2", "f3", "f4", "f5")} == {
        "'+1 555",
        "'-2",
        "'@SUM(A1)",
        "'\tx",
        "plain",
    }


def test_csv_formula_name_is_prefixed(viewer_client, three):
    rows = {row["session_id"]: row for row in csv_rows(viewer_client.get(CSV_URL))}
    assert rows["mid"]["session_name"] == '\'=HYPERLINK("http://evil")'
    assert rows["mid"]["total_tokens"] == "42"


def test_the_export_never_reads_the_runs_or_the_component_config(viewer_client, three):
    with CaptureQueriesContext(agno_connection()) as queries:
        rows = jsonl_rows(viewer_client.get(JSONL_URL))
    assert len(rows) == 3
    sql = " ".join(query["sql"] for query in queries.captured_queries if "agno_sessions" in query["sql"])
    assert sql
    assert '"runs"' not in sql.replace('"agno_runs"', "")
    assert "run_data" not in sql


def test_the_rows_are_streamed_from_a_cursor_in_chunks_never_loaded_whole(viewer_client, db, monkeypatch):
    for number in range(7):
        create_session(session_id=f"s{number}", created_at=NOW - number)
    monkeypatch.setattr(list_export, "CHUNK", 2)

    fetch_all = QuerySet._fetch_all

    def refuse(self):
        assert self.model is not AgnoSession, "the export loaded a whole queryset of sessions"
        fetch_all(self)

    monkeypatch.setattr(QuerySet, "_fetch_all", refuse)
    response = viewer_client.get(CSV_URL)
    pieces = [piece.decode() for piece in response.streaming_content]
    assert len(pieces) == 1 + 4  # the header, then 2 + 2 + 2 + 1 lines
    assert [row.split(",")[0] for row in "".join(pieces).splitlines()[1:]] == [f"s{n}" for n in range(7)]


def test_an_empty_list_exports_only_the_header(viewer_client, three):
    assert body(viewer_client.get(CSV_URL, {"user_id": "nobody"})).splitlines() == [",".join(list_export.COLUMNS)]
    assert body(viewer_client.get(JSONL_URL, {"user_id": "nobody"})) == ""


@pytest.mark.parametrize(
    "params, said",
    [
        ({"sort": "size!"}, "is not a sort order"),
        ({"type": "robot"}, "is not a session type"),
        ({"created_after": "yesterday"}, "is not a date"),
        ({"runs": "1"}, "as JSON Lines only"),
        ({"runs": "yes"}, "as JSON Lines only"),
    ],
)
def test_parameters_that_do_not_validate_are_refused_not_ignored(viewer_client, three, params, said):
    response = viewer_client.get(CSV_URL, params)
    assert response.status_code == 400
    assert said in response.content.decode()


def test_the_page_and_live_parameters_are_not_part_of_the_export(viewer_client, three):
    rows = csv_rows(viewer_client.get(CSV_URL, {"page": "nope", "after": "junk", "live": "1"}))
    assert len(rows) == 3


def test_export_needs_the_view_permission(client, three, django_user_model):
    assert client.get(CSV_URL).status_code == 302
    client.force_login(django_user_model.objects.create_user("nobody"))
    assert client.get(JSONL_URL).status_code == 403


def test_a_session_named_like_the_export_keeps_its_own_page(viewer_client, db):
    create_session(session_id="export.csv", session_data={"session_name": "Not the export"})
    assert "Not the export" in viewer_client.get("/sessions/export.csv/").content.decode()
    assert body(viewer_client.get("/sessions/export.csv")).startswith("session_id,")


def test_the_list_links_to_the_export_of_its_filters_and_sort(viewer_client, three):
    html = unescape(
        viewer_client.get(
            "/sessions/", {"user_id": "ada@example.com", "sort": "created_at", "page": "1"}
        ).content.decode()
    )
    assert 'href="/sessions/export.csv?user_id=ada%40example.com&sort=created_at"' in html
    assert 'href="/sessions/export.jsonl?user_id=ada%40example.com&sort=created_at"' in html


def test_a_user_page_links_to_the_export_of_that_user(viewer_client, three):
    html = unescape(viewer_client.get("/sessions/users/ada@example.com/").content.decode())
    assert 'href="/sessions/export.csv?user_id=ada%40example.com"' in html
    rows = csv_rows(viewer_client.get("/sessions/export.csv?user_id=ada%40example.com"))
    assert [row["session_id"] for row in rows] == ["new", "old"]


def test_a_download_cancelled_midway_closes_its_cursor(db, monkeypatch):
    for number in range(7):
        create_session(session_id=f"c{number}", created_at=NOW - number)
    monkeypatch.setattr(list_export, "CHUNK", 2)
    # What StreamingHttpResponse.close() calls when a client goes away: the export's close().
    lines = list_export.export(AgnoSession.objects.order_by("-created_at", "session_id"), "jsonl")
    assert json.loads(next(lines).splitlines()[0])["session_id"] == "c0"
    connection = agno_connection()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_cursors WHERE name LIKE '_django_curs_%%'")
            assert cursor.fetchone()[0] == 1  # the export's server-side cursor
    lines.close()
    assert AgnoSession.objects.count() == 7
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_cursors WHERE name LIKE '_django_curs_%%'")
            assert cursor.fetchone()[0] == 0  # closed with the download


def test_each_export_is_in_the_audit_log_with_its_filters_and_rows(viewer_client, viewer, three):
    from django.contrib.admin.models import LogEntry

    from sessions_ui.changes import EXPORT

    body(viewer_client.get(CSV_URL, {"user_id": "ada@example.com", "sort": "created_at"}))
    body(viewer_client.get(JSONL_URL))
    entries = list(LogEntry.objects.filter(action_flag=EXPORT).order_by("pk"))
    assert [(entry.user, entry.object_id, entry.object_repr) for entry in entries] == [
        (viewer, None, "sessions.csv"),
        (viewer, None, "sessions.jsonl"),
    ]
    assert (
        entries[0].change_message == "Exported the list as CSV (user_id=ada@example.com, sort=created_at). 2 sessions."
    )
    assert entries[1].change_message == "Exported the list as JSONL (no filters). 3 sessions."
    assert viewer_client.get(CSV_URL, {"size_min": "huge"}).status_code == 400  # refused: nothing exported, no entry
    assert LogEntry.objects.filter(action_flag=EXPORT).count() == 2

    page = unescape(viewer_client.get(reverse("sessions_ui:audit")).content.decode())
    assert page.count(">exported</span>") == 2
    assert "Exported the list as CSV (user_id=ada@example.com, sort=created_at). 2 sessions." in page
    exports_only = unescape(viewer_client.get(reverse("sessions_ui:audit"), {"action": "export"}).content.decode())
    assert exports_only.count(">exported</span>") == 2
    assert '<option value="export" selected>' in exports_only


def test_a_download_cancelled_midway_is_in_the_audit_log_as_stopped(viewer, db, monkeypatch):
    from sessions_ui import changes

    for number in range(7):
        create_session(session_id=f"c{number}", created_at=NOW - number)
    monkeypatch.setattr(list_export, "CHUNK", 2)
    entry = changes.log_export(viewer, "jsonl", [])
    ends = []
    lines = list_export.export(
        AgnoSession.objects.order_by("-created_at", "session_id"), "jsonl", lambda *end: ends.append(end)
    )
    next(lines)
    lines.close()  # what the response's close() calls when the client goes away
    assert ends == [(2, False)]  # the first chunk, of two lines
    changes.exported(entry, 2, complete=False)
    entry.refresh_from_db()
    assert entry.change_message == "Exported the list as JSONL (no filters). Stopped after 2 sessions."


@pytest.mark.parametrize("run_layout", ["2", "3"])
def test_runs_1_exports_each_session_whole_in_agnos_shape(viewer_client, db, monkeypatch, run_layout):
    from sessions_ui import queries

    monkeypatch.setattr(list_export, "FULL_CHUNK", 2)
    for number in range(5):
        runs = [make_agent_run(f"w{number}", seed=i, run_id=f"w{number}-{i}") for i in range(number % 3)]
        create_session(session_id=f"w{number}", created_at=NOW - number, runs=runs, layout=run_layout)
    lines = jsonl_rows(viewer_client.get(JSONL_URL, {"runs": "1", "sort": "created_at"}))
    assert [line["session_id"] for line in lines] == ["w4", "w3", "w2", "w1", "w0"]
    for line in lines:
        assert line == json.loads(json.dumps(queries.session_export(line["session_id"]), default=str))
    assert [len(line["runs"] or []) for line in lines] == [1, 0, 2, 1, 0]
    filtered = jsonl_rows(viewer_client.get(JSONL_URL, {"runs": "1", "runs_min": "2"}))
    assert [line["session_id"] for line in filtered] == ["w2"]
