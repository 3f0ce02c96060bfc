"""The decoding layer: every JSON form real Agno databases hold, both run layouts, odd shapes."""

import json
from types import SimpleNamespace

import pytest

from sessions_ui import agno
from sessions_ui.demo import make_session

OBJECT = {
    "session_name": "Trip",
    "session_state": {"city": "Kyoto"},
    "session_metrics": {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15},
}


@pytest.mark.parametrize(
    "raw, expected",
    [
        (json.dumps(OBJECT), OBJECT),  # plain (Agno 3.x, and jsonb text on PostgreSQL)
        (json.dumps(json.dumps(OBJECT)), OBJECT),  # double-encoded (Agno 2.x SqliteDb)
        ("null", None),  # JSON null
        (None, None),  # SQL NULL
        (json.dumps(json.dumps(None)), None),  # double-encoded null
        (OBJECT, OBJECT),  # already decoded by a driver
    ],
)
def test_decode_json_accepts_every_stored_form(raw, expected):
    assert agno.decode_json(raw) == expected


@pytest.mark.parametrize("raw", ["{not json", '"{\\"broken"', "\x00\x01", '{"a": '])
def test_garbage_is_malformed_not_an_exception(raw):
    value = agno.decode_json(raw)
    assert isinstance(value, agno.Malformed)
    assert value.raw == raw


@pytest.mark.parametrize("raw, reason", [("[1, 2]", "list"), ("42", "int"), ('"just text"', "str")])
def test_decode_dict_marks_wrong_types(raw, reason):
    value = agno.decode_dict(raw)
    assert isinstance(value, agno.Malformed)
    assert reason in value.reason


def test_deeply_nested_json_does_not_crash():
    raw = "[" * 100_000 + "]" * 100_000
    assert isinstance(agno.decode_json(raw), (list, agno.Malformed))


def row(**fields):
    defaults = dict(
        session_id="s1", session_type="agent", agent_id="a1", team_id=None, workflow_id=None, user_id="u@example.com",
        session_data=None, agent_data=None, team_data=None, workflow_data=None, metadata=None, summary=None,
        created_at=1_760_000_000, updated_at=None,
    )  # fmt: skip
    defaults.update(fields)
    return SimpleNamespace(**defaults)


@pytest.mark.parametrize("encode", [json.dumps, lambda value: json.dumps(json.dumps(value))])
def test_decode_session_fields(encode):
    session = agno.decode_session(
        row(
            session_data=encode(OBJECT),
            agent_data=encode(
                {"name": "Weather Bot", "agent_id": "a1", "model": {"id": "gpt-4o", "provider": "OpenAI"}}
            ),
            metadata=encode({"source": "slack"}),
            summary=encode(
                {"summary": "Talked about Kyoto", "topics": ["travel"], "updated_at": "2026-01-02T03:04:05"}
            ),
        )
    )
    assert session.name == "Trip"
    assert session.state == {"city": "Kyoto"}
    assert session.metrics.tokens == 15
    assert session.component.name == "Weather Bot"
    assert session.component.model_id == "gpt-4o"
    assert session.metadata == {"source": "slack"}
    assert session.summary.text == "Talked about Kyoto"
    assert session.summary.topics == ["travel"]
    assert session.created_at.year == 2025


def test_session_name_falls_back_to_first_input_then_id():
    assert (
        agno.decode_session(row(session_data='{"session_state": {}}'), first_input="Hello there").name == "Hello there"
    )
    assert agno.decode_session(row()).display_name == "s1"


def test_malformed_fields_do_not_break_the_session():
    session = agno.decode_session(row(session_data="{oops", metadata="[1]", summary="{", agent_data="7"))
    assert isinstance(session.session_data, agno.Malformed)
    assert isinstance(session.metadata, agno.Malformed)
    assert isinstance(session.summary, agno.Malformed)
    assert isinstance(session.component.data, agno.Malformed)
    assert session.name == ""
    assert session.metrics.tokens is None


def test_null_timestamps_and_milliseconds():
    assert agno.decode_session(row(created_at=None)).created_at is None
    assert agno.decode_session(row(created_at=1_760_000_000_000)).created_at.year == 2025


def test_agent_run_messages_tools_reasoning_metrics():
    demo = make_session(0, now=1_760_000_000, runs=1)
    [run] = agno.decode_runs(json.dumps(demo.runs))
    assert run.kind == "agent"
    assert run.input == demo.runs[0]["input"]["input_content"]
    assert [m.role for m in run.messages] == ["system", "user", "assistant", "tool", "assistant"]
    assert run.messages[2].tool_calls[0].name == run.tools[0].name
    assert isinstance(run.messages[2].tool_calls[0].args, dict)
    assert run.tools[0].result
    assert run.metrics.tokens == demo.runs[0]["metrics"]["total_tokens"]
    assert run.status in {"COMPLETED", "ERROR"}


