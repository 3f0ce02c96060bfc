"""An XSS corpus, and Agno-shaped sessions that carry one payload in every field the dashboard displays.

Each payload that would run sets `window.__xss` (or opens a dialog), so the browser suite can tell.
"""

from __future__ import annotations

import json
import zlib

from sessions_ui.bulk_write import write_sessions
from sessions_ui.demo import DemoSession
from sessions_ui.schema import agno_connection
from tests.hostile.support import NOW

PAYLOADS = [
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=2;alert(2)">',
    '"><svg onload=window.__xss=3>',
    "'><svg/onload=window.__xss=4>",
    "javascript:window.__xss=5",
    '[click](javascript:window.__xss=6) <a href="javascript:window.__xss=7">a</a> <javascript:window.__xss=8>',
    "<details open ontoggle=window.__xss=9>",
    '" autofocus onfocus="window.__xss=10" x="',
    "' autofocus onfocus='window.__xss=11' x='",
    "</textarea><script>window.__xss=12</script>",
    "</script><script>window.__xss=13</script>",
    "{{ request.user.password }}{% csrf_token %}{% debug %} xss14 ${window.__xss=14} #{7*7}",
    '<iframe srcdoc="<script>parent.__xss=15</script>"></iframe>',
    '<div hx-get="/sessions/" hx-trigger="load" hx-on::load="window.__xss=16">xss16</div>',
    "![x](javascript:window.__xss=17) [y]\n\n[y]: javascript:window.__xss=18 <b onmouseover=window.__xss=19>b</b>",
    '<style>@import "javascript:window.__xss=20";</style><link rel=stylesheet href="javascript:window.__xss=20">',
    "\u2028\u2029<script>window.__xss=21</script><!-- xss21",
    '<math><mi xlink:href="javascript:window.__xss=22">xss22</mi></math>',
    "data:text/html,<script>window.__xss=23</script>",
    '<a href="&#106;avascript:window.__xss=24">x</a> [z](&#106;avascript:window.__xss=25) [w](JaVaScRiPt:window.__xss=26)',
    "<form action=javascript:window.__xss=27><button>xss27</button></form><input autofocus onfocus=window.__xss=28>",
]


def _run(p: str, run_id: str, session_id: str, *, with_messages: bool = True, **extra) -> dict:
    run = {
        "run_id": run_id,
        "agent_id": p,
        "agent_name": p,
        "session_id": session_id,
        "user_id": p,
        "input": {"input_content": p},
        "content": f"{p}\n\n**{p}**\n\n- {p}\n\n| {p} | x |\n|---|---|\n| {p} | y |\n",
        "model": p,
        "model_provider": p,
        "status": p,
        "reasoning_content": p,
        "metrics": {"total_tokens": 3, "duration": 1.5, p: p},
        "tools": [
            {"tool_call_id": p, "tool_name": p, "tool_args": {p: p}, "result": p},
            {"tool_name": p, "tool_args": p, "result": {p: [p]}, "tool_call_error": True},
        ],
        "events": [{"event": p, "created_at": p}],
        "images": [{"url": p}],
        "files": [{"filepath": p}],
        "created_at": NOW - 300,
        **extra,
    }
    if with_messages:
        run["messages"] = [
            {"role": "system", "content": p},
            {"role": "user", "content": p, "images": [{"url": p}]},
            {"role": "user", "content": p, "from_history": True},
            {
                "role": "assistant",
                "content": p,
                "reasoning_content": p,
                "tool_calls": [{"id": p, "type": "function", "function": {"name": p, "arguments": json.dumps({p: p})}}],
            },
            {"role": "tool", "content": p, "tool_name": p, "tool_call_id": p, "tool_call_error": True},
            {"role": p, "content": [{"type": "text", "text": p}, {"type": "image", "url": p}]},
        ]
    return run


def xss_sessions(p: str) -> list[tuple[DemoSession, str]]:
    """One agent, team and workflow session with the payload in every displayed field, and their layouts."""
    tag = f"{zlib.crc32(p.encode()):08x}"
    common = {
        "user_id": f"{p} user",
        "session_data": {
            "session_name": p,
            "session_state": {p: p, "nested": {p: [p, {p: p}]}, "multiline": f"{p}\n{p}"},
            "session_metrics": {"total_tokens": 10, p: p, "nested": {p: p}},
        },
        "metadata": {p: p, "list": [p], "nested": {p: {p: p}}},
        "summary": {"summary": p, "topics": [p, f"{p} 2"], "updated_at": p},
        "created_at": NOW - 600,
        "updated_at": NOW - 60,
    }
    agent_id = f"{p} agent {tag}"
    agent = DemoSession(
        row={
            **common,
            "session_id": agent_id,
            "session_type": "agent",
            "agent_id": p,
            "agent_data": {"name": p, "agent_id": p, "model": {"id": p, "provider": p, "name": p}},
        },
        runs=[
            _run(p, f"{p} run 1 {tag}", agent_id),
            _run(p, f"{p} run 2 {tag}", agent_id, with_messages=False),
        ],
    )
    team_id = f"{p} team {tag}"
    team_run_id = f"{p} team run {tag}"
    member = _run(p, f"{p} member {tag}", team_id, parent_run_id=team_run_id)
    embedded = _run(p, f"{p} embedded {tag}", team_id, with_messages=False)
    team = DemoSession(
        row={
            **common,
            "session_id": team_id,
            "session_type": "team",
            "agent_id": None,
            "team_id": p,
            "team_data": {"name": p, "team_id": p, "model": {"id": p, "provider": p}},
        },
        runs=[
            member,
            _run(p, team_run_id, team_id, team_name=p, team_id=p, member_responses=[embedded]),
        ],
    )
    workflow_id = f"{p} workflow {tag}"
    step = {
        "step_name": p,
        "step_type": p,
        "executor_type": p,
        "executor_name": p,
        "content": p,
        "error": p,
        "success": False,
        "metrics": {"duration": 1.0, "total_tokens": 4},
    }
    workflow = DemoSession(
        row={
            **common,
            "session_id": workflow_id,
            "session_type": "workflow",
            "agent_id": None,
            "workflow_id": p,
            "workflow_data": {"name": p, "workflow_id": p},
        },
        runs=[
            _run(
                p,
                f"{p} workflow run {tag}",
                workflow_id,
                with_messages=False,
                workflow_name=p,
                workflow_id=p,
                step_results=[step, {**step, "step_name": f"{p} parallel", "steps": [step, [step]]}],
                step_executor_runs=[_run(p, f"{p} executor {tag}", workflow_id)],
            )
        ],
    )
    return [(agent, "3"), (team, "2"), (workflow, "3")]


def write_xss_sessions(p: str) -> list[DemoSession]:
    sessions = xss_sessions(p)
    for session, layout in sessions:
        write_sessions(agno_connection(), [session], layout=layout)
    return [session for session, _ in sessions]
