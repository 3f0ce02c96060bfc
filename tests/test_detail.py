"""The session detail page: header, panels, runs timeline (paged, nested, expanded in place), export."""

from __future__ import annotations

import json
import re
import time
from html import unescape
from html.parser import HTMLParser
from urllib.parse import quote, unquote, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse

from sessions_ui import agno, queries
from sessions_ui.bulk_write import write_sessions
from sessions_ui.demo import make_session
from sessions_ui.schema import agno_connection, quoted_table
from sessions_ui.views import RUNS_PER_PAGE
from tests.factories import create_session, make_agent_run

pytestmark = pytest.mark.django_db

NOW = int(time.time())
HTMX = {"HTTP_HX_REQUEST": "true"}
LAYOUTS = pytest.mark.parametrize("layout", ["2", "3"], ids=["agno2-inline", "agno3-table"])


def seed(index: int, *, runs: int = 1, layout: str = "3", **row) -> agno.Session:
    """Demo session `index` (index % 5: 0-2 agent, 3 team, 4 workflow) written in the given layout."""
    demo = make_session(index, now=NOW, runs=runs)
    demo.row.update(row)
    write_sessions(agno_connection(), [demo], layout=layout)
    return demo


def detail(client, session_id: str, query: str = "", **extra):
    return client.get(reverse("sessions_ui:detail", args=[session_id]) + query, **extra)


def text_of(response) -> str:
    """The page's text with tags dropped and entities decoded, for asserting what a reader sees."""
    return unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))


def run_entries(html: str) -> list[str]:
    return re.findall(r'<details class="run [^"]*" id="run-([^"]+)"', html)


# --- Header and panels ---------------------------------------------------------------------------


@LAYOUTS
def test_agent_session_header_summary_and_panels(viewer_client, layout):
    demo = seed(0, runs=2, layout=layout, metadata={"source": "web", "nested": {"a": [1, 2]}})
    demo.row["summary"] = None
    response = detail(viewer_client, demo.row["session_id"])
    assert response.status_code == 200
    page = text_of(response)
    assert demo.row["session_id"] in page
    assert "Research Assistant" in page and "research-agent" in page and "gpt-4o" in page
    total = demo.row["session_data"]["session_metrics"]["total_tokens"]
    assert f"{total:,}" in page
    html = response.content.decode()
    assert f"?user_id={quote(demo.row['user_id'], safe='')}" in html
    assert 'id="session-actions"' in html
    assert reverse("sessions_ui:export", args=[demo.row["session_id"]]) in html
    assert "nested" in page and "web" in page  # metadata, readable
    assert 'class="raw"' in html  # and as raw JSON
    assert len(run_entries(html)) == 2


def test_summary_topics_and_state(viewer_client):
    session = create_session(
        session_data={"session_name": "Trip", "session_state": {"city": "Kyoto", "days": 3}},
        summary={"summary": "The user planned a **trip**.", "topics": ["travel", "japan"], "updated_at": NOW},
    )
    response = detail(viewer_client, session.session_id)
    assert "The user planned a <strong>trip</strong>." in response.content.decode()
    page = text_of(response)
    assert "travel" in page and "japan" in page
    assert "Kyoto" in page and "city" in page


# --- Runs: agent, team, workflow -----------------------------------------------------------------


@LAYOUTS
def test_expanding_an_agent_run_shows_messages_tool_call_and_answer(viewer_client, layout):
    demo = seed(1, runs=1, layout=layout)
    [run] = demo.runs
    html = detail(viewer_client, demo.row["session_id"]).content.decode()
    assert run_entries(html) == [run["run_id"]]
    assert run["tools"][0]["result"] not in unescape(html)  # collapsed: content loads on expansion
    response = viewer_client.get(reverse("sessions_ui:run", args=[demo.row["session_id"], run["run_id"]]), **HTMX)
    assert response.status_code == 200
    body = text_of(response)
    for role in ("system", "user", "assistant", "tool"):
        assert role in body
    assert run["input"]["input_content"] in body
    tool = run["tools"][0]
    assert tool["tool_name"] in body
    assert json.dumps(tool["tool_args"], indent=2) in body
    assert tool["result"] in body
    assert "first finding" in body or "could not complete" in body


def test_failed_tool_call_is_highlighted(viewer_client):
    run = make_agent_run("s-fail")
    run["tools"][0].update(tool_call_error=True, result="Error: upstream timed out")
    create_session(session_id="s-fail", runs=[run])
    html = viewer_client.get(reverse("sessions_ui:run", args=["s-fail", run["run_id"]]), **HTMX).content.decode()
    assert 'class="tool error"' in html
    assert "Error: upstream timed out" in html
    assert "failed" in detail(viewer_client, "s-fail").content.decode()


