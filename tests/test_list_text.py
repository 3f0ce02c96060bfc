"""The search in conversations (issue 15): `text=` over both run layouts, offloaded tool results and summaries,
with the opt-in text index (sessions_ui.queries.text) and without it (the bounded scan)."""

from __future__ import annotations

import json
import time

import pytest
from django.core.cache import cache
from django.core.management import call_command

from sessions_ui.queries import text
from sessions_ui.schema import forget_layout
from tests.factories import create_session

pytestmark = pytest.mark.django_db

NOW = int(time.time())


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def ids(response) -> list[str]:
    return [row.session.session_id for row in response.context["page"].rows]


def a_run(session_id: str, run_id: str, *, user="hello", assistant="hi", args=None, result="ok", created_at=NOW - 500):
    """An agent run with a user message, a tool call (arguments and result) and an answer."""
    args = args or {"q": "nothing"}
    return {
        "run_id": run_id,
        "session_id": session_id,
        "agent_id": "research-agent",
        "status": "COMPLETED",
        "created_at": created_at,
        "input": {"input_content": user},
        "messages": [
            {"role": "system", "content": "You are helpful and use the lookup tool."},
            {"role": "user", "content": user},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": json.dumps(args)}}
                ],
            },
            {"role": "tool", "content": result, "tool_call_id": "c1", "tool_name": "lookup"},
            {"role": "assistant", "content": assistant},
        ],
        "tools": [{"tool_call_id": "c1", "tool_name": "lookup", "tool_args": args, "result": result}],
        "content": assistant,
    }


WHERE = {
    "zebracorn": ("in-user", {"user": "Tell me about the zebracorn please"}),
    "quokka": ("in-assistant", {"assistant": "A quokka is a small marsupial."}),
    "timbuktu": ("in-args", {"args": {"city": "Timbuktu"}}),
    "narwhal": ("in-result", {"result": '{"results": ["narwhal facts"]}'}),
}


@pytest.fixture(params=["2", "3"], ids=["inline-runs", "runs-table"])
def layout(request):
    return request.param


@pytest.fixture(params=[False, True], ids=["scan", "index"])
def with_index(request):
    return request.param


@pytest.fixture
def conversations(db, layout, with_index):
    for offset, (session_id, fields) in enumerate(WHERE.values()):
        create_session(
            session_id=session_id,
            created_at=NOW - 1000 + offset,
            runs=[a_run(session_id, f"run-{session_id}", **fields), a_run(session_id, f"other-{session_id}")],
            layout=layout,
        )
    create_session(
        session_id="in-summary",
        created_at=NOW - 900,
        summary={"summary": "We talked about the axolotl.", "topics": ["pets"]},
        runs=[a_run("in-summary", "run-in-summary")],
        layout=layout,
    )
    create_session(
        session_id="hostile",
        created_at=NOW - 800,
        runs=[a_run("hostile", "run-hostile", user="<script>alert(1)</script> gecko & co")],
        layout=layout,
    )
    create_session(session_id="no-runs", created_at=NOW - 700, session_data={"session_name": "zebracorn by name only"})
    forget_layout()
    if with_index:
        call_command("agno_indexes", "--text", stdout=open("/dev/null", "w"))


@pytest.mark.parametrize("word", [*WHERE, "axolotl"])
def test_text_lists_exactly_the_sessions_holding_the_word(viewer_client, conversations, word, with_index):
    expected = WHERE[word][0] if word in WHERE else "in-summary"
    response = viewer_client.get("/sessions/", {"text": word.upper()})
    assert ids(response) == [expected]
    assert [(chip.label, chip.value) for chip in response.context["chips"]] == [("in conversations", word.upper())]
    notices = " ".join(response.context["notices"])
    assert ("text index" in notices) if with_index else ("Scanning: searched the 7 newest sessions" in notices)


@pytest.mark.parametrize("words", ["helpful", "tool_call_id", "role", "lookup tool"])
def test_json_keys_and_the_system_prompt_are_not_conversation(viewer_client, conversations, words):
    assert ids(viewer_client.get("/sessions/", {"text": words})) == []


def test_every_word_must_be_in_one_run(viewer_client, conversations):
    assert ids(viewer_client.get("/sessions/", {"text": "zebracorn marsupial"})) == []
    assert ids(viewer_client.get("/sessions/", {"text": "marsupial quokka"})) == ["in-assistant"]


def test_text_combines_with_the_other_filters(viewer_client, conversations):
    assert ids(viewer_client.get("/sessions/", {"text": "quokka", "q": "in-user"})) == []
    assert ids(viewer_client.get("/sessions/", {"text": "quokka", "q": "assistant"})) == ["in-assistant"]


def test_the_row_shows_the_snippet_escaped_and_opens_the_matching_run(viewer_client, conversations):
    html = viewer_client.get("/sessions/", {"text": "gecko"}).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <mark>gecko</mark> &amp; co" in html
    assert "<script>alert(1)" not in html
    assert 'href="/sessions/hostile/?run=run-hostile#run-run-hostile"' in html
    summary = viewer_client.get("/sessions/", {"text": "axolotl"}).content.decode()
    assert "In the summary:" in summary and "<mark>axolotl</mark>" in summary


@pytest.mark.parametrize(
    "words", ["' OR 1=1 --", "%", "_", '"role"x', "a\\b", "(?i).*", "the", 'zebracorn" OR "x', "NEAR(a b)", "-x *"]
)
def test_operators_sql_and_regex_never_fail(viewer_client, conversations, words):
    response = viewer_client.get("/sessions/", {"text": words})
    assert response.status_code == 200
    ignored = any("is ignored" in notice for notice in response.context["notices"])
    assert ignored or "no-runs" not in ids(response)


