"""Malformed rows: whatever is stored in a JSON column or a run, every page answers, never with a 500.

Each case writes one session whose column (or runs) holds something Agno would not write, then
walks every page that shows it (list, expansion, user page, detail, run fragments, paging, export,
edit form and POSTs, delete confirmation and delete, bulk delete, audit, admin).
"""

from __future__ import annotations

import json
import re
import zlib

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils.html import escape

from sessions_ui.models import AgnoSession
from tests.factories import create_session, make_agent_run
from tests.hostile.support import (
    BULK_DELETE_URL,
    HTMX,
    LIST_URL,
    NOW,
    assert_no_server_error,
    delete_pages,
    edit_pages,
    insert_run_rows,
    is_postgresql,
    read_pages,
    set_columns,
)

pytestmark = pytest.mark.django_db

DEPTH = 5000
DEEP_LIST = "[" * DEPTH + "]" * DEPTH
DEEP_OBJECT = '{"a": ' * DEPTH + "1" + "}" * DEPTH
# Decodes at the top of a stack, but not when re-encoded (json.dumps with indent is recursive Python)
# a few hundred frames deeper, inside a view and a template.
MEDIUM_DEEP = '{"a": ' * 900 + "1" + "}" * 900
HUGE = 5_000_000
HUGE_STRING = json.dumps("x" * HUGE)
HUGE_NUMBER = "1" + "0" * 999  # PostgreSQL's jsonb stores 1e999 like this; no float holds it

SQLITE_ONLY = "sqlite-only"  # jsonb accepts valid JSON only, and no \u0000 in strings

# (id, stored text or bytes, only on SQLite)
ANY_COLUMN = [
    ("invalid-json", '{"session_name": "cut', True),
    ("empty-text", "", True),
    ("not-utf8", b"\xff\xfe{\x00", True),
    ("nul-and-control-characters", json.dumps({"k": "\u0000\u202e\x1b[31m", "\u0000": 1}), True),
    ("list", "[1, 2, 3]", False),
    ("number", "42", False),
    ("huge-number", HUGE_NUMBER, False),
    ("float-overflow", "1e999", False),
    ("string", '"just a string"', False),
    ("true", "true", False),
    ("json-null", "null", False),
    ("empty-object", "{}", False),
    ("double-encoded-list", json.dumps(json.dumps([1, 2])), False),
    ("double-encoded-invalid", json.dumps('{"cut": '), False),
    ("double-encoded-deep", json.dumps(DEEP_LIST), False),
    ("deep-list", DEEP_LIST, False),
    ("deep-object", DEEP_OBJECT, False),
    ("medium-deep-object", MEDIUM_DEEP, False),
    ("huge-string", HUGE_STRING, False),
    ("unknown-shape", json.dumps({"unexpected": {"nested": [1, None, {"x": True}]}, "": ""}), False),
]


def _object(**keys) -> str:
    return json.dumps(keys)


