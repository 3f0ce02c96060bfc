"""The search in conversations on what the real agno 3.1.10 wrote (tests/agno/write_agno31.py): the full text of
an offloaded tool result is searched, and the text index keeps up when agno writes new sessions and runs."""

from __future__ import annotations

import pytest

from tests.agno import write_with_agno31
from tests.test_agno31_storage import agno_database, run_dashboard

pytestmark = pytest.mark.agno

SEARCH = """
from django.core.management import call_command
import io
words, build = {words!r}, {build!r}
if build:
    call_command("agno_indexes", "--text", stdout=io.StringIO())
from sessions_ui.queries.text import index_state
print(json.dumps({{
    "indexed": index_state() is not None,
    "found": {{w: page(client.get("/sessions/", {{"text": w}})) for w in words}},
}}))
"""


def listed(shown: dict, word: str) -> list[str]:
    """The detail links of the rows listed for `word` (session and matching run)."""
    html = shown["found"][word]["html"]
    return [part.split('"', 1)[0] for part in html.split('<tbody class="session-row" data-href="')[1:]]


def test_an_offloaded_results_full_text_is_found_with_and_without_the_index(fake_openai_url, fresh_database):
    [entry] = write_with_agno31(agno_database(fresh_database), fake_openai_url, "offload", "o-")["sessions"]
    [report] = [row for row in entry["records"]["tool_results"] if row["tool_name"] == "fetch_report"]
    # Line 0100 of the report is past the 20 lines the run keeps: only the payload table holds it.
    words = ["0100", "nowhere-written-word"]
    for build in (False, True):
        shown = run_dashboard(fresh_database, SEARCH.format(words=words, build=build))
        assert shown["indexed"] is build
        assert shown["found"]["0100"]["status"] == 200
        [link] = listed(shown, "0100")
        assert link.startswith(f"/sessions/{entry['session_id']}/?run=")
        assert link.endswith(f"#run-{report['run_id']}")
        assert "<mark>0100</mark>" in shown["found"]["0100"]["html"]
        assert listed(shown, "nowhere-written-word") == []


def test_the_index_keeps_up_with_what_agno_writes_next(fake_openai_url, fresh_database):
    database = agno_database(fresh_database)
    write_with_agno31(database, fake_openai_url, "offload", "o-")
    shown = run_dashboard(fresh_database, SEARCH.format(words=["porto"], build=True))
    assert shown["indexed"] and listed(shown, "porto") == []

    manifest = write_with_agno31(database, fake_openai_url, "compaction", "k-")  # "And in Porto?" runs
    shown = run_dashboard(fresh_database, SEARCH.format(words=["porto"], build=False))

    with_porto = sorted(
        entry["session_id"] for entry in manifest["sessions"] if any("Porto" in run["input"] for run in entry["runs"])
    )
    assert with_porto
    assert sorted(link.split("/")[2] for link in listed(shown, "porto")) == with_porto