def test_no_words_or_too_long_is_a_notice_and_ignored(viewer_client, conversations):
    for words in ("%", "?!", "x" * 10_000, "a\x00b"):
        response = viewer_client.get("/sessions/", {"text": words})
        assert response.status_code == 200
        assert len(ids(response)) == 7
        assert any("is ignored" in notice for notice in response.context["notices"])


@pytest.mark.parametrize("with_index", [False], ids=["scan"], indirect=True)
def test_the_scan_stops_after_a_page_and_continues_older(viewer_client, conversations, monkeypatch):
    monkeypatch.setattr(text, "SCAN_CHUNK", 2)
    monkeypatch.setattr(text, "LIST_PAGE_SIZE", 1)
    first = viewer_client.get("/sessions/", {"text": "hello"})
    # Two sessions a chunk: the newest two (no-runs, hostile) do not say hello, the next two do, a page.
    assert ids(first) == ["in-summary", "in-result"]
    older = first.context["cl"].text_older_query
    assert older and "text_from=" in older and older in first.content.decode().replace("&amp;", "&")
    second = viewer_client.get("/sessions/" + older)
    assert ids(second) == ["in-args", "in-assistant"]
    assert any("older than the last search" in notice for notice in second.context["notices"])


@pytest.mark.parametrize("with_index", [True], ids=["index"], indirect=True)
def test_the_index_is_kept_current_as_agno_writes(viewer_client, conversations, layout):
    create_session(
        session_id="new",
        created_at=NOW - 5,
        updated_at=NOW,
        runs=[a_run("new", "run-new", user="a wombat appears", created_at=NOW)],
        layout=layout,
    )
    assert ids(viewer_client.get("/sessions/", {"text": "wombat"})) == ["new"]
    assert text.index_state().sessions_until > 0


def test_the_export_and_the_form_carry_text(viewer_client, conversations):
    html = viewer_client.get("/sessions/", {"text": "quokka"}).content.decode()
    assert 'name="text" value="quokka"' in html
    exported = b"".join(viewer_client.get("/sessions/export.csv", {"text": "quokka"}).streaming_content).decode()
    assert [line.split(",")[0] for line in exported.splitlines()[1:]] == ["in-assistant"]


def test_the_overview_takes_the_new_filters_too(viewer_client, conversations):
    response = viewer_client.get("/overview/", {"text": "quokka", "status": "completed", "model": "gpt-4o"})
    assert response.status_code == 200
    fragment = viewer_client.get("/overview/", {"text": "quokka", "status": "error"}, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200


@pytest.mark.parametrize("with_index", [True], ids=["index"], indirect=True)
def test_a_run_agno_adds_to_a_session_is_found(viewer_client, conversations, layout):
    """3.x adds a runs-table row (found by the next search); 2.x rewrites the session's runs and updated_at
    (found by the next search with the opt-in updated_at index, else after agno_text_index, the cron command)."""
    from sessions_ui.models import AgnoRun, AgnoSession

    added = a_run("in-user", "run-added", user="an okapi now", created_at=NOW)
    if layout == "3":
        AgnoRun.objects.create(
            run_id="run-added", session_id="in-user", run_type="agent", run_data=added, created_at=NOW, run_index=2
        )
        AgnoSession.objects.filter(pk="in-user").update(updated_at=NOW)
    else:
        stored = json.loads(AgnoSession.objects.filter(pk="in-user").values_list("runs", flat=True).get())
        runs = json.loads(stored) if isinstance(stored, str) else stored
        AgnoSession.objects.filter(pk="in-user").update(runs=[*runs, added], updated_at=NOW)
        assert ids(viewer_client.get("/sessions/", {"text": "okapi"})) == []  # no updated_at index here
        call_command("agno_text_index", stdout=open("/dev/null", "w"))
    assert ids(viewer_client.get("/sessions/", {"text": "okapi"})) == ["in-user"]
    html = viewer_client.get("/sessions/", {"text": "okapi"}).content.decode()
    assert "?run=run-added#run-run-added" in html


def test_without_fts5_the_command_says_so_and_the_search_scans(viewer_client, monkeypatch):
    from django.core.management.base import CommandError

    monkeypatch.setattr(text, "available", lambda: False)
    with pytest.raises(CommandError, match="no FTS5"):
        call_command("agno_indexes", "--text", stdout=open("/dev/null", "w"))
    assert text.index_state() is None
    response = viewer_client.get("/sessions/", {"text": "anything"})
    assert any("Scanning" in notice for notice in response.context["notices"])


@pytest.mark.parametrize("rare", [1, 300], ids=["common-word", "rare-word"])
def test_a_word_lists_the_same_sessions_however_rare_it_is(viewer_client, conversations, monkeypatch, rare):
    """With the index, a word with more than RARE entries goes through the subquery, a rarer one by its ids."""
    monkeypatch.setattr(text, "RARE", rare)
    expected = ["in-summary", "in-result", "in-args", "in-assistant", "in-user"]  # every run but hostile's says hello
    assert ids(viewer_client.get("/sessions/", {"text": "hello"})) == expected
    assert ids(viewer_client.get("/sessions/", {"text": "hello", "q": "in-a"})) == ["in-args", "in-assistant"]