COMPONENT_SHAPES = [
    ("wrong-types", _object(name=["x"], model="gpt-x", agent_id=5)),
    ("wrong-types-2", _object(name=42, model=[1, 2])),
    ("model-wrong-keys", _object(name=None, model={"id": {"n": 1}, "provider": None})),
    ("missing-keys", _object(other="value")),
    ("huge-name", _object(name="n" * HUGE)),
    ("deep-model", '{"name": "deep", "model": ' + DEEP_OBJECT + "}"),
    ("medium-deep-model", '{"name": "deep", "model": ' + MEDIUM_DEEP + "}"),
]
SHAPES = {
    "session_data": [
        ("wrong-types", _object(session_name={"a": 1}, session_state=[1, 2], session_metrics="many")),
        (
            "wrong-types-2",
            _object(
                session_name=42,
                session_state="x",
                session_metrics={"total_tokens": "lots", "input_tokens": [1, "a", None], "duration": "slow"},
            ),
        ),
        ("nulls", _object(session_name=None, session_state=None, session_metrics=None)),
        ("metrics-overflow", '{"session_metrics": {"total_tokens": 1e999, "duration": 1e999, "input_tokens": -1e999}}'),
        (
            "metrics-huge-numbers",
            f'{{"session_metrics": {{"total_tokens": {HUGE_NUMBER}, "duration": {HUGE_NUMBER},'
            f' "time_to_first_token": "{HUGE_NUMBER}", "output_tokens": "1e999"}}}}',
        ),
        ("huge-name", _object(session_name="n" * HUGE, session_state={"big": "s" * 1000})),
        ("huge-state", _object(session_name="big state", session_state={"k": "s" * HUGE})),
        ("deep-state", '{"session_name": "deep", "session_state": ' + DEEP_OBJECT + "}"),
        ("medium-deep-state", '{"session_name": "deep", "session_state": ' + MEDIUM_DEEP + "}"),
        ("medium-deep-metrics", '{"session_name": "deep", "session_metrics": ' + MEDIUM_DEEP + "}"),
        ("state-key-types", '{"session_state": {"": null, "1": [], "k": {"": {}}}}'),
    ],
    "agent_data": COMPONENT_SHAPES,
    "team_data": COMPONENT_SHAPES,
    "workflow_data": COMPONENT_SHAPES,
    "metadata": [
        ("nested", _object(k=[1, {"x": None}], empty={}, n=None)),
        ("medium-deep-value", '{"k": ' + MEDIUM_DEEP + "}"),
        ("huge-value", _object(k="m" * HUGE)),
    ],
    "summary": [
        ("wrong-types", _object(summary=42, topics="not a list", updated_at="yesterday")),
        ("wrong-types-2", '{"summary": {"a": 1}, "topics": [null, {"x": 1}, 3], "updated_at": 1e999}'),
        ("empty", _object(summary="", topics=[])),
        ("huge-updated-at", f'{{"summary": "s", "updated_at": {HUGE_NUMBER}}}'),
        ("numeric-string-updated-at", _object(summary="s", updated_at="1" + "0" * 400)),
        ("huge-text", _object(summary="t" * HUGE, topics=["t" * 1000] * 50)),
        ("deep-topics", '{"summary": "s", "topics": ' + DEEP_LIST + "}"),
        ("medium-deep-summary", '{"summary": ' + MEDIUM_DEEP + "}"),
    ],
}
JSON_COLUMNS = ["session_data", "agent_data", "team_data", "workflow_data", "metadata", "summary"]
ID_COLUMN = {"agent": "agent_id", "team": "team_id", "workflow": "workflow_id"}


@pytest.fixture(autouse=True)
def _no_cached_choices():
    cache.clear()
    yield
    cache.clear()


def only_on(sqlite_only: bool) -> list:
    """Values PostgreSQL's jsonb cannot store (invalid JSON, \\u0000) run on the SQLite leg only."""
    return [pytest.mark.sqlite] if sqlite_only else []


def create_with(session_id: str, session_type: str = "agent", runs: int = 3, **columns) -> None:
    """A session of that type, with a few good runs, whose columns are then overwritten with the values as given."""
    seed = zlib.crc32(session_id.encode())
    fields = {"session_type": session_type, "agent_id": None, ID_COLUMN[session_type]: f"{session_type}-component"}
    good_runs = [make_agent_run(session_id, seed=seed + index, created_at=NOW - 900 + index) for index in range(runs)]
    create_session(session_id=session_id, runs=good_runs, user_id="mallory@example.com", **fields)
    set_columns(session_id, **columns)


def walk_everything(client, session_id: str, *, edit: bool = True, user_id: str | None = "mallory@example.com"):
    """Every page that shows the session, its edit POSTs, and its delete: none may answer 500."""
    pages = read_pages(client, session_id, user_id=user_id)
    if edit:
        pages += edit_pages(client, session_id)
    pages += delete_pages(client, session_id)
    assert_no_server_error(pages)
    assert not AgnoSession.objects.filter(pk=session_id).exists()
    return dict(pages)


@pytest.mark.parametrize("value", [pytest.param(v, id=name, marks=only_on(o)) for name, v, o in ANY_COLUMN])
def test_every_page_survives_a_malformed_value_in_every_json_column(admin_client, value):
    # Team and workflow sessions read their own *_data column: the pages that show it.
    for session_type in ("team", "workflow"):
        session_id = f"broken {session_type}"
        create_with(session_id, session_type, **dict.fromkeys(JSON_COLUMNS, value))
        detail = reverse("sessions_ui:detail", args=[session_id])
        preview = reverse("sessions_ui:preview", args=[session_id])
        pages = [("list", admin_client.get(LIST_URL)), ("detail", admin_client.get(detail))]
        pages.append(("expansion", admin_client.get(preview, **HTMX)))
        assert_no_server_error(pages)
    create_with("broken", **dict.fromkeys(JSON_COLUMNS, value))
    walk_everything(admin_client, "broken")