@LAYOUTS
def test_team_member_runs_flat_with_parent_run_id_nest_under_the_team_run(viewer_client, layout):
    demo = seed(3, runs=2, layout=layout)
    html = detail(viewer_client, demo.row["session_id"]).content.decode()
    teams = [run for run in demo.runs if "team_name" in run]
    members = [run for run in demo.runs if run.get("parent_run_id")]
    assert len(teams) == 2 and len(members) == 4
    assert run_entries(html)[:3] == [teams[0]["run_id"], members[0]["run_id"], members[1]["run_id"]]
    assert 'Runs <span class="muted">2</span>' in html  # member runs are not runs of the session
    team_entry = html[html.index(f'id="run-{teams[0]["run_id"]}"') : html.index(f'id="run-{teams[1]["run_id"]}"')]
    assert '<ol class="members"' in team_entry and "Flight Finder" in team_entry and "Hotel Scout" in team_entry
    member = viewer_client.get(reverse("sessions_ui:run", args=[demo.row["session_id"], members[0]["run_id"]]), **HTMX)
    assert members[0]["tools"][0]["tool_name"] in text_of(member)


@LAYOUTS
def test_team_member_runs_stored_only_in_member_responses(viewer_client, layout):
    demo = make_session(3, now=NOW, runs=1)
    members, team = demo.runs[:-1], demo.runs[-1]
    team["member_responses"] = members
    demo.runs = [team]
    write_sessions(agno_connection(), [demo], layout=layout)
    html = detail(viewer_client, demo.row["session_id"]).content.decode()
    assert run_entries(html) == [team["run_id"], members[0]["run_id"], members[1]["run_id"]]
    response = viewer_client.get(
        reverse("sessions_ui:run", args=[demo.row["session_id"], members[1]["run_id"]]), **HTMX
    )
    assert response.status_code == 200
    assert members[1]["tools"][0]["tool_name"] in text_of(response)


@LAYOUTS
def test_workflow_steps_in_order_with_nested_parallel_steps(viewer_client, layout):
    demo = seed(4, runs=1, layout=layout)
    [run] = demo.runs
    html = viewer_client.get(reverse("sessions_ui:run", args=[demo.row["session_id"], run["run_id"]]), **HTMX)
    body = text_of(html)
    steps = re.findall(r'<span class="step-name">([^<]*)</span>', html.content.decode())
    assert steps == ["Research", "Outline", "Fact check", "Check sources", "Check style", "Write"]
    assert "Parallel" in body and "Writers Team" in body and "lint_prose" in body


def test_mixed_layouts_merge_and_deduplicate(viewer_client):
    demo = make_session(0, now=NOW, runs=4)
    old, new = demo.runs[:2], demo.runs[2:]
    write_sessions(agno_connection(), [type(demo)(row=demo.row, runs=old)], layout="2")
    rows = type(demo)(row={**demo.row, "session_id": "unused"}, runs=[old[1], *new])
    write_sessions(agno_connection(), [rows], layout="3")
    with agno_connection().cursor() as cursor:
        cursor.execute(
            f"UPDATE {quoted_table('agno_runs')} SET session_id = %s WHERE session_id = 'unused'",
            [demo.row["session_id"]],
        )
    html = detail(viewer_client, demo.row["session_id"]).content.decode()
    assert run_entries(html) == [run["run_id"] for run in demo.runs]


# --- Huge sessions -------------------------------------------------------------------------------


@pytest.fixture
def long_session():
    return seed(0, runs=RUNS_PER_PAGE * 2 + 20, layout="3")


@pytest.mark.parametrize("layout", ["2", "3"], ids=["agno2-inline", "agno3-table"])
def test_huge_session_renders_its_runs_in_pages(viewer_client, layout):
    demo = seed(0, runs=RUNS_PER_PAGE * 2 + 20, layout=layout)
    session_id = demo.row["session_id"]
    ids = [run["run_id"] for run in demo.runs]
    html = detail(viewer_client, session_id).content.decode()
    assert run_entries(html) == ids[:RUNS_PER_PAGE]
    runs_url = reverse("sessions_ui:runs", args=[session_id])
    assert f'hx-get="{runs_url}?page=2"' in html
    assert "?page=2#runs" in html  # and a plain link without JavaScript
    second = viewer_client.get(f"{runs_url}?page=2", **HTMX).content.decode()
    assert run_entries(second) == ids[RUNS_PER_PAGE : RUNS_PER_PAGE * 2]
    assert f'hx-get="{runs_url}?page=3"' in second
    third = viewer_client.get(f"{runs_url}?page=3", **HTMX).content.decode()
    assert run_entries(third) == ids[RUNS_PER_PAGE * 2 :]
    assert "hx-get" not in third.replace('hx-get="/sessions/', "")  # no further "load more"
    assert "page=4" not in third
    assert run_entries(detail(viewer_client, session_id, "?page=3").content.decode()) == ids[RUNS_PER_PAGE * 2 :]
    assert run_entries(detail(viewer_client, session_id, "?page=999").content.decode()) == ids[RUNS_PER_PAGE * 2 :]
    assert run_entries(detail(viewer_client, session_id, "?page=x").content.decode()) == ids[:RUNS_PER_PAGE]


