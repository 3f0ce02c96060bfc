"""A run's trace: the spans agno 3.1.10's tracing records (agno_traces, agno_spans), shown as a waterfall.

The contract half lets the real agno 3.1.10 with openinference-instrumentation-agno trace an agent, a
team and a workflow run into the test database (tests/agno/write_agno31.py, scenario `traces`); the
rest writes odd rows by hand: hostile attributes, a missing parent, clock skew, malformed JSON.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import unquote

import pytest
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse

from sessions_ui import queries, sources
from sessions_ui.schema import agno_connection, forget_layout, quoted_table
from tests.agno import agno_db, use_agno_tables, write_with_agno31
from tests.factories import create_session, make_agent_run

HTMX = {"HTTP_HX_REQUEST": "true"}
SESSION_TABLE, RUNS_TABLE = "traced_sessions", "traced_sessions_runs"
TRACE_TABLES = ("agno_spans", "agno_traces")  # agno's names (BaseDb.__init__), spans first: their foreign key


def drop(*tables: str) -> None:
    with agno_connection().cursor() as cursor:
        for table in tables:
            cursor.execute(f"DROP TABLE IF EXISTS {quoted_table(table)}")


@pytest.fixture(scope="module")
def traced(django_db_setup, django_db_blocker, fake_openai_url) -> Iterator[dict]:
    """agno 3.1.10 traces an agent, a team and a workflow run; the manifest's sessions by id suffix."""
    with django_db_blocker.unblock():
        drop(*TRACE_TABLES, RUNS_TABLE, SESSION_TABLE)  # left over by a run with --reuse-db
        manifest = write_with_agno31(
            agno_db(session_table=SESSION_TABLE, runs_table=RUNS_TABLE), fake_openai_url, "traces", "tr-"
        )
        assert (manifest["tables"]["traces"], manifest["tables"]["spans"]) == ("agno_traces", "agno_spans")
        yield {entry["session_id"].removeprefix("tr-traced-"): entry for entry in manifest["sessions"]}
        drop(*TRACE_TABLES, RUNS_TABLE, SESSION_TABLE)


@pytest.fixture
def traced_tables(traced, db) -> Iterator[dict]:
    with use_agno_tables(SESSION_TABLE, RUNS_TABLE):
        yield traced


def stored_spans(trace_id: str) -> dict[str, str | None]:
    """agno's own span rows of one trace: span id -> parent span id."""
    with agno_connection().cursor() as cursor:
        cursor.execute(
            f"SELECT span_id, parent_span_id FROM {quoted_table('agno_spans')} WHERE trace_id = %s", [trace_id]
        )
        return dict(cursor.fetchall())


def check_nesting(spans) -> None:
    """Depth-first, as agno nested them: each span right after its parent's subtree began, one level deeper."""
    path = []
    for span in spans:
        del path[span.depth :]
        assert span.parent_span_id == (path[-1].span_id if path else span.parent_span_id)
        path.append(span)


@pytest.mark.agno
@pytest.mark.parametrize("kind", ["agent", "team", "workflow"])
def test_the_waterfall_holds_every_span_agno_recorded_for_the_run_nested_as_agno_nested_them(traced_tables, kind):
    entry = traced_tables[kind]
    [run] = entry["runs"]
    [trace] = entry["records"]["traces"]
    assert trace["run_id"] == run["run_id"]

    shown = queries.run_trace(entry["session_id"], run["run_id"])

    assert shown.trace.trace_id == trace["trace_id"] and shown.root_span_id == ""
    stored = stored_spans(trace["trace_id"])
    assert len(stored) == entry["counts"]["spans"] > 1
    assert {span.span_id: span.parent_span_id or None for span in shown.spans} == stored
    assert shown.spans[0].depth == 0 and shown.spans[0].name == trace["name"]
    check_nesting(shown.spans)
    assert all(
        span.duration_ms is not None and span.offset_ms is not None and not span.problems for span in shown.spans
    )
    assert shown.spans[0].offset_ms == 0 and shown.spans[0].bar_width > 0
    kinds = {span.kind for span in shown.spans}
    assert "LLM" in kinds and ("TOOL" in kinds or kind == "workflow")