@pytest.mark.parametrize(
    ("column", "value"),
    [pytest.param(column, value, id=f"{column}-{name}") for column in SHAPES for name, value in SHAPES[column]],
)
def test_every_page_survives_a_column_of_the_wrong_shape(admin_client, column, value):
    session_type = {"team_data": "team", "workflow_data": "workflow"}.get(column, "agent")
    create_with("odd shape", session_type, **{column: value})
    walk_everything(admin_client, "odd shape")


@pytest.mark.parametrize(
    "value",
    [
        pytest.param('{"session_name": "cut', marks=only_on(True)),
        DEEP_LIST,
        DEEP_OBJECT,
        MEDIUM_DEEP,
        json.dumps('{"cut": '),
    ],
)
def test_undecodable_columns_show_as_malformed_with_their_text(admin_client, value):
    for session_type in ID_COLUMN:
        create_with(f"undecodable {session_type}", session_type, **dict.fromkeys(JSON_COLUMNS, value))
        html = admin_client.get(reverse("sessions_ui:detail", args=[f"undecodable {session_type}"])).content.decode()
        assert html.count('class="malformed"') >= 3
        assert f"malformed {session_type}_data" in html


# --- Runs: the inline column (Agno 2.x) and runs-table rows (Agno 3.x) --------------------------