def test_runs_fragment_without_htmx_opens_the_page(viewer_client, long_session):
    session_id = long_session.row["session_id"]
    response = viewer_client.get(reverse("sessions_ui:runs", args=[session_id]) + "?page=2")
    assert response.status_code == 302
    assert response["Location"] == reverse("sessions_ui:detail", args=[session_id]) + "?page=2#runs"


def test_timeline_pages_runs_in_order(long_session):
    timeline = queries.run_timeline(long_session.row["session_id"])
    page = timeline[0:RUNS_PER_PAGE]
    assert [run.run_id for run in page] == [run["run_id"] for run in long_session.runs[:RUNS_PER_PAGE]]


@pytest.mark.postgresql  # SQLite, the small embedded case, decodes whole runs in Python
def test_postgresql_pages_ship_previews_not_whole_runs(long_session):
    timeline = queries.run_timeline(long_session.row["session_id"])
    page = timeline[0:RUNS_PER_PAGE]
    assert all(run.messages == [] and len(run.content) <= 400 for run in page)
    assert page[0].tools[0].name == long_session.runs[0]["tools"][0]["tool_name"]
    assert page[0].metrics.tokens == long_session.runs[0]["metrics"]["total_tokens"]
    full = timeline.tree(page[0].run_id)
    assert len(full.messages) == 5 and full.content == long_session.runs[0]["content"]


@pytest.mark.parametrize("layout", ["2", "3"], ids=["agno2-inline", "agno3-table"])
def test_detail_page_query_count_does_not_grow_with_runs(viewer_client, layout):
    small = seed(3, runs=2, layout=layout)
    large = seed(8, runs=RUNS_PER_PAGE + 10, layout=layout)
    detail(viewer_client, small.row["session_id"])  # warm the layout cache and the session
    counts = []
    for demo in (small, large):
        with CaptureQueriesContext(agno_connection()) as captured:
            assert detail(viewer_client, demo.row["session_id"]).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]
    assert counts[1] <= 8


# --- Permalinks ----------------------------------------------------------------------------------


def test_permalink_opens_the_page_holding_the_run_expanded(viewer_client, long_session):
    session_id = long_session.row["session_id"]
    target = long_session.runs[RUNS_PER_PAGE + 3]
    html = detail(viewer_client, session_id, f"?run={quote(target['run_id'])}").content.decode()
    assert target["run_id"] in run_entries(html)
    assert run_entries(html)[0] == long_session.runs[RUNS_PER_PAGE]["run_id"]  # page 2
    entry = html[html.index(f'id="run-{target["run_id"]}"') :]
    assert entry.split(">", 1)[0].split("\n")[1].strip().startswith("open")
    assert target["tools"][0]["tool_name"] in unescape(entry.split("</details>")[0])
    assert f"?run={target['run_id']}#run-{target['run_id']}" in html  # each run's permalink


def test_permalink_to_a_member_run_opens_its_team_run(viewer_client):
    demo = seed(3, runs=2, layout="3")
    member = demo.runs[3]  # a member of the second team run
    html = detail(viewer_client, demo.row["session_id"], f"?run={member['run_id']}").content.decode()
    parent = html.index(f'id="run-{member["parent_run_id"]}"')
    own = html.index(f'id="run-{member["run_id"]}"')
    assert parent < own
    assert "open" in html[own : own + 200].split(">")[0]
    assert member["tools"][0]["tool_name"] in unescape(html[own:])


def test_permalink_to_an_unknown_run_says_so(viewer_client):
    demo = seed(0, runs=2)
    response = detail(viewer_client, demo.row["session_id"], "?run=nope")
    assert response.status_code == 200
    assert "no run “nope”" in response.content.decode()
    assert len(run_entries(response.content.decode())) == 2


