"""Agno 3.1's tables around a session, written by the real agno 3.1.10 (tests/agno/write_agno31.py).

Each test gets a database of its own (`fresh_database`): agno writes there, and the dashboard runs
on it in a subprocess (`migrate`, then the test client), configured only by environment variables,
as a user would run it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.agno import AgnoDb, write_with_agno31

pytestmark = pytest.mark.agno

ROOT = Path(__file__).resolve().parent.parent

CLIENT = """
import json
from django.contrib.auth.models import User
from django.test import Client
client = Client()
admin = User.objects.filter(username="contract-admin").first()
client.force_login(admin or User.objects.create_superuser("contract-admin", "admin@example.com", "pw"))
def page(response):
    return {"status": response.status_code, "html": response.content.decode()}
"""


def run_dashboard(database_url: str, script: str, **env: str) -> dict:
    """`migrate`, then `script` (after CLIENT) in `manage.py shell`, on `database_url`; the JSON it prints last."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AGNO_", "TEST_DATABASE"))}
    environment.update(
        DATABASE_URL=database_url.replace("postgresql+psycopg", "postgres"),
        ALLOWED_HOSTS="testserver",
        DJANGO_SETTINGS_MODULE="config.settings",
        **env,
    )
    for command in (["migrate", "--no-input"], ["shell", "-c", CLIENT + script]):
        completed = subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert completed.returncode == 0, completed.stderr[-4000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def agno_database(url: str, session_table: str = "agno_sessions") -> AgnoDb:
    """`url` as agno is told about it; no runs_table, so agno names it by its own rule."""
    return AgnoDb(url=url, schema=settings.AGNO_DB_SCHEMA or None, session_table=session_table, runs_table="")


SHOW_SESSIONS = """
from django.conf import settings
from urllib.parse import quote
ids = {ids!r}
print(json.dumps({{
    "runs_table": settings.AGNO_RUNS_TABLE,
    "list": page(client.get("/sessions/")),
    "details": {{i: page(client.get("/sessions/" + quote(i, safe="") + "/")) for i in ids}},
}}))
"""


def test_custom_session_table_shows_its_runs_with_only_the_session_table_set(fake_openai_url, fresh_database):
    """agno 3.1.10 given session_table="support" and no runs_table writes runs to support_runs: so must we read."""
    manifest = write_with_agno31(agno_database(fresh_database, "support"), fake_openai_url, "custom-table", "c-")
    assert manifest["tables"]["runs"] == "support_runs"
    sessions = manifest["sessions"]
    assert [len(entry["runs"]) for entry in sessions] == [2, 1]

    shown = run_dashboard(
        fresh_database,
        SHOW_SESSIONS.format(ids=[entry["session_id"] for entry in sessions]),
        AGNO_SESSION_TABLE="support",
    )

    assert shown["runs_table"] == "support_runs"
    assert shown["list"]["status"] == 200
    for entry in sessions:
        detail = shown["details"][entry["session_id"]]
        assert detail["status"] == 200
        for run in entry["runs"]:
            assert f'id="run-{run["run_id"]}"' in detail["html"]
            assert run["input"] in detail["html"]
        assert "This session has no runs." not in detail["html"]
    cells = re.findall(r'<td class="col-runs num">(.*?)</td>', shown["list"]["html"], flags=re.S)
    assert sorted(re.sub(r"<[^>]+>", "", cell).strip() for cell in cells) == ["1", "2"]


def test_an_explicit_runs_table_wins_over_agnos_rule():
    script = "from django.conf import settings; print(settings.AGNO_SESSION_TABLE, settings.AGNO_RUNS_TABLE)"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AGNO_")}
    environment["DJANGO_SETTINGS_MODULE"] = "config.settings"

    def runs_table(**env: str) -> str:
        completed = subprocess.run(
            [sys.executable, "-c", f"import django; django.setup(); {script}"],
            cwd=ROOT,
            env={**environment, **env},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert completed.returncode == 0, completed.stderr[-4000:]
        return completed.stdout.split()[-1]

    assert runs_table() == "agno_runs"
    assert runs_table(AGNO_SESSION_TABLE="agno_sessions") == "agno_runs"
    assert runs_table(AGNO_SESSION_TABLE="support") == "support_runs"
    assert runs_table(AGNO_SESSION_TABLE="support", AGNO_RUNS_TABLE="shared_runs") == "shared_runs"


DELETE = """
from urllib.parse import quote
ids, bulk = {ids!r}, {bulk!r}
if bulk:
    url, data = "/sessions/delete/", {{"session_ids": ids}}
else:
    [session_id] = ids
    url, data = "/sessions/" + quote(session_id, safe="") + "/delete/", {{}}
confirmation = page(client.post(url, data))
done = page(client.post(url, {{**data, "confirm": "yes"}}, follow=True))
from django.contrib.admin.models import LogEntry
print(json.dumps({{
    "confirmation": confirmation,
    "done": done,
    "log": sorted(LogEntry.objects.values_list("object_id", "change_message")),
}}))
"""

KINDS = ("sessions", "runs", "tool_results", "fs", "compactions", "transcripts")


def table_rows(database: AgnoDb) -> dict[str, int]:
    """Rows of every table agno's dump lists (its schema and fs.agno_fs on PostgreSQL; the whole file on SQLite)."""
    dump = write_with_agno31(database, "-", "dump")["dump"]
    return {f"{table['schema'] or ''}.{table['table']}": table["rows"] for table in dump}


@pytest.mark.parametrize(
    ("bulk", "session_table"), [(False, "agno_sessions"), (True, "support")], ids=["single", "bulk-custom-table"]
)
def test_dashboard_deletes_exactly_what_agnos_own_delete_does(bulk, session_table, fake_openai_url, fresh_database):
    """The differential delete: twin sessions, one deleted by agno's delete_session(s), the other by the dashboard."""
    database = agno_database(fresh_database, session_table)
    twins = write_with_agno31(database, fake_openai_url, "twins", "", "traces")["sessions"]
    by_agno, by_us = (entry["session_id"] for entry in twins)
    written = twins[1]["counts"]
    assert all(written[kind] == 1 for kind in ("sessions", "tool_results", "fs", "compactions", "transcripts"))
    assert written["runs"] == 4 and written["approvals"] == 1 and written["traces"] >= 1

    agnos_tables = set(table_rows(database))  # on SQLite, the dashboard's own tables join them in the file
    run_dashboard(fresh_database, "print('{}')", AGNO_SESSION_TABLE=session_table)
    before = table_rows(database)
    agno_deleted = write_with_agno31(database, "-", "delete-many" if bulk else "delete", by_agno)
    between = table_rows(database)
    ours = run_dashboard(fresh_database, DELETE.format(ids=[by_us], bulk=bulk), AGNO_SESSION_TABLE=session_table)
    after = table_rows(database)
    counts = write_with_agno31(database, "-", "counts", by_agno, by_us)["counts"]

    assert agno_deleted["before"][by_agno] == written
    for kind in KINDS:  # agno's delete removed these
        assert agno_deleted["after"][by_agno][kind] == 0, kind
    assert counts[by_us] == counts[by_agno] == agno_deleted["after"][by_agno]
    assert counts[by_us]["approvals"] == 1 and counts[by_us]["traces"] == written["traces"]  # kept, as agno keeps them
    assert sorted(after) == sorted(between) == sorted(before)
    assert {table: before[table] - between[table] for table in agnos_tables} == {
        table: between[table] - after[table] for table in agnos_tables
    }

    confirmation = ours["confirmation"]
    assert confirmation["status"] == 200
    assert "<strong>4 runs</strong>," in confirmation["html"]
    assert "<strong>1 compaction record</strong>," in confirmation["html"]
    assert "<strong>1 offloaded tool result</strong> and" in confirmation["html"]
    assert "<strong>1 external-agent transcript entry</strong>" in confirmation["html"]
    assert ours["done"]["status"] == 200
    said = "4 runs, 1 compaction record, 1 offloaded tool result and 1 external-agent transcript entry"
    assert said in ours["done"]["html"]
    # The twins' traces stay, as agno's delete keeps them, and the audit entry says so.
    kept = f"Its {written['traces']} traces ({counts[by_us]['spans']} spans) were kept, as Agno keeps them."
    assert ours["log"] == [[by_us, f"Deleted with its {said}. {kept}"]]


SHOW_COMPACTIONS = """
from urllib.parse import quote
sessions, run_ids = {sessions!r}, {run_ids!r}
shown = {{}}
for session_id, compaction_ids in sessions.items():
    base = "/sessions/" + quote(session_id, safe="") + "/"
    shown[session_id] = {{
        "detail": page(client.get(base)),
        "opened": {{c: page(client.get(base + "compactions/" + quote(c, safe="") + "/", headers={{"HX-Request": "true"}}))
                   for c in compaction_ids}},
        "redirect": client.get(base + "compactions/" + quote(compaction_ids[0], safe="") + "/")["Location"],
        "linked": page(client.get(base, {{"compaction": compaction_ids[0]}})),
        "runs": {{r: page(client.get(base + "runs/" + quote(r, safe="") + "/", headers={{"HX-Request": "true"}}))
                 for r in run_ids[session_id]}},
    }}
print(json.dumps(shown))
"""


def compactions_section(html: str) -> str:
    return html.split('id="compactions"', 1)[1].split('id="runs"', 1)[0]


def test_compaction_records_are_listed_and_open_to_their_summary_and_archive(fake_openai_url, fresh_database):
    manifest = write_with_agno31(agno_database(fresh_database), fake_openai_url, "compaction", "k-")
    records = {entry["session_id"]: entry["records"]["compactions"] for entry in manifest["sessions"]}
    assert [len(records[key]) for key in ("k-compact-manual", "k-compact-auto")] == [1, 2]
    sessions = {session_id: [record["compaction_id"] for record in found] for session_id, found in records.items()}

    run_ids = {entry["session_id"]: [run["run_id"] for run in entry["runs"]] for entry in manifest["sessions"]}
    shown = run_dashboard(fresh_database, SHOW_COMPACTIONS.format(sessions=sessions, run_ids=run_ids))

    manual = shown["k-compact-manual"]
    assert manual["detail"]["status"] == 200
    [record] = records["k-compact-manual"]
    assert f'id="compaction-{record["compaction_id"]}"' in manual["detail"]["html"]
    assert f"{record['messages_compacted']} messages folded" in manual["detail"]["html"]
    assert "outside a run (agent.compact())" in manual["detail"]["html"]
    assert "Weather in Lisbon?" not in compactions_section(manual["detail"]["html"])  # loaded when opened
    opened = manual["opened"][record["compaction_id"]]
    assert opened["status"] == 200
    summary, archive = opened["html"].split("<h4>Folded messages</h4>")
    assert "Answer to" in summary  # the fake model's summary of the folded turns
    assert "Weather in Lisbon?" in archive and "And in Porto?" in archive
    assert "<h2>tool (get_weather)</h2>" in archive  # Agno's Markdown rendering of the folded messages
    assert manual["redirect"].endswith(f"?compaction={record['compaction_id']}#compaction-{record['compaction_id']}")
    assert "And in Porto?" in compactions_section(manual["linked"]["html"])  # opened in place, without JavaScript
    # agent.compact() ran between the third and the fourth run: the timeline marks it after the third, once.
    third_run = run_ids["k-compact-manual"][2]
    entry = manual["detail"]["html"].split(f'id="run-{third_run}"', 1)[1].split("</summary>", 1)[0]
    assert ">compacted after</a>" in entry
    assert manual["detail"]["html"].count(">compacted after</a>") == 1
    assert ">compacted after</a>" not in shown["k-compact-auto"]["detail"]["html"]

    auto = shown["k-compact-auto"]
    folded_runs = [record["run_id"] for record in records["k-compact-auto"]]
    assert all(folded_runs)
    html = auto["detail"]["html"]
    for run_id in folded_runs:
        entry = html.split(f'id="run-{run_id}"', 1)[1].split("</summary>", 1)[0]
        assert ">compacted</span>" in entry
    assert html.count(">compacted</span>") == 2
    assert html.count("during a run</a>") == 2
    # store_history_messages=True: each run repeats earlier context, flagged from_history: shown folded.
    [auto_entry] = [entry for entry in manifest["sessions"] if entry["session_id"] == "k-compact-auto"]
    replayed = [run for run in auto_entry["runs"] if run["from_history_messages"]]
    assert replayed
    for run in replayed:
        body = auto["runs"][run["run_id"]]["html"]
        count = run["from_history_messages"]
        assert (
            f'<details class="block history"><summary>{count} message{"s" if count != 1 else ""} from earlier runs'
            in body
        )


SHOW_OFFLOADED = """
from urllib.parse import quote
session_id, run_ids, result_ids = {session_id!r}, {run_ids!r}, {result_ids!r}
base = "/sessions/" + quote(session_id, safe="") + "/"
htmx = {{"HX-Request": "true"}}
download = client.get(base + "tool-results/" + result_ids[0] + "/")
print(json.dumps({{
    "runs": [page(client.get(base + "runs/" + quote(r, safe="") + "/", headers=htmx)) for r in run_ids],
    "opened": [page(client.get(base + "tool-results/" + r + "/", headers=htmx)) for r in result_ids],
    "download": {{**page(download), "type": download["Content-Type"], "disposition": download["Content-Disposition"]}},
    "missing": client.get(base + "tool-results/res_0000000000/", headers=htmx).status_code,
}}))
"""


def test_offloaded_tool_results_are_marked_and_their_full_text_is_reachable(fake_openai_url, fresh_database):
    [entry] = write_with_agno31(agno_database(fresh_database), fake_openai_url, "offload", "o-")["sessions"]
    index = entry["records"]["tool_results"]
    assert [row["tool_name"] for row in sorted(index, key=lambda row: row["tool_name"])] == [
        "export_rows",
        "fetch_report",
    ]
    by_tool = {row["tool_name"]: row for row in index}
    script = SHOW_OFFLOADED.format(
        session_id=entry["session_id"],
        run_ids=[run["run_id"] for run in entry["runs"]],
        result_ids=[by_tool["fetch_report"]["result_id"], by_tool["export_rows"]["result_id"]],
    )

    shown = run_dashboard(fresh_database, script)

    report_run, rows_run, small_run = shown["runs"]
    for run, tool in ((report_run, "fetch_report"), (rows_run, "export_rows")):
        assert run["status"] == 200
        url = f"/sessions/{entry['session_id']}/tool-results/{by_tool[tool]['result_id']}/"
        assert f'hx-get="{url}"' in run["html"] and f'href="{url}" download' in run["html"]
        assert '<span class="tag offloaded-tag">offloaded</span>' in run["html"]
    assert "400 lines: the run keeps the preview below" in report_run["html"]
    assert "1 line: the run keeps the preview below" in rows_run["html"]
    assert "offloaded" not in small_run["html"] and "Sunny, 21 degrees in Lisbon" in small_run["html"]
    assert len(report_run["html"]) < entry["full_results"]["fetch_report"]  # the run holds a preview only

    report, rows = shown["opened"]
    assert report["status"] == rows["status"] == 200
    assert "line 0200 of report" in report["html"] and "line 0200 of report" not in report_run["html"]
    assert "&quot;id&quot;: 599" in rows["html"]
    assert "Download the full result</a> (26.2\xa0KB)" in report["html"]
    download = shown["download"]
    assert download["type"] == "text/plain; charset=utf-8" and download["disposition"].startswith("attachment;")
    assert len(download["html"]) == entry["full_results"]["fetch_report"] == by_tool["fetch_report"]["size_bytes"]
    assert download["html"].startswith("line 0000 of report") and download["html"].endswith("x" * 40)
    assert shown["missing"] == 404


SHOW_STATES = """
from urllib.parse import quote
sessions = {sessions!r}
htmx = {{"HX-Request": "true"}}
shown = {{"list": page(client.get("/sessions/"))}}
for session_id, run_ids in sessions.items():
    base = "/sessions/" + quote(session_id, safe="") + "/"
    shown[session_id] = {{
        "detail": page(client.get(base)),
        "runs": {{r: page(client.get(base + "runs/" + quote(r, safe="") + "/", headers=htmx)) for r in run_ids}},
    }}
print(json.dumps(shown))
"""


def run_line(html: str, run_id: str) -> str:
    """The collapsed timeline entry of one run: its summary line."""
    return html.split(f'id="run-{run_id}"', 1)[1].split("</summary>", 1)[0]


def test_paused_cancelled_regenerated_and_forked_runs_show_what_they_are(fake_openai_url, fresh_database):
    manifest = write_with_agno31(agno_database(fresh_database), fake_openai_url, "states", "s-")
    entries = {entry["session_id"]: entry for entry in manifest["sessions"]}
    states = entries["s-states"]
    [forked] = [entry for entry in manifest["sessions"] if entry.get("forked_from")]
    runs = {run["purpose"]: run for run in states["runs"]}
    sessions = {session_id: [run["run_id"] for run in entry["runs"]] for session_id, entry in entries.items()}

    shown = run_dashboard(fresh_database, SHOW_STATES.format(sessions=sessions))

    detail = shown["s-states"]["detail"]["html"]
    statuses = [run["status"] for run in states["runs"]]
    assert statuses == ["COMPLETED", "PAUSED", "PAUSED", "CANCELLED", "ERROR", "REGENERATED", "COMPLETED", "COMPLETED"]
    regenerated = runs["regenerated: superseded by the next run"]["run_id"]
    regeneration = runs["regeneration of the regenerated run"]
    fork = runs["fork of the first run"]
    assert regeneration["regenerated_from"] == regenerated and fork["forked_from_run_id"] == runs["completed"]["run_id"]

    assert 'class="run agent superseded"' in detail.split(f'id="run-{regenerated}"', 1)[0].rsplit("<details", 1)[1]
    assert ">superseded</span>" in run_line(detail, regenerated)
    assert f'?run={regenerated}#run-{regenerated}" title="This run regenerates an earlier one">regenerates' in (
        run_line(detail, regeneration["run_id"])
    )
    first = runs["completed"]["run_id"]
    assert f'?run={first}#run-{first}" title="This run forks an earlier one">fork</a>' in run_line(
        detail, fork["run_id"]
    )
    for purpose, badge in (("cancelled by agno's cancel_run from inside a tool", "cancelled"), (
            "error: the model answered HTTP 500", "error"), ("paused: waits for a confirmation", "paused")):  # fmt: skip
        assert f'<span class="badge {badge}">{badge}</span>' in run_line(detail, runs[purpose]["run_id"])

    bodies = shown["s-states"]["runs"]
    confirmation = bodies[runs["paused: waits for a confirmation"]["run_id"]]["html"]
    assert "<dt>Waits for</dt><dd>confirmation of delete_records</dd>" in confirmation
    approval = bodies[runs["paused: waits for an approval (agno_approvals row)"]["run_id"]]["html"]
    assert "<dt>Waits for</dt><dd>confirmation of refund_order (an approval in agno_approvals)</dd>" in approval
    assert "Waits for" not in bodies[first]["html"]
    assert "(superseded by its regeneration)" in bodies[regenerated]["html"]

    copy = shown[forked["session_id"]]["detail"]["html"]
    for run in forked["runs"]:
        assert 'href="/sessions/s-states/" title="Copied by fork_session() from session s-states">forked session' in (
            run_line(copy, run["run_id"])
        )

    # The list's run count agrees with the detail page: the superseded run is counted once, like any other.
    row = shown["list"]["html"].split('href="/sessions/s-states/"', 1)[1].split("</tr>", 1)[0]
    [cell] = re.findall(r'<td class="col-runs num">(.*?)</td>', row, flags=re.S)
    assert re.sub(r"<[^>]+>", "", cell).strip() == "8"
    assert '<h2>Runs <span class="muted">8</span></h2>' in detail


SHOW_TRANSCRIPTS = """
from urllib.parse import quote
base = "/sessions/" + quote({session_id!r}, safe="") + "/"
print(json.dumps({{
    "detail": page(client.get(base)),
    "opened": page(client.get(base + "transcripts/", headers={{"HX-Request": "true"}})),
    "linked": page(client.get(base, {{"transcripts": "open"}})),
    "plain": page(client.get("/sessions/" + quote({plain!r}, safe="") + "/")),
}}))
"""


def test_external_agent_transcripts_open_from_the_detail_page(fake_openai_url, fresh_database):
    database = agno_database(fresh_database)
    [entry] = write_with_agno31(database, fake_openai_url, "transcripts", "t-")["sessions"]
    [plain] = write_with_agno31(database, fake_openai_url, "custom-table", "p-", "agno_sessions")["sessions"][1:]
    external = entry["transcript"]["session_id"]
    assert entry["counts"]["transcripts"] == 3  # main: 2 entries (a repeated uuid ignored), a subagent's: 1

    shown = run_dashboard(
        fresh_database, SHOW_TRANSCRIPTS.format(session_id=entry["session_id"], plain=plain["session_id"])
    )

    section = shown["detail"]["html"].split('id="transcripts"', 1)[1].split('id="runs"', 1)[0]
    assert f'claude-agent-sdk <code>{external}</code> <span class="muted">· 2 entries</span>' in section
    assert (
        f'<code>{external}</code> <span class="muted">subagents/agent-1</span> <span class="muted">· 1 entry</span>'
        in (section)
    )
    assert "Look up the forecast" not in section  # loaded when opened
    opened = shown["opened"]["html"]
    assert (
        opened.index("Weather in Lisbon?")
        < opened.index("Sunny, 21 degrees in Lisbon")
        < opened.index("Look up the forecast")
    )
    assert '<span class="msg-role">assistant</span>' in opened
    assert "Look up the forecast" in shown["linked"]["html"].split('id="transcripts"', 1)[1].split('id="runs"', 1)[0]
    assert 'id="transcripts"' not in shown["plain"]["html"]


EXPORT = """
from urllib.parse import quote
response = client.get("/sessions/" + quote({session_id!r}, safe="") + "/export/")
print(json.dumps({{"status": response.status_code, "exported": json.loads(response.content)}}))
"""


def test_export_carries_agnos_other_records_of_the_session(fake_openai_url, fresh_database):
    database = agno_database(fresh_database)
    twin = write_with_agno31(database, fake_openai_url, "twins", "e-")["sessions"][0]
    records = twin["records"]

    shown = run_dashboard(fresh_database, EXPORT.format(session_id=twin["session_id"]))

    assert shown["status"] == 200
    exported = shown["exported"]
    assert [run["run_id"] for run in exported["runs"]] == [run["run_id"] for run in twin["runs"]]
    kept = exported["agno_records"]
    assert sorted(kept) == ["compactions", "tool_results", "transcripts"]
    [compaction] = kept["compactions"]
    assert compaction["compaction_id"] == records["compactions"][0]["compaction_id"]
    assert compaction["summary"] and "Weather in Lisbon?" in compaction["archived_messages"]
    [result] = kept["tool_results"]
    [index] = records["tool_results"]
    assert (result["result_id"], result["namespace"], result["path"]) == (
        index["result_id"],
        index["namespace"],
        index["path"],
    )
    assert len(result["payload"]) == index["size_bytes"] and result["payload"].startswith("line 0000 of report")
    [entry] = kept["transcripts"]
    assert entry["session_id"] == twin["transcript"]["session_id"] and entry["agno_session_id"] == twin["session_id"]
    assert json.loads(entry["entry"])["message"]["content"] == "Hello"