def run_shapes() -> list[tuple[str, list]]:
    """(id, a list of stored runs): each run a dict, or raw JSON text to splice into the list."""
    deep_steps: dict = {"step_name": "leaf"}
    for level in range(60):
        deep_steps = {"step_name": f"level {level}", "steps": [deep_steps]}
    return [
        ("no-keys", [{}]),
        ("not-objects", ["1", '"x"', "null", "[]", "true"]),
        (
            "wrong-types",
            [
                {
                    "run_id": 42,
                    "created_at": "yesterday",
                    "messages": "not a list",
                    "tools": {"a": 1},
                    "metrics": [1],
                    "status": 5,
                    "input": ["x"],
                    "content": {"k": [1]},
                    "member_responses": "x",
                    "step_executor_runs": 7,
                    "step_results": [1, "x", {"steps": "y"}],
                    "events": "x",
                    "images": "x",
                    "parent_run_id": 7,
                    "reasoning_content": ["a"],
                    "model": {"id": 1},
                    "agent_name": ["n"],
                }
            ],
        ),
        (
            "messages",
            [
                {
                    "run_id": "messages",
                    "messages": [
                        1,
                        "x",
                        None,
                        {"role": ["a"], "content": {"x": 1}, "tool_calls": "x", "created_at": "x", "metrics": "x"},
                        {
                            "role": "assistant",
                            "content": [1, {"text": 5}, {"type": "image"}, None],
                            "tool_calls": [{"function": {"name": 5, "arguments": "{bad"}}, {"function": "x"}, 3],
                            "reasoning_content": {"r": 1},
                        },
                        {"role": "user", "from_history": "yes", "images": [1, {"url": None}], "audio": "x"},
                        {"role": "tool", "tool_call_error": "maybe", "tool_name": {"n": 1}, "created_at": -1e20},
                    ],
                }
            ],
        ),
        (
            "tools",
            [
                {
                    "run_id": "tools",
                    "tools": [
                        1,
                        None,
                        {"tool_name": {"x": 1}, "tool_args": "not json {", "result": [1, {"a": None}], "metrics": "x"},
                        {"tool_name": "", "tool_args": None, "result": None, "tool_call_error": "maybe"},
                    ],
                }
            ],
        ),
        ("created-at-missing", [{"run_id": "no-created-at", "content": "no created_at"}]),
        ("created-at-null", [{"run_id": "null-created-at", "created_at": None}]),
        (
            "created-at-odd",
            [
                {"run_id": "bad-date", "created_at": "2024-13-45"},
                {"run_id": "iso-date", "created_at": "2024-01-02T03:04:05"},
                {"run_id": "negative", "created_at": -1e20},
                {"run_id": "far-future", "created_at": 10**30},
                {"run_id": "digits", "created_at": "1" + "0" * 400},
                {"run_id": "bool", "created_at": True},
            ],
        ),
        (
            "overflowing-numbers",
            [
                f'{{"run_id": "overflow", "created_at": {HUGE_NUMBER}, "metrics": {{"total_tokens": {HUGE_NUMBER},'
                f' "duration": {HUGE_NUMBER}, "input_tokens": 1e999, "time_to_first_token": -1e999}},'
                f' "tools": [{{"tool_name": "t", "metrics": {{"duration": {HUGE_NUMBER}}}}}],'
                f' "messages": [{{"role": "user", "content": "hi", "created_at": {HUGE_NUMBER},'
                f' "metrics": {{"total_tokens": 1e999}}}}]}}'
            ],
        ),
        (
            "workflow-steps",
            [
                {
                    "run_id": "workflow",
                    "workflow_name": 5,
                    "step_results": [
                        deep_steps,
                        {"step_name": None, "content": [1], "success": "yes", "error": {"e": 1}, "metrics": "x"},
                        {"step_name": "loop", "steps": [[{"step_name": "in loop"}], "x", [1, None]]},
                    ],
                    "step_executor_runs": [1, {"run_id": "executor", "content": "ran"}, {"no": "id"}],
                    "metrics": {"steps": {"a": "x", "b": {"metrics": {"total_tokens": "many"}}}},
                }
            ],
        ),
        (
            "team-members",
            [
                {"run_id": "member", "parent_run_id": "team", "agent_name": "Member"},
                {
                    "run_id": "team",
                    "team_name": "Team",
                    "member_responses": [
                        1,
                        "x",
                        {"run_id": "embedded", "member_responses": [{"run_id": "embedded-2"}]},
                        {"parent_run_id": "nowhere"},
                        {"run_id": "member", "content": "the same member again"},
                        {"run_id": "team", "content": "the team itself"},
                    ],
                },
                {"run_id": "orphan", "parent_run_id": "nowhere"},
                {"run_id": "cycle-a", "parent_run_id": "cycle-b"},
                {"run_id": "cycle-b", "parent_run_id": "cycle-a"},
                {"run_id": "self", "parent_run_id": "self"},
                {"run_id": "team", "content": "a duplicate run id"},
            ],
        ),
        (
            "parent-chain",
            [{"run_id": "chain-0"}]
            + [{"run_id": f"chain-{index}", "parent_run_id": f"chain-{index - 1}"} for index in range(1, 400)],
        ),
        ("huge-content", [{"run_id": "huge", "content": "x" * HUGE, "input": {"input_content": "i" * HUGE}}]),
        ("deep-content", ['{"run_id": "deep", "content": ' + DEEP_OBJECT + "}"]),
        ("medium-deep-content", ['{"run_id": "medium-deep", "content": ' + MEDIUM_DEEP + "}"]),
        ("medium-deep-tool-args", ['{"run_id": "medium-deep-args", "tools": [{"tool_args": ' + MEDIUM_DEEP + "}]}"]),
        ("medium-deep-run", [MEDIUM_DEEP]),
        ("deep-run", [DEEP_LIST]),
        ("unknown-run-shape", [{"run_id": "alien", "kind": "robot", "payload": {"nested": [1, 2, {"x": None}]}}]),
    ]


def _as_text(run) -> str:
    return run if isinstance(run, str) else json.dumps(run)


def inline_text(runs: list) -> str:
    return "[" + ", ".join(_as_text(run) for run in runs) + "]"


INLINE_COLUMN = [
    ("invalid-json", '[{"run_id": "cut"', True),
    ("empty-text", "", True),
    ("not-utf8", b"\xff\xfe[", True),
    ("object", '{"run_id": "r"}', False),
    ("number", "42", False),
    ("string", '"runs"', False),
    ("json-null", "null", False),
    ("empty-list", "[]", False),
    ("double-encoded-list", json.dumps(inline_text([{"run_id": "double"}])), False),
    ("double-encoded-invalid", json.dumps("[{"), False),
    ("deep", DEEP_LIST, False),
    ("huge-string", HUGE_STRING, False),
]


def inline_cases():
    for name, value, sqlite_only in INLINE_COLUMN:
        yield pytest.param(value, id=f"column-{name}", marks=only_on(sqlite_only))
    for name, runs in run_shapes():
        yield pytest.param(inline_text(runs), id=name)