def test_run_url_without_htmx_redirects_to_the_permalink(viewer_client):
    demo = seed(0, runs=1)
    run_id = demo.runs[0]["run_id"]
    response = viewer_client.get(reverse("sessions_ui:run", args=[demo.row["session_id"], run_id]))
    assert response.status_code == 302
    assert response["Location"].endswith(f"?run={run_id}#run-{run_id}")


# --- Odd ids, 404, access ------------------------------------------------------------------------

ODD_IDS = [
    "a/b/c",
    "with space",
    "ünïcødé-会话-🙂",
    "100%",
    "50%25",
    "what?x=1",
    "hash#tag",
    "trailing/",
    "x/edit",
    "x/delete",
    "x/export",
    "x/runs",
    "x/runs/y",
    "x/compactions/y",
    "x/tool-results/y",
    "x/transcripts",
    "x/preview",
    "users/ada",
    "multi\nline",
]


@pytest.mark.parametrize("session_id", ODD_IDS)
def test_any_session_id_opens_its_detail_page(viewer_client, session_id):
    run = make_agent_run(session_id)
    create_session(session_id=session_id, runs=[run], session_data={"session_state": {}})
    url = reverse("sessions_ui:detail", args=[session_id])
    response = viewer_client.get(url)
    assert response.status_code == 200, url
    assert session_id in text_of(response)
    html = response.content.decode()
    run_url = reverse("sessions_ui:run", args=[session_id, run["run_id"]])
    assert viewer_client.get(run_url, **HTMX).status_code == 200
    assert f'hx-get="{run_url}"' in html
    export = viewer_client.get(reverse("sessions_ui:export", args=[session_id]))
    assert export.status_code == 200 and json.loads(export.content)["session_id"] == session_id


def test_route_suffixes_win_when_both_readings_name_sessions():
    create_session(session_id="x")
    create_session(session_id="x/edit")
    create_session(session_id="y/export")
    assert resolve(reverse("sessions_ui:detail", args=["x/edit"])).url_name == "edit"
    assert resolve(reverse("sessions_ui:detail", args=["y/export"])).func.__name__ == "session_detail"
    assert resolve(reverse("sessions_ui:export", args=["y"])).func.__name__ == "session_detail"
    assert resolve(reverse("sessions_ui:export", args=["x"])).url_name == "export"
    assert resolve(reverse("sessions_ui:export", args=["x/edit"])).url_name == "export"
    assert resolve("/sessions/nope/runs/r1/").url_name == "run"
    assert resolve("/sessions/nope/compactions/c1/").url_name == "compaction"
    assert resolve("/sessions/nope/tool-results/res_1/").url_name == "tool_result"
    assert resolve("/sessions/delete/").url_name == "bulk_delete"


def test_unknown_session_is_a_styled_404_with_a_way_back(viewer_client):
    response = detail(viewer_client, "no-such-session")
    assert response.status_code == 404
    html = response.content.decode()
    assert "There is no session “no-such-session”." in html
    assert f'href="{reverse("sessions_ui:list")}"' in html and "app.css" in html
    assert viewer_client.get(reverse("sessions_ui:export", args=["nope"])).status_code == 404
    assert viewer_client.get(reverse("sessions_ui:run", args=["nope", "r"]), **HTMX).status_code == 404
    assert viewer_client.get(reverse("sessions_ui:runs", args=["nope"]), **HTMX).status_code == 404
    assert viewer_client.get("/sessions/a%00b/").status_code == 404


def test_unknown_run_is_404(viewer_client):
    demo = seed(0, runs=1)
    response = viewer_client.get(reverse("sessions_ui:run", args=[demo.row["session_id"], "nope"]), **HTMX)
    assert response.status_code == 404


def test_anonymous_is_sent_to_login_and_others_get_403(client, django_user_model):
    demo = seed(0, runs=1)
    urls = [
        reverse("sessions_ui:detail", args=[demo.row["session_id"]]),
        reverse("sessions_ui:export", args=[demo.row["session_id"]]),
        reverse("sessions_ui:runs", args=[demo.row["session_id"]]),
        reverse("sessions_ui:run", args=[demo.row["session_id"], demo.runs[0]["run_id"]]),
    ]
    for url in urls:
        assert client.get(url)["Location"].startswith(reverse("login"))
    client.force_login(django_user_model.objects.create_user("nobody"))
    for url in urls:
        assert client.get(url, **HTMX).status_code == 403


# --- Bad and hostile data ------------------------------------------------------------------------


