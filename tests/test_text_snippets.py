"""What the search in conversations reads of a run (sessions_ui.agno.text): the words, the text and the snippet."""

from __future__ import annotations

import json

from sessions_ui.agno.text import contains_words, run_text, search_words, snippet, summary_text


def test_search_words_are_the_letters_and_digits_lower_case_once_each():
    assert search_words("Refund POLICY, refund!") == ["refund", "policy"]
    assert search_words('\' OR 1=1 -- %_ "x" (?i).*') == ["or", "1", "x", "i"]
    assert search_words("%%% ?!") == []
    assert len(search_words("word " * 5000)) == 1


def test_run_text_is_the_conversation_not_the_json_around_it():
    run = {
        "run_id": "r1",
        "input": {"input_content": "first question"},
        "messages": [
            {"role": "system", "content": "secret system prompt"},
            {"role": "user", "content": "an earlier turn", "from_history": True},
            {"role": "user", "content": "first question"},
            {
                "role": "assistant",
                "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": '{"city": "Oslo"}'}}],
            },
            {"role": "tool", "content": "sunny result", "tool_call_id": "c"},
            {"role": "assistant", "content": "the answer"},
        ],
        "tools": [{"tool_name": "f", "tool_args": {"city": "Oslo"}, "result": "sunny result"}],
        "content": "the answer",
    }
    text = run_text(json.dumps(run))
    for part in ("first question", "Oslo", "sunny result", "the answer"):
        assert part in text
    for absent in ("secret system prompt", "an earlier turn", "tool_call_id", "role"):
        assert absent not in text
    assert text.count("first question") == 1
    assert run_text("not json {") == ""


def test_summary_text_reads_both_encodings_and_garbage():
    assert "axolotl" in summary_text(json.dumps({"summary": "the axolotl", "topics": ["pets"]}))
    assert "pets" in summary_text(json.dumps(json.dumps({"summary": "x", "topics": ["pets"]})))
    assert summary_text("null") == summary_text(None) == summary_text("{broken") == ""


def test_contains_words_takes_whole_words_in_any_case():
    assert contains_words("The Refund policy.", ["refund", "policy"])
    assert not contains_words("The refunds policy.", ["refund"])
    assert not contains_words("refund", ["refund", "policy"])
    assert not contains_words("anything", [])


def test_the_snippet_is_escaped_marked_and_cut_around_the_first_word():
    text = "x " * 200 + "<script>alert('refund')</script> & the REFUND again " + "y " * 200
    shown = str(snippet(text, ["refund"]))
    assert "<script>" not in shown
    assert "&lt;script&gt;alert(&#39;<mark>refund</mark>&#39;)&lt;/script&gt; &amp; the <mark>REFUND</mark>" in shown
    assert shown.startswith("…") and shown.endswith("…")
    assert len(shown) < 400
    assert str(snippet("nothing here", ["refund"])) == ""