@pytest.mark.parametrize("runs", list(inline_cases()))
def test_every_page_survives_malformed_inline_runs(admin_client, runs):
    create_session(session_id="inline runs", user_id="mallory@example.com", layout="2")
    set_columns("inline runs", runs=runs)
    walk_everything(admin_client, "inline runs", edit=False)


RUN_DATA = [
    ("invalid-json", '{"run_id": "cut', True),
    ("empty-text", "", True),
    ("number", "42", False),
    ("list", "[1]", False),
    ("string", '"run"', False),
    ("json-null", "null", False),
    ("double-encoded", json.dumps(json.dumps({"content": "double"})), False),
    ("deep", DEEP_LIST, False),
]


def table_cases():
    for name, value, sqlite_only in RUN_DATA:
        yield pytest.param([(f"row-{name}", value)], id=f"run-data-{name}", marks=only_on(sqlite_only))
    for name, runs in run_shapes():
        rows = []
        for position, run in enumerate(runs):
            run_id = run.get("run_id") if isinstance(run, dict) else None
            # The runs table's primary key: a duplicate inline run id becomes a row of its own.
            run_id = str(run_id) if run_id and str(run_id) not in dict(rows) else f"{name}-{position}"
            rows.append((run_id, _as_text(run)))
        yield pytest.param(rows, id=name)


@pytest.mark.parametrize("rows", list(table_cases()))
def test_every_page_survives_malformed_runs_table_rows(admin_client, rows):
    create_session(session_id="table runs", user_id="mallory@example.com")
    insert_run_rows("table runs", [{"run_id": run_id, "run_data": data} for run_id, data in rows])
    walk_everything(admin_client, "table runs", edit=False)


def test_odd_runs_table_columns(admin_client):
    create_session(session_id="odd columns", user_id="mallory@example.com")
    run = json.dumps({"content": "no run_id inside"})
    insert_run_rows(
        "odd columns",
        [
            {"run_id": "robot", "run_type": "robot", "run_data": run, "status": None, "run_index": None},
            {"run_id": "zero", "run_data": run, "created_at": 0, "run_index": -5},
            {"run_id": "negative", "run_data": run, "created_at": -(2**62)},
            {"run_id": "max", "run_data": run, "created_at": 2**63 - 1, "updated_at": -(2**63)},
            {"run_id": "orphan", "run_data": run, "parent_run_id": "nowhere"},
            {"run_id": "self", "run_data": run, "parent_run_id": "self"},
            {"run_id": "empty-parent", "run_data": run, "parent_run_id": ""},
            {"run_id": "weird id /runs/ ?#%", "run_data": run},
        ],
    )
    pages = walk_everything(admin_client, "odd columns", edit=False)
    assert pages["detail"].status_code == 200


def test_both_layouts_disagreeing(admin_client):
    """The same run ids inline and in the runs table, with different content, and member runs across layouts."""
    create_session(session_id="both", layout="2", runs=[{"run_id": "shared", "content": "inline"}, {"run_id": "x"}])
    insert_run_rows(
        "both",
        [
            {"run_id": "shared", "run_data": json.dumps({"run_id": "other", "content": "table"})},
            {"run_id": "member", "run_data": json.dumps({"parent_run_id": "x"}), "parent_run_id": "shared"},
        ],
    )
    walk_everything(admin_client, "both", edit=False, user_id=None)


def _not_text_run(run_id) -> dict:
    """A run whose text fields (names, ids, status, types) hold lists and objects."""
    odd = {"status": ["x"], "agent_name": {"a": 1}, "team_name": ["x"], "model": {"a": 1}}
    return {
        "run_id": run_id,
        "created_at": NOW - 100,
        **odd,
        "messages": [
            {"role": ["x"], "content": "hello", "tool_name": {"a": 1}, "images": [{"url": ["x"]}]},
            {
                "role": "assistant",
                "content": "calling",
                "tool_calls": [{"function": {"name": ["x"], "arguments": "{}"}}],
            },
        ],
        "tools": [{"tool_name": {"a": 1}, "tool_args": {}, "result": "ok"}],
        "events": [{"event": ["x"], "created_at": {"a": 1}}],
        "step_results": [{"step_name": ["x"], "step_type": {"a": 1}, "executor_name": ["x"]}],
    }