def garbage(text: str) -> str:
    """Stored text that is no JSON object: invalid JSON where the column allows it (SQLite), else a JSON string."""
    return text if connection.vendor == "sqlite" else json.dumps(text)


def test_malformed_fields_are_marked_and_the_rest_renders(viewer_client):
    good = make_agent_run("broken")
    create_session(
        session_id="broken",
        raw=True,
        layout="3",
        runs=[good],
        session_data=garbage('{"session_name": "Broken <b>bits</b>"'),
        metadata=garbage("[not json"),
        summary="[5]",
        agent_data=garbage("<agent>"),
    )
    with agno_connection().cursor() as cursor:
        bad = make_agent_run("broken", seed=2)
        cursor.execute(
            f"INSERT INTO {quoted_table('agno_runs')} (run_id, session_id, run_type, run_data, created_at)"
            " VALUES (%s, 'broken', 'agent', %s, %s)",
            [bad["run_id"], json.dumps("<i>not a run</i>"), NOW],
        )
    response = detail(viewer_client, "broken")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="malformed"') >= 4
    assert "[not json" in html
    assert "&lt;i&gt;not a run&lt;/i&gt;" in html and "<i>not a run" not in html
    assert "<b>bits" not in html
    assert set(run_entries(html)) == {good["run_id"], bad["run_id"]}


@pytest.mark.parametrize("stored", ['"<script>x</script> not a list"', '{"run_id": "<script>x</script>"}', "7"])
@pytest.mark.parametrize("layout", ["2", "3"], ids=["agno2-inline", "agno3-table"])
def test_unreadable_runs_column_is_marked(viewer_client, layout, stored):
    if layout == "3":
        create_session(session_id="odd-runs", runs=[make_agent_run("odd-runs")])
    with agno_connection().cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quoted_table('agno_sessions')} (session_id, session_type, runs, created_at)"
            " VALUES ('bad-runs', 'agent', %s, %s)",
            [stored, NOW],
        )
    response = detail(viewer_client, "bad-runs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "malformed runs column" in html and "<script>x" not in html


class Tags(HTMLParser):
    """Every start tag of a page with its attributes, as a browser's parser would see them."""

    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, list]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, attrs))


HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>"><svg onload=alert(2)>'


def test_hostile_content_is_escaped_everywhere(viewer_client):
    run = make_agent_run("hostile", question=HOSTILE)
    run["run_id"] = 'r"><script>alert(3)</script>'
    run["messages"][4]["content"] = (
        "# Title\n\n[click](javascript:alert(4)) [ok](https://example.com) "
        '<a href="javascript:alert(5)">raw</a>\n\n<script>alert(6)</script>\n\n![img](https://evil.example/t.png)'
    )
    run["content"] = run["messages"][4]["content"]
    run["tools"][0]["tool_name"] = HOSTILE
    run["tools"][0]["result"] = HOSTILE
    run["reasoning_content"] = HOSTILE
    create_session(
        session_id='hostile"><script>alert(7)</script>',
        runs=[run],
        user_id=HOSTILE,
        session_data={"session_name": HOSTILE, "session_state": {HOSTILE: HOSTILE}},
        metadata={"javascript:alert(8)": HOSTILE},
        summary={"summary": f"[x](javascript:alert(9)) {HOSTILE}", "topics": [HOSTILE]},
    )
    session_id = 'hostile"><script>alert(7)</script>'
    pages = [
        detail(viewer_client, session_id).content.decode(),
        detail(viewer_client, session_id, f"?run={quote(run['run_id'])}").content.decode(),
        viewer_client.get(reverse("sessions_ui:run", args=[session_id, run["run_id"]]), **HTMX).content.decode(),
    ]
    for html in pages:
        tags = Tags()
        tags.feed(html)
        scripts = [dict(attributes).get("src") or "" for tag, attributes in tags.found if tag == "script"]
        assert all(src.startswith("/static/") for src in scripts)  # ours, from files: nothing inline
        assert not {tag for tag, _ in tags.found} & {"img", "svg", "iframe", "object"}
        for _, attributes in tags.found:
            for name, value in attributes:
                assert not name.startswith("on"), (name, value)
                if name in ("href", "src", "action", "hx-get"):
                    assert not (value or "").strip().lower().startswith(("javascript:", "data:")), value
    body = pages[2]
    assert "<h1>Title</h1>" in body  # Markdown still renders
    assert 'href="https://example.com"' in body
    assert "&lt;script&gt;alert(6)&lt;/script&gt;" in body


