"""Agno 3.1's tables around a session, written by the real agno 3.1.10 (tests/agno/write_agno31.py).

Each test gets a database of its own (`fresh_database`): agno writes there, and the dashboard runs
on it in a subprocess (`migrate`, then the test client), configured only by environment variables,
as a user would run it.
"""

from __future__ import annotations

import json
import os
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
    list_runs = [
        cell.split(">", 1)[1].split("<", 1)[0] for cell in shown["list"]["html"].split('<td class="col-runs num"')[1:]
    ]
    assert sorted(list_runs) == ["1", "2"]


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
    assert ours["log"] == [[by_us, f"Deleted with its {said}."]]


SHOW_COMPACTIONS = """
from urllib.parse import quote
sessions = {sessions!r}
shown = {{}}
for session_id, compaction_ids in sessions.items():
    base = "/sessions/" + quote(session_id, safe="") + "/"
    shown[session_id] = {{
        "detail": page(client.get(base)),
        "opened": {{c: page(client.get(base + "compactions/" + quote(c, safe="") + "/", headers={{"HX-Request": "true"}}))
                   for c in compaction_ids}},
        "redirect": client.get(base + "compactions/" + quote(compaction_ids[0], safe="") + "/")["Location"],
        "linked": page(client.get(base, {{"compaction": compaction_ids[0]}})),
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

    shown = run_dashboard(fresh_database, SHOW_COMPACTIONS.format(sessions=sessions))

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

    auto = shown["k-compact-auto"]
    folded_runs = [record["run_id"] for record in records["k-compact-auto"]]
    assert all(folded_runs)
    html = auto["detail"]["html"]
    for run_id in folded_runs:
        entry = html.split(f'id="run-{run_id}"', 1)[1].split("</summary>", 1)[0]
        assert ">compacted</span>" in entry
    assert html.count(">compacted</span>") == 2
    assert html.count("during a run</a>") == 2