@pytest.mark.parametrize("layout", ["2", "3"])
def test_text_fields_holding_lists_or_objects_never_show_as_python_reprs(admin_client, layout):
    runs = [_not_text_run("visible"), {**_not_text_run(["x"]), "parent_run_id": {"a": 1}, "created_at": NOW - 50}]
    summary = {"summary": "s", "topics": [["x"], {"a": 1}, "travel"]}
    agent_data = {"name": ["x"], "model": {"id": {"a": 1}, "provider": ["x"]}}
    fields = {"session_id": "reprs", "user_id": "mallory@example.com", "summary": summary, "agent_data": agent_data}
    if layout == "2":
        create_session(layout="2", runs=runs, **fields)
    else:
        create_session(**fields)
        insert_run_rows("reprs", [{"run_id": "visible", "run_data": json.dumps(runs[0])}])
        insert_run_rows("reprs", [{"run_id": "second", "run_data": json.dumps(runs[1])}])
    detail = reverse("sessions_ui:detail", args=["reprs"])
    pages = [
        ("detail, the run open", admin_client.get(detail, {"run": "visible"})),
        ("run fragment", admin_client.get(reverse("sessions_ui:run", args=["reprs", "visible"]), **HTMX)),
        *read_pages(admin_client, "reprs", user_id="mallory@example.com"),
    ]
    assert_no_server_error(pages)
    assert pages[0][1].status_code == 200 and pages[1][1].status_code == 200
    assert "hello" in pages[0][1].text
    reprs = ["['x']", "{'a': 1}"]
    for label, response in pages:
        if "html" in response.get("Content-Type", ""):
            html = response.content.decode()
            shown = [text for text in reprs if text in html or escape(text) in html]
            assert not shown, (label, shown)


@pytest.mark.parametrize("layout", ["2", "3"])
def test_a_long_parent_chain_is_cut_where_both_timelines_cut_it(admin_client, layout):
    chain = [{"run_id": "chain-0", "created_at": NOW}]
    chain += [{"run_id": f"chain-{i}", "parent_run_id": f"chain-{i - 1}", "created_at": NOW} for i in range(1, 400)]
    create_session(session_id="chain", runs=chain, layout=layout)
    html = admin_client.get(reverse("sessions_ui:detail", args=["chain"])).content.decode()
    assert 'id="run-chain-10"' in html
    assert 'id="run-chain-11"' not in html


@pytest.mark.parametrize("layout", ["2", "3"])
def test_paging_through_runs_with_malformed_ones_among_them(admin_client, layout):
    runs = []
    for index in range(130):
        run = make_agent_run("paged", seed=index, created_at=NOW - 10_000 + index)
        if index % 7 == 0:
            run = {"run_id": run["run_id"], "created_at": run["created_at"], "messages": "broken", "tools": 5}
        runs.append(run)
    create_session(session_id="paged", runs=runs, layout=layout, user_id="mallory@example.com")
    if layout == "3":
        insert_run_rows("paged", [{"run_id": f"junk-{index}", "run_data": "[1]"} for index in range(5)])
    detail = reverse("sessions_ui:detail", args=["paged"])
    pages = [(f"page {page}", admin_client.get(detail, {"page": page})) for page in ("1", "2", "3", "4", "x", "")]
    runs_url = reverse("sessions_ui:runs", args=["paged"])
    pages += [(f"fragment {page}", admin_client.get(runs_url, {"page": page}, **HTMX)) for page in ("2", "3", "9")]
    pages += [("run focus", admin_client.get(detail, {"run": runs[100]["run_id"]}))]
    assert_no_server_error(pages)
    assert runs[100]["run_id"] in pages[-1][1].content.decode()
    walk_everything(admin_client, "paged", edit=False)


# --- Timestamps and the other columns -------------------------------------------------------------


@pytest.mark.parametrize(
    ("created_at", "updated_at"),
    [
        (NOW, None),
        (0, None),
        (-1, -1),
        (NOW * 1000, NOW * 1000),  # milliseconds
        (2**63 - 1, 2**63 - 1),
        (-(2**63), -(2**63)),
    ],
    ids=["updated-null", "epoch-zero", "negative", "milliseconds", "max-bigint", "min-bigint"],
)
def test_odd_timestamps(admin_client, created_at, updated_at):
    runs = [make_agent_run("timestamps", created_at=created_at)]
    create_session(
        session_id="timestamps", runs=runs, user_id="mallory@example.com", created_at=created_at, updated_at=updated_at
    )
    sorts = [(f"sort {sort}", admin_client.get(LIST_URL, {"sort": sort})) for sort in ("updated_at", "-updated_at")]
    assert_no_server_error(sorts)
    walk_everything(admin_client, "timestamps")