@pytest.mark.agno
def test_a_member_run_shows_its_part_of_the_teams_trace(traced_tables):
    entry = traced_tables["team"]
    with agno_connection().cursor() as cursor:
        cursor.execute(
            f"SELECT run_id FROM {quoted_table(RUNS_TABLE)} WHERE session_id = %s AND parent_run_id IS NOT NULL",
            [entry["session_id"]],
        )
        members = [row[0] for row in cursor.fetchall()]
    assert len(members) == 2
    team_trace = queries.run_trace(entry["session_id"], entry["runs"][0]["run_id"])
    for member in members:
        shown = queries.run_trace(entry["session_id"], member)
        assert shown.trace.trace_id == team_trace.trace.trace_id
        root = shown.spans[0]
        assert root.span_id == shown.root_span_id and root.run_id == member and root.name.endswith(".run")
        assert len(shown.spans) == 4  # the member's run, two model calls and its tool call
        assert {span.name for span in shown.spans[1:]} >= {"OpenAIChat.invoke"}
        assert all(span.depth == 1 for span in shown.spans[1:])
        in_team = {span.span_id for span in team_trace.spans}
        assert {span.span_id for span in shown.spans} < in_team
    # The team's waterfall links the member spans to their runs.
    assert {span.run_id for span in team_trace.spans if span.name.endswith(".run")} == {
        entry["runs"][0]["run_id"],
        *members,
    }


@pytest.mark.agno
def test_the_trace_fragment_the_page_and_a_span_through_the_client(traced_tables, viewer_client):
    entry = traced_tables["agent"]
    session_id, run_id = entry["session_id"], entry["runs"][0]["run_id"]
    [trace] = entry["records"]["traces"]
    url = reverse("sessions_ui:trace", args=[session_id, run_id])

    run_body = viewer_client.get(reverse("sessions_ui:run", args=[session_id, run_id]), **HTMX).content.decode()
    assert f'hx-get="{url}"' in run_body and f'href="{url}"' in run_body  # loaded when opened; a link without JS
    assert trace["trace_id"] not in run_body

    fragment = viewer_client.get(url, **HTMX)
    html = fragment.content.decode()
    assert fragment.status_code == 200 and "<html" not in html
    assert trace["trace_id"] in html and html.count('<li class="span ') == entry["counts"]["spans"]
    assert html.count('<svg class="waterfall"') == entry["counts"]["spans"]
    assert "Traced_Bot.run" in html and "get_weather" in html
    assert "style=" not in html
    assert "Sunny, 21 degrees" not in html  # a span's attributes load when it is opened

    page = viewer_client.get(url).content.decode()
    assert "<html" in page and trace["trace_id"] in page

    [tool] = [span for span in queries.run_trace(session_id, run_id).spans if span.name == "get_weather"]
    span_url = f"{url}?span={tool.span_id}"
    assert f'hx-get="{span_url}"' in html and f'href="{span_url}#span-{tool.span_id}"' in html
    opened = viewer_client.get(span_url, **HTMX).content.decode()
    assert "Sunny, 21 degrees in Lisbon" in opened and "tool.name" in opened and "<html" not in opened
    linked = viewer_client.get(span_url).content.decode()  # without JavaScript: the trace, that span opened
    assert "<html" in linked and "Sunny, 21 degrees in Lisbon" in linked and "Traced_Bot.run" in linked
    other_session = reverse("sessions_ui:trace", args=["tr-traced-team", run_id])
    assert viewer_client.get(other_session, {"span": tool.span_id}, **HTMX).status_code == 404


def span_url(session_id: str, run_id: str, span_id: str) -> str:
    return f"{reverse('sessions_ui:trace', args=[session_id, run_id])}?span={span_id}"


def create_trace_tables() -> None:
    """agno_traces and agno_spans as agno 3.1.10 creates them (agno/db/*/schemas.py)."""
    json_type = "JSONB" if agno_connection().vendor == "postgresql" else "JSON"
    drop(*TRACE_TABLES)
    with agno_connection().cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {quoted_table('agno_traces')} (trace_id VARCHAR PRIMARY KEY, name VARCHAR NOT NULL,"
            " status VARCHAR NOT NULL, start_time VARCHAR NOT NULL, end_time VARCHAR NOT NULL,"
            " duration_ms BIGINT NOT NULL, run_id VARCHAR, session_id VARCHAR, user_id VARCHAR, agent_id VARCHAR,"
            " team_id VARCHAR, workflow_id VARCHAR, created_at VARCHAR NOT NULL)"
        )
        cursor.execute(
            f"CREATE TABLE {quoted_table('agno_spans')} (span_id VARCHAR PRIMARY KEY, trace_id VARCHAR NOT NULL,"
            " parent_span_id VARCHAR, name VARCHAR NOT NULL, span_kind VARCHAR NOT NULL, status_code VARCHAR NOT NULL,"
            " status_message TEXT, start_time VARCHAR NOT NULL, end_time VARCHAR NOT NULL, duration_ms BIGINT NOT NULL,"
            f" attributes {json_type}, created_at VARCHAR NOT NULL)"
        )
    forget_layout()


