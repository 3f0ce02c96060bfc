"""The decoding layer's limits, one per bug the hostile suites found (each also caught page by page)."""

from __future__ import annotations

import json

import pytest

from sessions_ui import agno
from sessions_ui.models import StoredJSONField

HUGE_NUMBER = "1" + "0" * 999


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan"), "1e999", "nan", "-inf", "x", [1], None])
def test_as_int_of_what_no_integer_holds_is_none(value):
    assert agno.as_int(value) is None


@pytest.mark.parametrize("value", [10**400, float("inf"), float("nan"), "1.5", True])
def test_as_float_of_what_no_finite_float_holds_is_none(value):
    assert agno.as_float(value) is None


@pytest.mark.parametrize("value", ["²", "1" + "0" * 400, 10**400, float("inf"), "-" + "9" * 40, "yesterday"])
def test_epoch_of_unreadable_numbers_is_none(value):
    assert agno.epoch_to_datetime(value) is None


def test_metrics_with_overflowing_numbers():
    metrics = agno.decode_metrics(
        json.loads(f'{{"total_tokens": 1e999, "duration": {HUGE_NUMBER}, "input_tokens": 5}}')
    )
    assert (metrics.total_tokens, metrics.duration, metrics.tokens) == (None, None, 5)


@pytest.mark.parametrize("depth", [agno.MAX_DEPTH + 1, 900, 5000])
def test_values_nested_deeper_than_the_pages_can_show_are_malformed(depth):
    for text in ("[" * depth + "]" * depth, '{"a": ' * depth + "1" + "}" * depth):
        for stored in (text, json.dumps(text)):  # plain and double-encoded
            value = agno.decode_json(stored)
            assert isinstance(value, agno.Malformed)
            assert value.reason == f"nested more than {agno.MAX_DEPTH} levels deep"


def test_values_as_deep_as_allowed_decode():
    text = "[" * agno.MAX_DEPTH + "]" * agno.MAX_DEPTH
    assert agno.decode_json(text) == json.loads(text)
    assert not agno.nests_deeper_than(json.loads(text), agno.MAX_DEPTH)
    assert agno.nests_deeper_than(json.loads(f"[{text}]"), agno.MAX_DEPTH)


def test_tool_call_arguments_that_do_not_decode_stay_text():
    deep = "[" * 5000 + "]" * 5000
    call = agno.decode_message_tool_call({"function": {"name": "f", "arguments": deep}})
    assert call.args == deep
    assert call.args_text == deep


def test_a_blob_in_a_json_column_reads_as_text():
    field = StoredJSONField()
    assert field.from_db_value(b'{"a": 1}', None, None) == '{"a": 1}'
    assert isinstance(agno.decode_json(field.from_db_value(b"\xff\xfe{", None, None)), agno.Malformed)


def test_a_long_parent_chain_is_cut_after_max_member_depth():
    runs = [agno.decode_run({"run_id": "0"}, order=(0,))]
    runs += [agno.decode_run({"run_id": str(i), "parent_run_id": str(i - 1)}, order=(i,)) for i in range(1, 50)]
    (top,) = agno.nest_runs(runs)
    depth, run = 0, top
    while run.members:
        (run,) = run.members
        depth += 1
    assert depth == agno.MAX_MEMBER_DEPTH
    assert agno.run_path([top], "49") == []


def test_a_parent_cycle_ends():
    runs = [
        agno.decode_run({"run_id": "a", "parent_run_id": "b"}),
        agno.decode_run({"run_id": "b", "parent_run_id": "a"}),
    ]
    assert agno.nest_runs(runs) == []
