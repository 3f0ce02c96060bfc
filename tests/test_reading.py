"""Issue 19, items 4, 6 and 8: one date format, previews that read well, a readable audit log."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from sessions_ui import agno, changes, queries
from sessions_ui.bulk_write import write_sessions
from sessions_ui.demo import make_session
from sessions_ui.forms import FIELD_LABELS
from sessions_ui.schema import agno_connection
from sessions_ui.templatetags.dates import moment, when_html
from tests.factories import create_session, make_agent_run

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)


def test_a_moment_of_this_year_leaves_the_year_out_and_names_the_zone():
    shown = moment(datetime(2026, 11, 22, 23, 53, 7, tzinfo=UTC), ZoneInfo("UTC"), NOW)
    assert shown.text == "11-22 23:53 UTC"
    assert shown.exact == "2026-11-22 23:53:07 UTC"
    assert shown.iso == "2026-11-22T23:53:07+00:00"
    assert shown.ago == "1\xa0week ago"


def test_a_moment_of_another_year_shows_the_year():
    shown = moment(datetime(2025, 12, 31, 23, 0, tzinfo=UTC), ZoneInfo("UTC"), NOW)
    assert shown.text == "2025-12-31 23:00 UTC"
    assert shown.ago == "11\xa0months ago"


def test_a_moment_is_shown_in_the_viewers_zone_and_its_year_there():
    # 23:30 UTC on New Year's Eve is already next year in Berlin: the year is the local one.
    shown = moment(datetime(2025, 12, 31, 23, 30, tzinfo=UTC), ZoneInfo("Europe/Berlin"), NOW)
    assert shown.text == "01-01 00:30 CET"
    assert shown.iso == "2026-01-01T00:30:00+01:00"
    summer = moment(datetime(2026, 7, 1, 12, 0, tzinfo=UTC), ZoneInfo("Europe/Berlin"), NOW)
    assert summer.text == "07-01 14:00 CEST"


def test_when_is_a_time_element_with_the_relative_hint_beside_it_or_in_its_title():
    value = NOW - timedelta(hours=3)
    assert when_html(value, zone=ZoneInfo("UTC"), now=NOW) == (
        '<time datetime="2026-12-01T15:00:00+00:00" title="2026-12-01 15:00:00 UTC">12-01 15:00 UTC</time>'
        ' <span class="ago">3\xa0hours ago</span>'
    )
    assert when_html(value, "short", zone=ZoneInfo("UTC"), now=NOW) == (
        '<time datetime="2026-12-01T15:00:00+00:00" title="2026-12-01 15:00:00 UTC · 3\xa0hours ago">12-01 15:00 UTC</time>'
    )
    assert when_html(None) == ""
    assert moment(NOW + timedelta(minutes=5), ZoneInfo("UTC"), NOW).ago == "in 5\xa0minutes"
    assert moment(NOW - timedelta(seconds=5), ZoneInfo("UTC"), NOW).ago == "just now"


def test_the_template_filter_uses_the_current_time_zone():
    template = Template("{% load dates %}{{ value|when }}")
    with timezone.override(ZoneInfo("America/New_York")):
        html = template.render(Context({"value": timezone.now() - timedelta(days=2)}))
    assert re.fullmatch(
        r'<time datetime="[^"]+-0[45]:00" title="[^"]+ E[SD]T">(\d{4}-)?\d\d-\d\d \d\d:\d\d E[SD]T</time>'
        r' <span class="ago">2\xa0days ago</span>',
        html,
    )


def test_a_time_inside_agnos_json_is_shown_the_same_way():
    template = Template('{% load dates %}{{ value|stored_time|when:"short"|default:value }}')
    epoch = int(datetime(2025, 3, 4, 5, 6, tzinfo=UTC).timestamp())
    assert ">2025-03-04 05:06 UTC</time>" in template.render(Context({"value": epoch}))
    assert template.render(Context({"value": "soon"})) == "soon"  # not a time: shown as stored


# Previews that read well (item 4)

HOSTILE = (
    "**Bold** and\n\n- first\n- second\n\n<script>alert(1)</script> [click](javascript:alert(2))"
    ' <img src=x onerror="alert(3)"> [fine](https://example.com/a)'
)


@pytest.mark.parametrize("run_layout", ["2", "3"])
def test_the_preview_renders_markdown_sanitised(admin_client, run_layout):
    create_session(session_id="md", runs=[make_agent_run("md", content=HOSTILE)], layout=run_layout)
    html = admin_client.get("/sessions/md/preview/", HTTP_HX_REQUEST="true").text
    output = re.search(r'<div class="run-output rendered">(.*?)</div>\s*</div>', html, re.S).group(1)
    assert "<strong>Bold</strong>" in output and "<li>first</li>" in output
    assert "**Bold**" not in output and "- first" not in output
    assert "<script" not in output and "<img" not in output and 'href="javascript' not in output
    assert "&lt;script&gt;alert(1)&lt;/script&gt; [click](javascript:alert(2)) &lt;img" in output  # shown as text
    assert '<a href="https://example.com/a" rel="noopener noreferrer nofollow">fine</a>' in output


def test_the_preview_shows_an_error_and_a_failed_tool_call_with_their_text(admin_client):
    failed = make_agent_run("err", content="Model provider said: rate limited <b>now</b>", status="ERROR")
    failed["tools"][0] |= {"tool_call_error": True, "result": "Error: upstream timed out"}
    create_session(session_id="err", runs=[failed])
    html = admin_client.get("/sessions/err/preview/", HTTP_HX_REQUEST="true").text
    assert '<li class="run-preview failed">' in html
    assert re.search(
        r'<span class="role">Error</span> <span>Model provider said: rate limited &lt;b&gt;now&lt;/b&gt;</span>', html
    )
    tool = failed["tools"][0]["tool_name"]
    assert f'<code class="tool-name">{tool}</code> failed: Error: upstream timed out' in html


@pytest.mark.parametrize("run_layout", ["2", "3"])
def test_a_team_runs_preview_shows_its_members_tool_calls_and_errors(
    admin_client, run_layout, django_assert_max_num_queries
):
    team = make_agent_run("team", question="Plan a trip", seed=1, team_name="Travel Planner", member_responses=[])
    team["tools"] = []
    failed = make_agent_run(
        "team", seed=2, parent_run_id=team["run_id"], agent_name="Hotel Scout", status="ERROR", content="quota exceeded"
    )
    failed["tools"][0] |= {"tool_name": "search_hotels", "tool_call_error": True, "result": "Error: 503 from the API"}
    fine = make_agent_run("team", seed=3, parent_run_id=team["run_id"], agent_name="Flight Finder")
    fine["tools"][0]["tool_name"] = "search_flights"
    create_session(session_id="team", session_type="team", runs=[failed, fine, team], layout=run_layout)
    with django_assert_max_num_queries(12):
        response = admin_client.get("/sessions/team/preview/", HTTP_HX_REQUEST="true")
    html = response.text
    assert [run.kind for run in response.context["runs"]] == ["team"] and response.context["run_count"] == 1
    assert 'title="tool call of a member run (failed)">search_hotels</span>' in html
    assert 'title="tool call of a member run">search_flights</span>' in html
    assert '<span class="role">Error</span> Hotel Scout: quota exceeded</p>' in html
    assert '<code class="tool-name">search_hotels</code> failed: Error: 503 from the API' in html


def test_a_tool_call_appears_once_on_the_detail_page_under_tool_calls(admin_client):
    run = make_agent_run("once")
    call = run["tools"][0]
    unlisted = {"id": "call_elsewhere", "type": "function", "function": {"name": "lookup", "arguments": '{"q": 1}'}}
    run["messages"][2]["tool_calls"].append(unlisted)  # asked for, but not in the run's tools
    create_session(session_id="once", runs=[run])
    html = admin_client.get(f"/sessions/once/runs/{run['run_id']}/", HTTP_HX_REQUEST="true").text
    messages, tools = html.split('<section class="block tools"><h4>Tool calls</h4>')
    assert f'<code class="tool-name">{call["tool_name"]}</code>' in tools and call["result"] in unescape(tools)
    assert call["result"] not in unescape(messages) and '<article class="msg role-tool' not in messages
    assert (
        f'<code class="tool-name">{call["tool_name"]}</code> <span class="muted">(arguments and result under Tool calls)'
        in messages
    )
    assert '<code class="tool-name">lookup</code><pre>{\n  &quot;q&quot;: 1\n}</pre>' in messages  # not listed: in full


def test_a_team_runs_line_lists_its_members_tool_calls(admin_client):
    demo = make_session(3, now=int(timezone.now().timestamp()), runs=1)
    write_sessions(agno_connection(), [demo], layout="3")
    session_id = demo.row["session_id"]
    [team] = [run for run in agno.decode_runs([], queries.run_rows(session_id)) if run.kind == "team"]
    member_tools = [tool.name for member in team.members for tool in member.tools]
    assert member_tools
    html = admin_client.get(f"/sessions/{session_id}/").text
    line = re.search(
        rf'id="run-{re.escape(team.run_id)}".*?<span class="run-stats">(.*?)</span>\s*</summary>', html, re.S
    )
    for name in member_tools:
        assert f'title="tool call of a member run">{name}</span>' in line.group(1)


# The audit log's before and after (item 8)


def test_an_edit_is_logged_field_by_field_and_key_by_key():
    before = {"session_name": "Old", "session_state": {"a": 1, "b": [1], "same": True}, "metadata": None}
    after = {"session_name": "New", "session_state": {"a": 2, "c": "x", "same": True}, "metadata": {"k": "v"}}
    entry = LogEntry(action_flag=CHANGE, change_message=changes.edit_message(FIELD_LABELS, before, after))
    assert entry.get_change_message() == "Changed session name, session state and metadata."
    name, state, metadata = changes.field_changes(entry)
    assert name == changes.FieldChange("session name", "Old", "New")
    assert state.label == "session state" and state.keys == (
        changes.KeyChange("a", "changed", 1, 2),
        changes.KeyChange("b", "removed", [1], None),
        changes.KeyChange("c", "added", None, "x"),
    )
    assert metadata == changes.FieldChange("metadata", None, {"k": "v"})  # null to an object: one value each
    old = LogEntry(action_flag=CHANGE, change_message='Changed session name ("a" → "b").')
    assert changes.field_changes(old) is None


def test_the_audit_page_shows_before_and_after_escaped_and_old_entries_as_they_were(admin_client, admin_user):
    create_session(session_id="s1", session_data={"session_name": "Trip", "session_state": {"city": "Oslo"}})
    before = {"session_name": "<b>Old</b>", "session_state": {"city": "Oslo", "note": "<script>alert(1)</script>"}}
    after = {"session_name": "Trip", "session_state": {"city": "<i>Bergen</i>"}}
    changes.log(admin_user, [("s1", "Trip")], CHANGE, changes.edit_message(FIELD_LABELS, before, after))
    changes.log(admin_user, [("s1", "Trip")], CHANGE, 'Changed session name ("<u>a</u>" → "b").')
    html = admin_client.get(reverse("sessions_ui:audit")).text
    assert "<script>alert" not in html and "<b>Old" not in html and "<i>Bergen" not in html and "<u>a" not in html
    assert '<code class="audit-value before">&quot;&lt;b&gt;Old&lt;/b&gt;&quot;</code>' in html
    assert re.search(r'<code class="key">city</code> <span class="key-kind">changed</span>', html)
    assert re.search(r'<code class="key">note</code> <span class="key-kind">removed</span>', html)
    assert (
        "&quot;&lt;i&gt;Bergen&lt;/i&gt;&quot;" in html and "&quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;" in html
    )
    assert (
        '<span class="change-text">Changed session name (&quot;&lt;u&gt;a&lt;/u&gt;&quot; → &quot;b&quot;).</span>'
        in html
    )