def test_team_member_runs_nest_under_the_team_run_inline_layout():
    demo = make_session(3, now=1_760_000_000, runs=2)  # index 3 is a team session
    assert demo.row["session_type"] == "team"
    runs = agno.decode_runs(json.dumps(json.dumps(demo.runs)))
    assert [run.kind for run in runs] == ["team", "team"]
    assert all(len(run.members) == 2 for run in runs)
    assert {m.component_name for m in runs[0].members} == {"Flight Finder", "Hotel Scout"}


def test_member_runs_also_in_member_responses_are_shown_once():
    demo = make_session(3, now=1_760_000_000, runs=1)
    members, team = demo.runs[:-1], demo.runs[-1]
    team["member_responses"] = members
    [run] = agno.decode_runs(json.dumps(demo.runs))
    assert len(run.members) == 2


def test_member_responses_only_still_nest():
    demo = make_session(3, now=1_760_000_000, runs=1)
    members, team = demo.runs[:-1], demo.runs[-1]
    team["member_responses"] = members
    [run] = agno.decode_runs(json.dumps([team]))
    assert len(run.members) == 2


def runs_table_rows(runs, start_index=0):
    return [
        SimpleNamespace(
            run_id=run["run_id"], run_type=agno.runs._run_kind(run, None), parent_run_id=run.get("parent_run_id"),
            status=run.get("status"), run_index=start_index + i, created_at=run["created_at"], run_data=json.dumps(run),
        )
        for i, run in enumerate(runs)
    ]  # fmt: skip


def test_runs_table_layout_and_mixed_layout_merge_dedupe_and_order():
    demo = make_session(0, now=1_760_000_000, runs=4)
    old, new = demo.runs[:2], demo.runs[2:]
    # 3.x wrote the new runs to the runs table; the second old run also appears there (rewritten).
    runs = agno.decode_runs(json.dumps(old), runs_table_rows([old[1], *new], start_index=1))
    assert [run.run_id for run in runs] == [run["run_id"] for run in demo.runs]


def test_run_in_both_layouts_is_read_from_the_runs_table_like_agno_does():
    demo = make_session(0, now=1_760_000_000, runs=2)
    paused = [{**run, "status": "PAUSED"} for run in demo.runs]
    runs = agno.decode_runs(json.dumps(paused), runs_table_rows(demo.runs))
    assert [(run.run_id, run.status) for run in runs] == [(run["run_id"], "COMPLETED") for run in demo.runs]


def test_workflow_run_tokens_are_the_sum_of_its_steps():
    metrics = {
        "steps": {"A": {"metrics": {"input_tokens": 3, "total_tokens": 5}}, "B": {"metrics": None}},
        "duration": 2,
    }
    decoded = agno.decode_metrics(metrics)
    assert (decoded.input_tokens, decoded.total_tokens, decoded.duration) == (3, 5, 2.0)


def test_workflow_steps_including_nested_parallel_steps():
    demo = make_session(4, now=1_760_000_000, runs=1)
    [run] = agno.decode_runs(None, runs_table_rows(demo.runs))
    assert run.kind == "workflow"
    assert [step.name for step in run.steps] == ["Research", "Outline", "Fact check", "Write"]
    assert [step.name for step in run.steps[2].steps] == ["Check sources", "Check style"]


@pytest.mark.parametrize(
    "runs",
    [
        "{bad",
        '{"not": "a list"}',
        '[1, "x", null, {}]',
        '[{"messages": "nope", "tools": {"a": 1}, "metrics": [1], "status": 5}]',
    ],
)
def test_odd_runs_never_raise(runs):
    result = agno.decode_runs(runs)
    if isinstance(result, list):
        for run in result:
            assert isinstance(run.messages, list)
    else:
        assert isinstance(result, agno.Malformed)


def test_malformed_run_row_is_marked_and_others_survive():
    demo = make_session(0, now=1_760_000_000, runs=2)
    rows = runs_table_rows(demo.runs)
    rows[0].run_data = "{garbage"
    runs = agno.decode_runs(None, rows)
    assert len(runs) == 2
    assert runs[0].malformed is not None and runs[0].raw_json == "{garbage"
    assert runs[1].malformed is None


@pytest.mark.parametrize(
    "value, text",
    [
        ("COMPLETED", "COMPLETED"),
        ("", ""),
        (42, "42"),
        (0, "0"),
        (-1.5, "-1.5"),
        (True, ""),
        (False, ""),
        (None, ""),
        (["x"], ""),
        ({"a": 1}, ""),
        (float("inf"), ""),
        (float("nan"), ""),
    ],
)
def test_as_text_keeps_strings_writes_numbers_and_drops_the_rest(value, text):
    assert agno.as_text(value) == text


NOT_TEXT = (["x"], {"a": 1}, True)