def test_user_text_keeps_its_line_breaks(viewer_client):
    run = make_agent_run("lines", question="line one\nline two")
    create_session(session_id="lines", runs=[run])
    body = viewer_client.get(reverse("sessions_ui:run", args=["lines", run["run_id"]]), **HTMX).content.decode()
    assert '<pre class="text">line one\nline two</pre>' in body


# --- Export --------------------------------------------------------------------------------------


@LAYOUTS
def test_export_is_agnos_session_dict_as_a_download(viewer_client, layout):
    demo = seed(3, runs=2, layout=layout)
    response = viewer_client.get(reverse("sessions_ui:export", args=[demo.row["session_id"]]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"] == f'attachment; filename="session-{demo.row["session_id"]}.json"'
    exported = json.loads(response.content)
    assert list(exported) == list(agno.SESSION_COLUMNS)
    assert exported["session_data"] == demo.row["session_data"]  # decoded, also when double-encoded
    assert exported["team_data"] == demo.row["team_data"]
    assert exported["created_at"] == demo.row["created_at"]
    assert [run["run_id"] for run in exported["runs"]] == [run["run_id"] for run in demo.runs]
    assert exported["runs"][0] == demo.runs[0]


def test_export_of_a_session_without_runs_and_with_odd_values(viewer_client):
    create_session(session_id="ü/odd name", raw=True, metadata=garbage("{broken"), summary="null")
    response = viewer_client.get(reverse("sessions_ui:export", args=["ü/odd name"]))
    exported = json.loads(response.content)
    assert exported["runs"] is None and exported["summary"] is None
    assert exported["metadata"] == garbage("{broken")  # the stored text, as it could not be decoded
    assert "filename*=utf-8''session-%C3%BC_odd_name.json" in response["Content-Disposition"]


def test_run_body_has_copy_as_json(viewer_client):
    demo = seed(0, runs=1)
    run = demo.runs[0]
    html = viewer_client.get(reverse("sessions_ui:run", args=[demo.row["session_id"], run["run_id"]]), **HTMX)
    html = html.content.decode()
    assert "Copy as JSON" in html
    raw = re.search(r'<pre class="raw" data-copy-source>(.*?)</pre>', html, re.S).group(1)
    assert json.loads(unescape(raw)) == run


# --- Acceptance: sessions that real agno 2.x and 3.x wrote ----------------------------------------


def run_body(client, session_id: str, run_id: str) -> str:
    response = client.get(reverse("sessions_ui:run", args=[session_id, run_id]), **HTMX)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.agno
def test_agno_written_agent_session_shows_question_tool_call_answer_and_summary(agno_written, viewer_client):
    entry = agno_written.session("agent-weather")
    stored = entry["agno"]
    page = detail(viewer_client, entry["session_id"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "Lisbon weather" in html and "Weather Bot" in html
    assert run_entries(html) == [run["run_id"] for run in entry["runs"]]
    summary_start = " ".join(stored["summary"]["summary"].split())[:40]
    assert summary_start and summary_start in " ".join(text_of(page).split())
    first, agno_run = entry["runs"][0], stored["runs"][0]
    body = unescape(run_body(viewer_client, entry["session_id"], first["run_id"]))
    assert first["input"] in body
    [tool] = first["tools"]
    assert tool["name"] in body and json.dumps(tool["args"], indent=2) in body and tool["result"] in body
    assert agno_run["content"].split("\n")[0] in body


@pytest.mark.agno
@pytest.mark.parametrize("suffix", ["team-travel", "team-travel-stored"])
def test_agno_written_team_session_shows_member_runs_under_the_team_run(agno_written, viewer_client, suffix):
    entry = agno_written.session(suffix)
    [run] = entry["runs"]
    html = detail(viewer_client, entry["session_id"]).content.decode()
    assert 'Runs <span class="muted">1</span>' in html
    entries = run_entries(html)
    assert entries[0] == run["run_id"] and len(entries) == 3
    team = html[html.index(f'id="run-{run["run_id"]}"') :]
    members = team[team.index('<ol class="members"') :]
    assert "Flight Finder" in members and "Hotel Scout" in members
    for member_id in entries[1:]:
        body = unescape(run_body(viewer_client, entry["session_id"], member_id))
        assert "search_flights" in body or "search_hotels" in body


@pytest.mark.agno
@pytest.mark.parametrize("suffix", ["workflow-blog", "workflow-report"])
def test_agno_written_workflow_session_shows_its_steps_in_order(agno_written, viewer_client, suffix):
    entry = agno_written.session(suffix)
    [run] = entry["runs"]
    html = run_body(viewer_client, entry["session_id"], run["run_id"])
    expected = []
    for step in run["steps"]:
        expected.append(step["name"])
        expected.extend(step.get("steps", []))
    assert re.findall(r'<span class="step-name">([^<]*)</span>', html) == expected
    for step in run["steps"]:
        if step.get("content"):
            assert step["content"] in unescape(html)


# Agno 3.1's compaction records (real agno's are in tests/test_agno31_storage.py)


def create_compactions(*rows: tuple) -> None:
    """agno_compactions as agno 3.1.10 creates it, but created_at as text: SQLite keeps whatever it is given."""
    table = quoted_table("agno_compactions")
    with agno_connection().cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {table} (compaction_id VARCHAR PRIMARY KEY, session_id VARCHAR NOT NULL, run_id VARCHAR,"
            " user_id VARCHAR, first_kept_message_id VARCHAR, summary VARCHAR, archived_messages VARCHAR,"
            " messages_compacted BIGINT, tokens_before BIGINT, tokens_after BIGINT, created_at VARCHAR NOT NULL)"
        )
        for row in rows:
            cursor.execute(
                f"INSERT INTO {table} (compaction_id, session_id, run_id, summary, archived_messages,"
                " messages_compacted, tokens_before, tokens_after, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                row,
            )


def test_a_malformed_compaction_record_is_marked_in_place_and_delete_still_works(viewer_client, admin_client):
    run = make_agent_run("folded")
    create_session(session_id="folded", runs=[run], session_data={"session_state": {}})
    create_compactions(
        ("fold-1", "folded", run["run_id"], "The user asked about **Lisbon**.", "## user\n\nLisbon?", 6, 900, 120,
         "1764590400"),
        ("fold-2", "folded", None, "Later.", None, None, None, None, "not a time"),
        ("fold-3", "another session", None, "Not this one.", None, 1, 1, 1, "1764590400"),
    )  # fmt: skip
    html = detail(viewer_client, "folded").content.decode()
    section = html.split('id="compactions"', 1)[1].split('id="runs"', 1)[0]
    assert section.count('<details class="compaction"') == 2
    assert "6 messages folded" in section and "900 → 120 tok" in section
    assert '<span class="malformed" title="created_at is not a time">malformed</span>' in section
    assert "Not this one." not in html and "Lisbon?" not in section  # the archive loads when opened
    assert ">compacted</span>" in html.split(f'id="run-{run["run_id"]}"', 1)[1].split("</summary>", 1)[0]

    opened = viewer_client.get(reverse("sessions_ui:compaction", args=["folded", "fold-1"]), **HTMX)
    assert "<strong>Lisbon</strong>" in opened.content.decode() and "Lisbon?" in opened.content.decode()
    without_archive = viewer_client.get(reverse("sessions_ui:compaction", args=["folded", "fold-2"]), **HTMX)
    assert "Agno kept no copy of the folded messages" in without_archive.content.decode()
    assert viewer_client.get(reverse("sessions_ui:compaction", args=["folded", "fold-3"]), **HTMX).status_code == 404

    confirmation = admin_client.post(reverse("sessions_ui:delete", args=["folded"])).content.decode()
    assert "<strong>2 compaction records</strong>" in confirmation
    admin_client.post(reverse("sessions_ui:delete", args=["folded"]), {"confirm": "yes"})
    with agno_connection().cursor() as cursor:
        cursor.execute(f"SELECT session_id FROM {quoted_table('agno_compactions')}")
        assert cursor.fetchall() == [("another session",)]


def test_without_a_compactions_table_the_detail_page_has_no_compactions(viewer_client):
    create_session(session_id="plain", runs=[make_agent_run("plain")], session_data={"session_state": {}})
    html = detail(viewer_client, "plain").content.decode()
    assert 'id="compactions"' not in html and "compacted" not in html
    assert viewer_client.get(reverse("sessions_ui:compaction", args=["plain", "x"]), **HTMX).status_code == 404


def test_a_malformed_transcript_entry_is_marked_in_place(viewer_client):
    create_session(session_id="external", runs=[make_agent_run("external")], session_data={"session_state": {}})
    table = quoted_table("agno_transcripts")
    with agno_connection().cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {table} (framework VARCHAR NOT NULL, project_key VARCHAR NOT NULL, session_id VARCHAR NOT NULL,"
            " subpath VARCHAR NOT NULL, position BIGINT NOT NULL, entry_uuid VARCHAR, entry VARCHAR NOT NULL,"
            " agno_session_id VARCHAR NOT NULL, created_at BIGINT NOT NULL,"
            " PRIMARY KEY (framework, project_key, session_id, subpath, position))"
        )
        for position, entry in ((1, '{"type": "user", "message": {"role": "user", "content": "Hi <b>there</b>"}}'),
                                (2, "{not json")):  # fmt: skip
            cursor.execute(
                f"INSERT INTO {table} VALUES ('claude-agent-sdk', 'p', 'sdk-1', '', %s, NULL, %s, 'external', 1)",
                [position, entry],
            )
    html = detail(viewer_client, "external").content.decode()
    assert "claude-agent-sdk <code>sdk-1</code>" in html and "2 entries" in html
    opened = viewer_client.get(reverse("sessions_ui:transcripts", args=["external"]), **HTMX).content.decode()
    assert "Hi &lt;b&gt;there&lt;/b&gt;" in opened
    assert '<span class="malformed" title="not a JSON object">malformed</span>' in opened and "{not json" in opened


# --- Issue 19, item 3: runs numbered 1..N, and a "Copy link" on the session and on each run -----


def run_numbers(html: str) -> list[int]:
    return [int(number) for number in re.findall(r'<span class="run-number" title="Run \d+ of \d+">(\d+)</span>', html)]


def test_runs_are_numbered_across_pages_and_load_more(viewer_client, long_session):
    session_id = long_session.row["session_id"]
    total = len(long_session.runs)
    first = detail(viewer_client, session_id).content.decode()
    assert run_numbers(first) == list(range(1, RUNS_PER_PAGE + 1))
    assert f'title="Run 1 of {total}"' in first
    more = viewer_client.get(reverse("sessions_ui:runs", args=[session_id]) + "?page=2", **HTMX).content.decode()
    assert run_numbers(more) == list(range(RUNS_PER_PAGE + 1, 2 * RUNS_PER_PAGE + 1))
    target = long_session.runs[2 * RUNS_PER_PAGE + 4]
    focused = detail(viewer_client, session_id, f"?run={quote(target['run_id'])}").content.decode()
    assert run_numbers(focused) == list(range(2 * RUNS_PER_PAGE + 1, total + 1))
    entry = focused[focused.index(f'id="run-{target["run_id"]}"') :]
    assert run_numbers(entry.split("</summary>")[0]) == [2 * RUNS_PER_PAGE + 5]


def test_member_runs_get_no_number_of_their_own(viewer_client):
    demo = seed(3, runs=2, layout="3")  # a team: two team runs, each with member runs
    html = detail(viewer_client, demo.row["session_id"]).content.decode()
    assert len(run_entries(html)) > 2
    assert run_numbers(html) == [1, 2]


def test_copy_link_buttons_copy_the_absolute_urls_of_the_session_and_of_each_run(viewer_client):
    session_id = "trip/kyoto & co"
    create_session(session_id=session_id, runs=[make_agent_run(session_id, seed=1), make_agent_run(session_id, seed=2)])
    html = detail(viewer_client, session_id).content.decode()
    copies = [
        unescape(value) for value in re.findall(r'<button type="button" class="copy-link" data-copy="([^"]+)"', html)
    ]
    page = "http://testserver" + reverse("sessions_ui:detail", args=[session_id])
    assert copies[0] == page
    run_ids = run_entries(html)
    assert copies[1:] == [f"{page}?run={quote(run_id, safe='')}#run-{quote(run_id, safe='')}" for run_id in run_ids]
    assert resolve(unquote(urlsplit(copies[0]).path)).kwargs["session_id"] == session_id


def test_go_to_run_n_opens_its_permalink(viewer_client, long_session):
    session_id = long_session.row["session_id"]
    html = detail(viewer_client, session_id).content.decode()
    assert f'name="number" type="number" min="1" max="{len(long_session.runs)}"' in html
    target = long_session.runs[2 * RUNS_PER_PAGE + 4]
    response = detail(viewer_client, session_id, f"?number={2 * RUNS_PER_PAGE + 5}")
    assert response.status_code == 302
    page = reverse("sessions_ui:detail", args=[session_id])
    assert response["Location"] == f"{page}?run={quote(target['run_id'])}#run-{quote(target['run_id'])}"


@pytest.mark.parametrize("number", ["0", "121", "-1", "x", "", "1e3", "99999999999999999999"])
def test_go_to_a_run_that_is_not_one_says_so(viewer_client, long_session, number):
    session_id = long_session.row["session_id"]
    response = detail(viewer_client, session_id, f"?number={quote(number)}", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("sessions_ui:detail", args=[session_id]) + "#runs"
    assert f"is not a run of this session: it has runs 1 to {len(long_session.runs)}." in text_of(response)