def insert_span(cursor, span_id, parent, name, start, end, duration, attributes, status="OK", message=None):
    cursor.execute(
        f"INSERT INTO {quoted_table('agno_spans')} (span_id, trace_id, parent_span_id, name, span_kind, status_code,"
        " status_message, start_time, end_time, duration_ms, attributes, created_at)"
        " VALUES (%s, 't1', %s, %s, 'INTERNAL', %s, %s, %s, %s, %s, %s, %s)",
        [span_id, parent, name, status, message, f"2026-12-01T10:00:{start}+00:00", f"2026-12-01T10:00:{end}+00:00",
         duration, attributes, "2026-12-01T10:00:09+00:00"],
    )  # fmt: skip


HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def write_odd_trace(session_id: str, run_id: str) -> None:
    """A trace of the run whose spans are hostile, orphaned, outside their parent, failed and malformed."""
    create_trace_tables()
    with agno_connection().cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quoted_table('agno_traces')} (trace_id, name, status, start_time, end_time, duration_ms,"
            " run_id, session_id, created_at) VALUES ('t1', 'Odd.run', 'ERROR', '2026-12-01T10:00:00+00:00',"
            " '2026-12-01T10:00:05+00:00', 5000, %s, %s, '2026-12-01T10:00:09+00:00')",
            [run_id, session_id],
        )
        insert_span(cursor, "root", None, "Odd.run", "00", "04", 4000, json.dumps({"agno.run.id": run_id}))
        insert_span(
            cursor, "evil", "root", HOSTILE, "01", "02", 1000,
            json.dumps({"openinference.span.kind": HOSTILE, "output.value": HOSTILE, "input.value": '{"a": "<b>"}'}),
            status="ERROR", message=f"Boom {HOSTILE}",
        )  # fmt: skip
        insert_span(cursor, "skewed", "root", "late.child", "03", "05", 2000, "{}")
        insert_span(cursor, "orphan", "gone", "orphan.span", "02", "03", 1000, None)
        if agno_connection().vendor == "sqlite":  # SQLite keeps whatever text it is given; PostgreSQL's JSONB cannot
            insert_span(cursor, "broken", "root", "broken.attributes", "01", "01", 0, "{not json")


@pytest.fixture
def odd_trace(db):
    run = make_agent_run("odd")
    create_session(session_id="odd", runs=[run], session_data={"session_state": {}})
    write_odd_trace("odd", run["run_id"])
    return run