@pytest.mark.parametrize("odd", NOT_TEXT, ids=["list", "object", "bool"])
def test_text_fields_of_a_run_holding_other_json_are_missing_not_reprs(odd):
    run = agno.decode_run(
        {
            "run_id": odd,
            "parent_run_id": odd,
            "status": odd,
            "agent_name": odd,
            "model": odd,
            "messages": [
                {
                    "role": odd,
                    "tool_name": odd,
                    "tool_call_id": odd,
                    "tool_calls": [{"id": odd, "name": odd, "function": {"name": odd}}],
                    "images": [{"url": odd, "id": "img-1"}, {"url": odd}],
                }
            ],
            "tools": [{"tool_name": odd, "tool_call_id": odd}],
            "events": [{"event": odd, "created_at": odd}],
            "step_results": [
                {"step_name": odd, "name": odd, "step_type": odd, "executor_type": odd, "executor_name": odd}
            ],
        },
        run_id="from-the-row",
    )
    assert (run.run_id, run.parent_run_id, run.status, run.component_name, run.model) == (
        "from-the-row",
        None,
        "",
        "",
        "",
    )
    [message] = run.messages
    assert (message.role, message.tool_name, message.tool_call_id) == ("unknown", None, None)
    assert [(call.name, call.tool_call_id) for call in message.tool_calls] == [("tool", None)]
    assert message.media == ["image: img-1", "image: inline content"]
    assert [(tool.name, tool.tool_call_id) for tool in run.tools] == [("tool", None)]
    assert run.events == [{"event": "", "created_at": ""}]
    [step] = run.steps
    assert (step.name, step.step_type, step.executor_type, step.executor_name) == ("step", "", "", "")


def test_text_fields_of_a_run_holding_numbers_are_the_numbers():
    run = agno.decode_run(
        {
            "run_id": 42,
            "parent_run_id": 7,
            "status": 5,
            "agent_name": 1.5,
            "model": 4,
            "messages": [{"role": 1, "tool_name": 2, "images": [{"url": 3}]}],
            "tools": [{"tool_name": 6}],
            "events": [{"event": 8, "created_at": 1_760_000_000}],
        }
    )
    assert (run.run_id, run.parent_run_id, run.status, run.component_name, run.model) == ("42", "7", "5", "1.5", "4")
    assert (run.messages[0].role, run.messages[0].tool_name, run.messages[0].media) == ("1", "2", ["image: 3"])
    assert run.tools[0].name == "6"
    assert run.events == [{"event": "8", "created_at": "1760000000"}]


def test_a_component_name_that_is_not_text_falls_back_to_the_next_name():
    run = agno.decode_run({"team_name": ["x"], "agent_name": "Ada", "member_responses": []})
    assert (run.kind, run.component_name) == ("team", "Ada")


def test_runs_whose_ids_are_lists_or_objects_still_nest_and_export():
    runs = [{"run_id": ["x"], "parent_run_id": {"a": 1}, "content": "a"}, {"run_id": "b", "parent_run_id": ["x"]}]
    decoded = agno.decode_runs(json.dumps(runs))
    assert [(run.run_id, run.parent_run_id) for run in decoded] == [("", None), ("b", None)]
    table = [SimpleNamespace(run_id="t", run_data=json.dumps({"run_id": {"a": 1}}))]
    assert agno.stored_runs(json.dumps(runs), table) == [*runs, {"run_id": {"a": 1}}]


def test_summary_topics_and_component_fields_that_are_not_text():
    summary = agno.decode_summary(json.dumps({"summary": "s", "topics": [None, {"x": 1}, ["x"], True, 3, "travel"]}))
    assert summary.topics == ["3", "travel"]
    component = agno.decode_component(
        "agent", "a1", json.dumps({"name": ["x"], "model": {"id": {"n": 1}, "provider": ["p"]}})
    )
    assert (component.name, component.model_id, component.model_provider) == ("", "", "")
    assert agno.decode_component("agent", "a1", json.dumps({"name": 7, "model": "gpt-4o"})).model_id == "gpt-4o"


def test_offload_envelopes_as_agno_3_1_writes_them():
    stored = '<result id="res_f1be514bc3" tool="fetch_report" lines="400" size="26.2KB">\nline 0000\n</result>\n'
    assert agno.offloaded(stored) == agno.Offloaded("res_f1be514bc3", 400, "26.2KB")
    refused = '<result tool="fetch" lines="9" size="9.1MB" stored="false" reason="quota exceeded">\nhead\n</result>'
    assert agno.offloaded(refused) == agno.Offloaded("", 9, "9.1MB", refused="quota exceeded")
    for text in ("Sunny", '<result tool="x" lines="1" size="1B">\nno id, not refused', "<result id=x>", ""):
        assert agno.offloaded(text) is None, text
    tool = agno.decode_tool_execution({"tool_name": "fetch_report", "result": stored})
    assert tool.offloaded.result_id == "res_f1be514bc3"
    assert agno.decode_tool_execution({"tool_name": "t", "result": {"not": "text"}}).offloaded is None