@pytest.mark.parametrize(
    "fields",
    [
        {"session_type": "robot"},
        {"session_type": ""},
        {"agent_id": "", "user_id": ""},
        {"agent_id": None, "team_id": "t", "workflow_id": "w"},
        {"session_type": "team", "team_id": None},
        {"user_id": "u" * 5000, "agent_id": "a" * 5000},
        {"user_id": "users/x/edit", "agent_id": "../../etc/passwd"},
    ],
    ids=["unknown-type", "empty-type", "empty-ids", "every-id", "team-without-id", "long-ids", "path-like-ids"],
)
def test_odd_id_columns(admin_client, fields):
    user_id = fields.get("user_id", "mallory@example.com")
    create_session(session_id="ids", **{"user_id": "mallory@example.com", **fields})
    walk_everything(admin_client, "ids", user_id=user_id or None)


def test_every_malformed_row_at_once_in_lists_and_bulk_deletes(admin_client):
    """The list, its fragments, filters, sorts, pages and a bulk delete of all matching, with every bad row together."""
    for name, value, sqlite_only in ANY_COLUMN:
        if sqlite_only and is_postgresql():
            continue
        for session_type in ID_COLUMN:
            create_with(f"all {name} {session_type}", session_type, runs=1, **dict.fromkeys(JSON_COLUMNS, value))
    for column, shapes in SHAPES.items():
        for name, value in shapes:
            create_with(f"all {column} {name}", runs=1, **{column: value})
    for param in inline_cases():
        if param.marks and is_postgresql():
            continue
        (runs,) = param.values
        create_session(session_id=f"all inline {param.id}", layout="2", user_id="mallory@example.com")
        set_columns(f"all inline {param.id}", runs=runs)
    pages = []
    queries = [
        {},
        {"page": "2"},
        {"page": "3"},
        {"page": "last"},
        {"sort": "updated_at"},
        {"sort": "-updated_at", "page": "2"},
        {"q": "all"},
        {"q": "deep", "sort": "created_at"},
        {"type": "team"},
        {"user_id": "mallory@example.com", "page": "2"},
        {"created_after": "2000-01-01"},
    ]
    for query in queries:
        pages.append((f"list {query}", admin_client.get(LIST_URL, query)))
        pages.append((f"list fragment {query}", admin_client.get(LIST_URL, query, **HTMX)))
    user_url = reverse("sessions_ui:user", args=["mallory@example.com"])
    pages += [("user", admin_client.get(user_url)), ("user page 2", admin_client.get(user_url, {"page": "2"}))]
    pages.append(("choices", admin_client.get(LIST_URL, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="filter-choices")))
    pages.append(("admin", admin_client.get(reverse("admin:sessions_ui_agnosession_changelist"))))
    pages.append(("admin search", admin_client.get(reverse("admin:sessions_ui_agnosession_changelist"), {"q": "x"})))
    some = list(AgnoSession.objects.values_list("pk", flat=True)[:40])
    pages.append(("bulk selected", admin_client.post(BULK_DELETE_URL, {"session_ids": some})))
    pages.append(("bulk all", admin_client.post(BULK_DELETE_URL, {"all_matching": "1", "q": "all"}, **HTMX)))
    count = AgnoSession.objects.filter(session_id__contains="all").count()
    shown = re.search(r'name="fingerprint" value="(\w+)"', pages[-1][1].content.decode()).group(1)
    confirm = {"all_matching": "1", "q": "all", "expected": str(count), "fingerprint": shown, "confirm": "yes"}
    pages.append(("bulk delete all", admin_client.post(BULK_DELETE_URL, confirm)))
    pages.append(("list after", admin_client.get(LIST_URL)))
    pages.append(("audit after", admin_client.get(reverse("sessions_ui:audit"))))
    assert_no_server_error(pages)
    assert not AgnoSession.objects.filter(session_id__contains="all").exists()