def test_hostile_orphaned_skewed_and_malformed_spans_render_marked_and_escaped(odd_trace, viewer_client):
    url = reverse("sessions_ui:trace", args=["odd", odd_trace["run_id"]])
    response = viewer_client.get(url, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert html.count('<li class="span ') == (5 if agno_connection().vendor == "sqlite" else 4)
    assert "its parent span is missing" in html.split('id="span-orphan"', 1)[1].split("</li>", 1)[0]
    assert "outside its parent&#x27;s time" in html.split('id="span-skewed"', 1)[1].split("</li>", 1)[0]
    failed = html.split('id="span-evil"', 1)[0].rsplit("<li", 1)[1]
    assert "failed" in failed and "Boom &lt;script&gt;" in html
    # 1 s from +1 s, on the 5 s axis from the first start to the last end (the skewed child's): 200 of 1000 units.
    assert '<rect x="200.0" y="1" width="200.0"' in html.split('id="span-evil"', 1)[1]
    spans = {span.span_id: span for span in queries.run_trace("odd", odd_trace["run_id"]).spans}
    assert spans["orphan"].depth == 0 and spans["evil"].depth == 1 and spans["skewed"].depth == 1

    opened = viewer_client.get(span_url("odd", odd_trace["run_id"], "evil"), **HTMX).content.decode()
    assert "<script>alert" not in opened and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in opened
    # A JSON document inside a string value, pretty-printed and escaped.
    assert '<pre class="json">{\n  &quot;a&quot;: &quot;&lt;b&gt;&quot;\n}</pre>' in opened
    if agno_connection().vendor == "sqlite":
        broken = viewer_client.get(span_url("odd", odd_trace["run_id"], "broken"), **HTMX).content.decode()
        assert "malformed attributes" in broken and "{not json" in broken


def test_a_run_without_spans_and_a_database_without_trace_tables_say_no_trace_recorded(viewer_client, monkeypatch):
    run = make_agent_run("untraced")
    create_session(session_id="untraced", runs=[run], session_data={"session_state": {}})
    url = reverse("sessions_ui:trace", args=["untraced", run["run_id"]])
    create_trace_tables()
    empty = viewer_client.get(url, **HTMX)
    assert empty.status_code == 200 and "No trace recorded" in empty.content.decode()
    assert "setup_tracing" in empty.content.decode()

    default = sources.default_source
    monkeypatch.setattr(sources, "default_source", lambda: dataclasses.replace(default(), traces_table="no_traces"))
    forget_layout()
    for response in (viewer_client.get(url, **HTMX), viewer_client.get(url)):
        assert response.status_code == 200 and "No trace recorded" in response.content.decode()
    assert viewer_client.get(span_url("untraced", run["run_id"], "s1"), **HTMX).status_code == 404
    assert viewer_client.get(reverse("sessions_ui:trace", args=["no such session", "r"]), **HTMX).status_code == 404


def test_the_trace_urls_need_the_view_permission(client, db):
    create_session(session_id="closed")
    url = reverse("sessions_ui:trace", args=["closed", "r1"])
    assert client.get(url).status_code == 302
    from tests.conftest import make_user

    client.force_login(make_user("nobody"))
    assert client.get(url).status_code == 403
    assert client.get(span_url("closed", "r1", "s1")).status_code == 403


@pytest.mark.parametrize("session_id", ["x/traces/y", "a b/c", "..", "x/edit", "users/ada"])
def test_the_trace_url_round_trips_free_text_session_ids(session_id, viewer_client):
    create_session(session_id=session_id)
    match = resolve(unquote(reverse("sessions_ui:trace", args=[session_id, "run-1"])))
    assert (match.url_name, match.kwargs) == ("trace", {"session_id": session_id, "run_id": "run-1"})
    response = viewer_client.get(reverse("sessions_ui:trace", args=[session_id, "run-1"]), **HTMX)
    assert response.status_code == 200 and "No trace recorded" in response.content.decode()


def test_a_large_trace_shows_its_first_spans_and_never_reads_their_attributes_for_the_list(viewer_client):
    run = make_agent_run("large")
    create_session(session_id="large", runs=[run], session_data={"session_state": {}})
    create_trace_tables()
    big = json.dumps({"output.value": "x" * 20_000, "agno.run.id": run["run_id"]})
    with agno_connection().cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quoted_table('agno_traces')} (trace_id, name, status, start_time, end_time, duration_ms,"
            " run_id, session_id, created_at) VALUES ('t1', 'Large.run', 'OK', '2026-12-01T10:00:00+00:00',"
            " '2026-12-01T10:00:59+00:00', 59000, %s, 'large', '2026-12-01T10:00:59+00:00')",
            [run["run_id"]],
        )
        insert_span(cursor, "root", None, "Large.run", "00", "59", 59000, big)
        for number in range(queries.traces.MAX_SPANS + 4):
            insert_span(cursor, f"s{number:05}", "root", f"step {number}", "01", "02", 1000, big)

    with CaptureQueriesContext(agno_connection()) as captured:
        html = viewer_client.get(reverse("sessions_ui:trace", args=["large", run["run_id"]]), **HTMX).content.decode()

    assert html.count('<li class="span ') == queries.traces.MAX_SPANS
    assert f"more spans than the first {queries.traces.MAX_SPANS:,}" in html
    assert "x" * 100 not in html
    span_queries = [query["sql"] for query in captured.captured_queries if "agno_spans" in query["sql"]]
    assert span_queries and not any(re.search(r"[ .]attributes\s*(,|FROM)", sql) for sql in span_queries)


@pytest.mark.agno
def test_a_source_other_than_the_default_shows_its_runs_traces_in_its_own_urls(traced, db, admin_client):
    from django.conf import settings
    from django.db import connections

    from tests.agno.fixtures import sources_configured

    config = {"id": "traced", "name": "Traced", "alias": connections["default"].alias,
              "schema": settings.AGNO_DB_SCHEMA, "session_table": SESSION_TABLE, "runs_table": RUNS_TABLE}  # fmt: skip
    entry = traced["team"]
    session_id, run_id = entry["session_id"], entry["runs"][0]["run_id"]
    with sources_configured([config]):
        base = f"/sources/traced/sessions/{session_id}/"
        assert f'hx-get="{base}traces/{run_id}/"' in admin_client.get(f"{base}runs/{run_id}/", **HTMX).content.decode()
        html = admin_client.get(f"{base}traces/{run_id}/", **HTMX).content.decode()
        assert html.count('<li class="span ') == entry["counts"]["spans"]
        assert f'hx-get="{base}traces/{run_id}/?span=' in html and 'href="/sessions/' not in html


def test_every_payload_of_the_xss_corpus_in_a_span_stays_text(viewer_client):
    from tests.hostile.xss import PAYLOADS

    run = make_agent_run("xss")
    create_session(session_id="xss", runs=[run], session_data={"session_state": {}})
    create_trace_tables()
    with agno_connection().cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quoted_table('agno_traces')} (trace_id, name, status, start_time, end_time, duration_ms,"
            " run_id, session_id, created_at) VALUES ('t1', %s, %s, '2026-12-01T10:00:00+00:00',"
            " '2026-12-01T10:00:05+00:00', 5, %s, 'xss', '2026-12-01T10:00:09+00:00')",
            [PAYLOADS[0], PAYLOADS[1], run["run_id"]],
        )
        for number, payload in enumerate(PAYLOADS):
            attributes = {
                payload: payload,
                "openinference.span.kind": payload,
                "input.value": json.dumps({"p": payload}),
            }
            insert_span(cursor, f"x{number:02}", None, payload, "01", "02", 1, json.dumps(attributes), "ERROR", payload)
    url = reverse("sessions_ui:trace", args=["xss", run["run_id"]])
    pages = [viewer_client.get(url, **HTMX), viewer_client.get(url, {"span": "x05"})]
    pages += [viewer_client.get(url, {"span": f"x{number:02}"}, **HTMX) for number in range(len(PAYLOADS))]
    for response in pages:
        assert response.status_code == 200
        assert markup_of(response.content.decode()) <= {"ol", "li", "details", "summary", "span", "svg", "rect", "div",
            "p", "a", "code", "pre", "button", "table", "tr", "th", "td", "strong"}  # fmt: skip


class Markup(HTMLParser):
    """The elements of a page, failing on any attribute that runs script or points at javascript:."""

    def __init__(self):
        super().__init__()
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        for name, value in attrs:
            assert not name.startswith(("on", "hx-on")), (tag, name)
            assert not (value or "").strip().lower().startswith(("javascript", "data:")), (tag, name, value)


def markup_of(html: str) -> set[str]:
    """The fragment's elements (a whole page's are those in <main>... here: the trace's part of it)."""
    if "<html" in html:
        html = html.split('<div class="trace-body">', 1)[1].rsplit("</main>", 1)[0]
    parser = Markup()
    parser.feed(html)
    return parser.tags


@pytest.mark.agno
def test_the_detail_page_tags_the_runs_agno_traced(traced_tables, viewer_client):
    entry = traced_tables["team"]
    team_run = entry["runs"][0]["run_id"]
    html = viewer_client.get(reverse("sessions_ui:detail", args=[entry["session_id"]])).content.decode()
    summaries = {
        part.split('"', 1)[0]: part.split("</summary>", 1)[0] for part in html.split('id="run-')[1:]
    }  # each run entry's summary line, by run id
    assert len(summaries) == 3 and ">traced</span>" in summaries.pop(team_run)
    assert not any(">traced</span>" in summary for summary in summaries.values())  # members: in the team's trace


def test_a_session_without_trace_tables_renders_its_runs_as_before(viewer_client, monkeypatch):
    default = sources.default_source
    monkeypatch.setattr(sources, "default_source", lambda: dataclasses.replace(default(), traces_table="no_traces"))
    run = make_agent_run("plain")
    create_session(session_id="plain", runs=[run], session_data={"session_state": {}})
    html = viewer_client.get(reverse("sessions_ui:detail", args=["plain"])).content.decode()
    assert f'id="run-{run["run_id"]}"' in html and ">traced</span>" not in html


def test_spans_in_a_parent_cycle_or_without_times_are_shown_marked():
    from sessions_ui import agno

    def span(span_id, parent, start="2026-12-01T10:00:00+00:00"):
        return agno.decode_span({"span_id": span_id, "parent_span_id": parent, "name": span_id, "start_time": start,
                                 "end_time": "2026-12-01T10:00:01+00:00", "duration_ms": "1000"})  # fmt: skip

    spans = agno.span_tree([span("a", "b"), span("b", "a"), span("self", "self"), span("timeless", None, "yesterday")])
    by_id = {each.span_id: each for each in spans}
    assert set(by_id) == {"a", "b", "self", "timeless"}
    assert "in a cycle of parent spans" in by_id["a"].problems and by_id["b"].depth == 1
    assert by_id["self"].depth == 0 and by_id["self"].problems == ["its parent span is missing"]
    assert by_id["timeless"].problems == ["start_time is not a time"] and by_id["timeless"].offset_ms is None
    assert by_id["a"].duration_ms == 1000.0 and by_id["a"].bar_width == 1000.0
