"""Let the real agno 3.1 write the records around a session; print a JSON manifest of what it wrote.

Runs inside the agno 3.1.10 virtualenv only (`.agno-venvs/agno-3.1.10`): see
`tests/agno/__init__.py: write_with_agno31`. Like write_sessions.py, the model is OpenAIChat
pointed at `fake_openai.py`, so every row below is written by agno's own code paths: tool calls,
result offloading, compaction summaries, pauses, approvals, cancellation, regeneration, forks.

    python write_agno31.py DB_JSON MODEL_URL SCENARIO [ARG ...]

Scenarios that write (PREFIX starts every session id and component id they create):

    custom-table PREFIX [SESSION_TABLE]  sessions in SESSION_TABLE (default "support") with no
                                         runs_table given: agno names the runs table SESSION_TABLE_runs
    offload PREFIX                       offload_tool_results=True: two tool results over 16,000
                                         characters (text, one-line JSON) go to agno_tool_results + agno_fs
    compaction PREFIX                    a manual agent.compact() fold and two automatic folds
    states PREFIX                        COMPLETED, PAUSED (confirmation; approval in agno_approvals),
                                         CANCELLED, ERROR, REGENERATED + its regeneration, a fork,
                                         a forked session, a rejected confirmation
    running PREFIX                       a run left RUNNING: checkpoint="tool-batch", then the process
                                         dies (os._exit) before the run ends, as a killed worker would
    transcripts PREFIX                   an external-agent transcript in agno_transcripts, written with
                                         agno's AgnoSessionStore (the Claude Agent SDK is not run)
    traces PREFIX [TRACE_DB_JSON]        setup_tracing(): an agent, a team and a workflow run traced
                                         into agno_traces / agno_spans (of TRACE_DB_JSON if given);
                                         needs requirements-3.txt
    twins PREFIX [traces]                PREFIX twin-a and PREFIX twin-b, identical but for their ids:
                                         runs, an offloaded result, a compaction, a transcript, a pending
                                         approval (and traces with "traces"), for differential deletes

Entries that read or delete (no model calls; MODEL_URL is not used, pass "-"):

    delete SESSION_ID [...]              agno's own db.delete_session() on each id
    delete-many SESSION_ID [...]         agno's own db.delete_sessions(ids)
    counts SESSION_ID [...]              the rows of every agno table that belong to each session
    dump                                 every table of the database: columns, keys, indexes, row
                                         count and one sample row (values cut to 300 characters)

The manifest is {"agno_version", "scenario", "tables", "sessions": [...]} (plus "deleted",
"before", "after", "counts" or "dump" for the read/delete entries). Each session entry holds the
ids asked for, its runs (run_id, status, what the run was for), the records agno wrote around it
(tool results and payloads, compactions, approvals, transcripts, traces: `records`, and their
row counts: `counts`) and, under "agno", the session as agno itself reads it back.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from typing import Any

os.environ.setdefault("AGNO_TELEMETRY", "false")
os.environ.setdefault("OPENAI_API_KEY", "not-used")

# agno's log handlers bind to sys.stdout when agno is imported: send them to stderr, so that the
# manifest is all stdout holds.
REAL_STDOUT, sys.stdout = sys.stdout, sys.stderr

from agno.agent import Agent  # noqa: E402
from agno.approval import approval  # noqa: E402
from agno.compaction import Compaction  # noqa: E402
from agno.models.openai import OpenAIChat  # noqa: E402
from agno.offload.store import namespace_for  # noqa: E402
from agno.run import RunContext  # noqa: E402
from agno.team import Team  # noqa: E402
from agno.tools import tool  # noqa: E402
from agno.workflow import Step, StepInput, StepOutput, Workflow  # noqa: E402
from fake_openai import FAILURE_MESSAGE  # noqa: E402
from read_sessions import agno_version, make_db, read_session  # noqa: E402
from sqlalchemy import inspect as sa_inspect  # noqa: E402
from sqlalchemy import text  # noqa: E402

MODEL_ID = "gpt-4o-mini"
USER_ID = "ada@example.com"
REPORT_LINES = 400  # 400 lines of 66 characters: 26,799 characters, over the 16,000 threshold
SAMPLE_CHARS = 300


# --- tools (real python functions the fake model calls) ---------------------------------------


def get_weather(city: str) -> str:
    """Get the weather forecast for a city."""
    return f"Sunny, 21 degrees in {city}"


def fetch_report(report: str) -> str:
    """Fetch a long text report (over 16,000 characters: agno offloads it)."""
    return "\n".join(f"line {i:04d} of report {report}: " + "x" * 40 for i in range(REPORT_LINES))


def export_rows(table: str) -> str:
    """Export a table as one long line of JSON (over 16,000 characters: agno offloads it)."""
    return json.dumps({"table": table, "rows": [{"id": i, "name": f"row {i}", "value": i * 7} for i in range(600)]})


@tool(requires_confirmation=True)
def delete_records(table: str) -> str:
    """Delete all records of a table (needs the user's confirmation)."""
    return f"Deleted every record of {table}"


@approval
@tool(requires_confirmation=True)
def refund_order(order: str) -> str:
    """Refund an order (needs an approval)."""
    return f"Refunded order {order}"


def stop_run(reason: str, run_context: RunContext) -> str:
    """Stop the current run (cancels it through agno's own cancel_run)."""
    Agent.cancel_run(run_context.run_id)
    return f"Stopping: {reason}"


def search_flights(destination: str) -> str:
    """Search flights to a destination."""
    return f"3 flights to {destination}, from 420 EUR"


def search_hotels(city: str) -> str:
    """Search hotels in a city."""
    return f"Hotel Sakura in {city}, 95 EUR a night"


def collect_figures(step_input: StepInput) -> StepOutput:
    return StepOutput(content="Orders: 42, returns: 3.")


# --- helpers -----------------------------------------------------------------------------------


def model(url: str) -> OpenAIChat:
    return OpenAIChat(id=MODEL_ID, base_url=url, api_key="not-used", max_retries=0)


def agent(db, url: str, agent_id: str, name: str, tools: list, **kwargs) -> Agent:
    return Agent(id=agent_id, name=name, model=model(url), tools=tools, db=db, telemetry=False, **kwargs)


def run_entry(output, purpose: str, question: str) -> dict:
    status = getattr(output.status, "value", output.status)
    return {"run_id": output.run_id, "status": status, "purpose": purpose, "input": question}


def session_entry(session_id: str, kind: str, component_id: str, runs: list[dict], **fields) -> dict:
    return {
        "session_id": session_id,
        "session_type": kind,
        "component_id": component_id,
        "user_id": USER_ID,
        "runs": runs,
        **fields,
    }


def cut(value: Any, limit: int = SAMPLE_CHARS) -> Any:
    if isinstance(value, (bytes, bytearray)):
        value = value.decode("utf-8", "replace")
    if isinstance(value, (dict, list)):
        value = json.dumps(value, default=str)
    if isinstance(value, str) and len(value) > limit:
        return value[:limit] + f"... [{len(value)} characters]"
    return value


class Tables:
    """The physical tables behind one agno db: names as agno derives them, and plain SQL on them."""

    def __init__(self, db) -> None:
        self.db = db
        self.engine = db.db_engine
        self.postgres = self.engine.dialect.name == "postgresql"
        self.schema = getattr(db, "db_schema", None) if self.postgres else None
        self.fs_schema = "fs" if self.postgres else None

    def names(self) -> dict:
        db = self.db
        return {
            "schema": self.schema,
            "sessions": db.session_table_name,
            "runs": db.runs_table_name,
            "tool_results": db.tool_results_table_name,
            "fs": ("fs.agno_fs" if self.postgres else "agno_fs"),
            "compactions": db.compactions_table_name,
            "transcripts": db.transcripts_table_name,
            "approvals": db.approvals_table_name,
            "traces": db.trace_table_name,
            "spans": db.span_table_name,
            "metrics": db.metrics_table_name,
            "memories": db.memory_table_name,
            "versions": db.versions_table_name,
        }

    def exists(self, table: str, schema: str | None) -> bool:
        return sa_inspect(self.engine).has_table(table, schema=schema)

    def qualified(self, table: str, schema: str | None) -> str:
        return f'"{schema}"."{table}"' if schema else f'"{table}"'

    def rows(self, table: str, where: str, params: dict, schema: str | None = "", columns: str = "*") -> list[dict]:
        schema = self.schema if schema == "" else schema
        if not self.exists(table, schema):
            return []
        sql = f"SELECT {columns} FROM {self.qualified(table, schema)} WHERE {where}"
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(text(sql), params)]

    def session_records(self, session_id: str) -> dict:
        """Every row agno keeps for one session, in every table that has one (ids, not payloads)."""
        db, sid = self.db, {"sid": session_id}
        tool_results = self.rows(
            db.tool_results_table_name,
            "session_id = :sid",
            sid,
            columns="result_id, namespace, path, run_id, tool_name, content_type, size_bytes, line_count",
        )
        namespace = namespace_for(session_id, self.schema or "")
        fs = self.rows(
            "agno_fs",
            "namespace = :ns",
            {"ns": namespace},
            schema=self.fs_schema,
            columns="namespace, path, user_id, size_bytes",
        )
        traces = self.rows(db.trace_table_name, "session_id = :sid", sid, columns="trace_id, name, run_id, status")
        spans = []
        for trace in traces:
            spans += self.rows(db.span_table_name, "trace_id = :t", {"t": trace["trace_id"]}, columns="span_id, name")
        return {
            "sessions": self.rows(db.session_table_name, "session_id = :sid", sid, columns="session_id"),
            "runs": self.rows(db.runs_table_name, "session_id = :sid", sid, columns="run_id, status, run_index"),
            "tool_results": tool_results,
            "fs": fs,
            "compactions": self.rows(
                db.compactions_table_name,
                "session_id = :sid",
                sid,
                columns="compaction_id, run_id, messages_compacted",
            ),
            "transcripts": self.rows(
                db.transcripts_table_name,
                "agno_session_id = :sid",
                sid,
                columns="framework, project_key, session_id, subpath, position",
            ),
            "approvals": self.rows(db.approvals_table_name, "session_id = :sid", sid, columns="id, run_id, status"),
            "traces": traces,
            "spans": spans,
        }

    def counts(self, session_id: str) -> dict:
        return {table: len(rows) for table, rows in self.session_records(session_id).items()}

    def dump(self) -> list[dict]:
        """Every table in agno's schema (and fs.agno_fs): layout, row count and one sample row."""
        inspector = sa_inspect(self.engine)
        schemas = [self.schema, self.fs_schema] if self.postgres else [None]
        tables = []
        for schema in schemas:
            if schema is not None and not inspector.has_schema(schema):
                continue
            for name in sorted(inspector.get_table_names(schema=schema)):
                qualified = self.qualified(name, schema)
                with self.engine.connect() as connection:
                    count = connection.execute(text(f"SELECT count(*) FROM {qualified}")).scalar()
                    sample = connection.execute(text(f"SELECT * FROM {qualified} LIMIT 1")).first()
                    ddl = None
                    if not self.postgres:
                        ddl = connection.execute(
                            text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :n"), {"n": name}
                        ).scalar()
                tables.append(
                    {
                        "schema": schema,
                        "table": name,
                        "columns": [
                            {
                                "name": c["name"],
                                "type": str(c["type"]),
                                "nullable": c["nullable"],
                                "default": c.get("default"),
                            }
                            for c in inspector.get_columns(name, schema=schema)
                        ],
                        "primary_key": inspector.get_pk_constraint(name, schema=schema).get("constrained_columns"),
                        "foreign_keys": [
                            {
                                "columns": fk["constrained_columns"],
                                "references": ".".join(filter(None, [fk.get("referred_schema"), fk["referred_table"]])),
                                "referred_columns": fk["referred_columns"],
                                "ondelete": (fk.get("options") or {}).get("ondelete"),
                            }
                            for fk in inspector.get_foreign_keys(name, schema=schema)
                        ],
                        "indexes": [
                            {"name": i["name"], "columns": i["column_names"], "unique": bool(i["unique"])}
                            for i in inspector.get_indexes(name, schema=schema)
                        ],
                        "unique_constraints": [
                            {"name": u["name"], "columns": u["column_names"]}
                            for u in inspector.get_unique_constraints(name, schema=schema)
                        ],
                        "sqlite_ddl": ddl,
                        "rows": count,
                        "sample": {k: cut(v) for k, v in sample._mapping.items()} if sample is not None else None,
                    }
                )
        return tables


def finish(db, sessions: list[dict]) -> list[dict]:
    """Add the records agno wrote around each session, and the session as agno reads it back."""
    tables = Tables(db)
    for entry in sessions:
        records = tables.session_records(entry["session_id"])
        entry["records"] = records
        entry["counts"] = {table: len(rows) for table, rows in records.items()}
        entry["agno"] = read_session(db, entry["session_id"])
    return sessions


def stored_run_status(db, run_id: str) -> str | None:
    rows = Tables(db).rows(db.runs_table_name, "run_id = :r", {"r": run_id}, columns="status")
    return rows[0]["status"] if rows else None


# --- scenarios ---------------------------------------------------------------------------------


def write_custom_table(db, url: str, prefix: str, session_table: str = "support") -> tuple[Any, list[dict]]:
    """Sessions in a custom session table, no runs_table given: agno derives f"{session_table}_runs"."""
    db = make_db({**SPEC, "session_table": session_table, "runs_table": ""})
    bot = agent(db, url, f"{prefix}support-agent", "Support Bot", [get_weather])
    sessions = []
    for suffix, questions in (("1", ["Weather in Lisbon?", "And tomorrow? (no tools)"]), ("2", ["Weather in Kyoto?"])):
        session_id = f"{prefix}support-{suffix}"
        runs = [
            run_entry(bot.run(q, session_id=session_id, user_id=USER_ID, stream=False), "agent run", q)
            for q in questions
        ]
        sessions.append(session_entry(session_id, "agent", f"{prefix}support-agent", runs))
    return db, sessions


def write_offload(db, url: str, prefix: str) -> list[dict]:
    """Two results over the threshold (multi-line text; one-line JSON) and one under it."""
    bot = agent(
        db,
        url,
        f"{prefix}offload-agent",
        "Report Reader",
        [fetch_report, export_rows, get_weather],
        offload_tool_results=True,
    )
    session_id = f"{prefix}offload"
    runs = []
    for purpose, question in (
        ("text result over the threshold: offloaded", "Read the sales report (call fetch_report)"),
        ("one-line JSON result over the threshold: offloaded", "Export the orders (call export_rows)"),
        ("small result: kept inline", "Weather in Lisbon? (call get_weather)"),
    ):
        output = bot.run(question, session_id=session_id, user_id=USER_ID, stream=False)
        entry = run_entry(output, purpose, question)
        entry["tool_messages"] = [cut(m.content, 2000) for m in output.messages or [] if m.role == "tool"]
        runs.append(entry)
    return [
        session_entry(
            session_id,
            "agent",
            f"{prefix}offload-agent",
            runs,
            threshold_chars=bot.result_store.threshold_chars if bot.result_store else None,
            full_results={"fetch_report": len(fetch_report("test")), "export_rows": len(export_rows("test"))},
        )
    ]


def write_compaction(db, url: str, prefix: str) -> list[dict]:
    sessions = []

    # Manual: three runs, agent.compact() (a fold outside any run: run_id NULL), then a fourth run
    # whose context starts with the summary.
    manual = agent(
        db,
        url,
        f"{prefix}compact-agent",
        "Compactor",
        [get_weather],
        add_history_to_context=True,
        compaction=Compaction(uncompacted_runs=1, compact_at_tokens=None),
    )
    session_id = f"{prefix}compact-manual"
    runs = []
    for question in ("Weather in Lisbon?", "And in Porto?", "And in Faro?"):
        runs.append(
            run_entry(manual.run(question, session_id=session_id, user_id=USER_ID), "before the fold", question)
        )
    # Agno stamps runs and folds in whole seconds; real runs take longer than one, the fake model's do not:
    # a second on either side of the fold keeps its place in the timeline unambiguous.
    time.sleep(1)
    result = manual.compact(session_id=session_id, user_id=USER_ID)
    time.sleep(1)
    question = "And in Braga?"
    runs.append(run_entry(manual.run(question, session_id=session_id, user_id=USER_ID), "after the fold", question))
    sessions.append(session_entry(session_id, "agent", f"{prefix}compact-agent", runs, compact_result=result.to_dict()))

    # Automatic: a tiny compact_at_tokens folds during runs 3 and 4 (the run's own id on the row,
    # and the record on the run as run_data["compaction"]). store_history_messages=True keeps
    # the replayed history, flagged from_history, in each stored run.
    auto = agent(
        db,
        url,
        f"{prefix}compact-auto-agent",
        "Auto Compactor",
        [get_weather],
        add_history_to_context=True,
        store_history_messages=True,
        compaction=Compaction(uncompacted_runs=1, compact_at_tokens=60),
    )
    session_id = f"{prefix}compact-auto"
    runs = []
    for question in ("Weather in Lisbon?", "And in Porto?", "And in Faro?", "And in Braga?"):
        output = auto.run(question, session_id=session_id, user_id=USER_ID)
        entry = run_entry(output, "automatic compaction", question)
        entry["compaction"] = output.compaction.to_dict() if output.compaction else None
        entry["from_history_messages"] = sum(1 for m in output.messages or [] if m.from_history)
        runs.append(entry)
    sessions.append(session_entry(session_id, "agent", f"{prefix}compact-auto-agent", runs))
    return sessions


def write_states(db, url: str, prefix: str) -> list[dict]:
    bot = agent(
        db,
        url,
        f"{prefix}states-agent",
        "State Machine",
        [get_weather, delete_records, refund_order, stop_run],
        add_history_to_context=True,
    )
    session_id = f"{prefix}states"

    def ask(question: str, purpose: str) -> dict:
        return run_entry(bot.run(question, session_id=session_id, user_id=USER_ID, stream=False), purpose, question)

    runs = [
        ask("Weather in Lisbon? (call get_weather)", "completed"),
        ask("Empty the orders table (call delete_records)", "paused: waits for a confirmation"),
        ask("Refund order 42 (call refund_order)", "paused: waits for an approval (agno_approvals row)"),
        ask("Stop now (call stop_run)", "cancelled by agno's cancel_run from inside a tool"),
        ask("This one breaks (fail)", "error: the model answered HTTP 500"),
    ]
    runs[-1]["error_text"] = FAILURE_MESSAGE
    regenerated = ask("Weather in Kyoto? (call get_weather)", "regenerated: superseded by the next run")
    runs.append(regenerated)
    output = bot.continue_run(run_id=regenerated["run_id"], session_id=session_id, user_id=USER_ID, regenerate=True)
    entry = run_entry(output, "regeneration of the regenerated run", "")
    entry.update(regenerated_from=output.regenerated_from, forked_from_run_id=output.forked_from_run_id)
    runs.append(entry)
    regenerated["status"] = stored_run_status(db, regenerated["run_id"])
    question = "What about Porto instead? (no tools)"
    output = bot.continue_run(
        run_id=runs[0]["run_id"], session_id=session_id, user_id=USER_ID, fork=True, input=question
    )
    entry = run_entry(output, "fork of the first run", question)
    entry.update(
        forked_from_run_id=output.forked_from_run_id, forked_from_message_index=output.forked_from_message_index
    )
    runs.append(entry)
    sessions = [session_entry(session_id, "agent", f"{prefix}states-agent", runs)]

    # A rejected confirmation: the run continues with the rejection as the tool's answer.
    session_id = f"{prefix}states-rejected"
    question = "Empty the users table (call delete_records)"
    paused = bot.run(question, session_id=session_id, user_id=USER_ID, stream=False)
    for requirement in paused.active_requirements:
        requirement.reject(note="Not today")
    output = bot.continue_run(
        run_id=paused.run_id, requirements=paused.requirements, session_id=session_id, user_id=USER_ID
    )
    sessions.append(
        session_entry(
            session_id, "agent", f"{prefix}states-agent", [run_entry(output, "confirmation rejected", question)]
        )
    )

    # fork_session(): a new session whose runs are copies, each with forked_from_session_id.
    forked_id = bot.fork_session(source_session_id=f"{prefix}states", user_id=USER_ID)
    forked = bot.get_session(session_id=forked_id, user_id=USER_ID)
    forked_runs = [
        {"run_id": r.run_id, "status": getattr(r.status, "value", r.status), "purpose": "copied by fork_session"}
        for r in forked.runs or []
    ]
    sessions.append(
        session_entry(forked_id, "agent", f"{prefix}states-agent", forked_runs, forked_from=f"{prefix}states")
    )
    return sessions


class CrashingModel(OpenAIChat):
    """OpenAIChat whose second call kills the process, as a killed worker would, mid-run."""

    calls: int = 0
    on_crash: Any = None

    def invoke(self, *args, **kwargs):
        self.calls += 1
        if self.calls == 2 and self.on_crash is not None:
            self.on_crash()
        return super().invoke(*args, **kwargs)


def write_running(db, url: str, prefix: str) -> None:
    """checkpoint="tool-batch" stores the run as RUNNING after its tool batch; the process then dies."""
    session_id = f"{prefix}running"
    crashing = CrashingModel(id=MODEL_ID, base_url=url, api_key="not-used", max_retries=0)
    bot = Agent(
        id=f"{prefix}running-agent",
        name="Killed Worker",
        model=crashing,
        tools=[get_weather],
        db=db,
        telemetry=False,
        checkpoint="tool-batch",
    )
    question = "Weather in Lisbon? (call get_weather)"

    def crash() -> None:
        session = db.get_session(session_id=session_id, deserialize=False)
        runs = (session or {}).get("runs") or []
        entry = session_entry(
            session_id,
            "agent",
            f"{prefix}running-agent",
            [
                {"run_id": r.get("run_id"), "status": r.get("status"), "purpose": "left RUNNING", "input": question}
                for r in runs
            ],
        )
        print(json.dumps(manifest("running", db, finish(db, [entry])), default=str), file=REAL_STDOUT, flush=True)
        os._exit(0)

    crashing.on_crash = crash
    bot.run(question, session_id=session_id, user_id=USER_ID, stream=False)
    raise RuntimeError("the run ended instead of being killed after its checkpoint")


def write_transcripts(db, url: str, prefix: str, session_id: str | None = None) -> list[dict]:
    """An agno session plus the external transcript an SDK would store through AgnoSessionStore."""
    import asyncio

    from agno.agents.claude.session_store import AgnoSessionStore

    session_id = session_id or f"{prefix}transcripts"
    component_id = f"{prefix}claude-agent"
    bot = agent(db, url, component_id, "Claude Code", [get_weather])
    question = "Weather in Lisbon?"
    runs = [run_entry(bot.run(question, session_id=session_id, user_id=USER_ID), "agent run", question)]
    external_id = f"sdk-{session_id}"
    # ClaudeAgent remembers the SDK's session id in session_data["claude_sdk_session_id"].
    session = bot.get_session(session_id=session_id, user_id=USER_ID)
    session.session_data = {**(session.session_data or {}), "claude_sdk_session_id": external_id}
    bot.save_session(session)
    store = AgnoSessionStore(db, project_key=component_id, agno_session_id=session_id)
    main = [
        {
            "type": "user",
            "uuid": f"{external_id}-u1",
            "sessionId": external_id,
            "message": {"role": "user", "content": question},
        },
        {
            "type": "assistant",
            "uuid": f"{external_id}-a1",
            "parentUuid": f"{external_id}-u1",
            "sessionId": external_id,
            "message": {"role": "assistant", "content": [{"type": "text", "text": "Sunny, 21 degrees in Lisbon"}]},
        },
    ]
    sub = [
        {
            "type": "user",
            "uuid": f"{external_id}-s1",
            "sessionId": external_id,
            "message": {"role": "user", "content": "Look up the forecast"},
        },
    ]
    asyncio.run(store.append({"session_id": external_id}, main))
    asyncio.run(store.append({"session_id": external_id, "subpath": "subagents/agent-1"}, sub))
    asyncio.run(store.append({"session_id": external_id}, main[:1]))  # same uuid again: ignored
    entry = session_entry(
        session_id,
        "agent",
        component_id,
        runs,
        transcript={"framework": store.framework, "project_key": component_id, "session_id": external_id},
    )
    return [entry]


def setup_tracing_into(trace_db) -> None:
    try:
        import openinference.instrumentation.agno  # noqa: F401
    except ImportError as error:
        raise SystemExit(
            "tracing needs openinference-instrumentation-agno in the agno 3.1 venv: "
            ".agno-venvs/agno-3.1.10/bin/pip install -r tests/agno/requirements-3.txt"
        ) from error
    from agno.tracing import setup_tracing

    setup_tracing(db=trace_db)


@contextlib.contextmanager
def own_trace():
    """Run in an empty OpenTelemetry context, so the run starts a trace of its own.

    openinference-instrumentation-agno 1.0.15 leaves a Team.run span attached to the context
    after the run returns: whatever runs next in the thread becomes a child span in the team's
    trace (and agno_traces gets no row for it). A fresh context per run keeps traces apart.
    """
    from opentelemetry import context

    token = context.attach(context.Context())
    try:
        yield
    finally:
        context.detach(token)


def flush_traces() -> None:
    from opentelemetry import trace as trace_api

    provider = trace_api.get_tracer_provider()
    if hasattr(provider, "force_flush"):
        provider.force_flush()


def write_traces(db, url: str, prefix: str, trace_spec: str | None = None) -> list[dict]:
    trace_db = make_db(json.loads(trace_spec)) if trace_spec else db
    setup_tracing_into(trace_db)
    sessions = []

    bot = agent(db, url, f"{prefix}traced-agent", "Traced Bot", [get_weather])
    session_id, question = f"{prefix}traced-agent", "Weather in Lisbon?"
    with own_trace():
        runs = [run_entry(bot.run(question, session_id=session_id, user_id=USER_ID), "agent run", question)]
    sessions.append(session_entry(session_id, "agent", f"{prefix}traced-agent", runs))

    team = Team(
        id=f"{prefix}traced-team",
        name="Traced Travel",
        model=model(url),
        members=[
            agent(db, url, f"{prefix}traced-flights", "Flight Finder", [search_flights]),
            agent(db, url, f"{prefix}traced-hotels", "Hotel Scout", [search_hotels]),
        ],
        delegate_to_all_members=True,
        db=db,
        telemetry=False,
    )
    session_id, question = f"{prefix}traced-team", "Plan a trip to Kyoto"
    with own_trace():
        runs = [run_entry(team.run(question, session_id=session_id, user_id=USER_ID), "team run", question)]
    sessions.append(session_entry(session_id, "team", f"{prefix}traced-team", runs))

    workflow = Workflow(
        id=f"{prefix}traced-workflow",
        name="Traced Report",
        db=db,
        steps=[
            Step(name="Collect", executor=collect_figures),
            Step(name="Summarise", agent=agent(None, url, f"{prefix}traced-reporter", "Reporter", [])),
        ],
        telemetry=False,
    )
    session_id, question = f"{prefix}traced-workflow", "Daily report for Monday"
    with own_trace():
        output = workflow.run(input=question, session_id=session_id, user_id=USER_ID)
    sessions.append(
        session_entry(session_id, "workflow", f"{prefix}traced-workflow", [run_entry(output, "workflow run", question)])
    )
    flush_traces()
    sessions = finish(db, sessions)
    if trace_db is not db:  # the traces live in the other database: count them there
        for entry in sessions:
            other = Tables(trace_db).session_records(entry["session_id"])
            entry["records"]["traces"], entry["records"]["spans"] = other["traces"], other["spans"]
            entry["counts"]["traces"], entry["counts"]["spans"] = len(other["traces"]), len(other["spans"])
    return sessions


def write_twins(db, url: str, prefix: str, *options: str) -> list[dict]:
    if "traces" in options:
        setup_tracing_into(db)
    bot = agent(
        db,
        url,
        f"{prefix}twin-agent",
        "Twin",
        [get_weather, fetch_report, refund_order],
        add_history_to_context=True,
        offload_tool_results=True,
        compaction=Compaction(uncompacted_runs=1, compact_at_tokens=None),
    )
    sessions = []
    for twin in ("a", "b"):
        session_id = f"{prefix}twin-{twin}"
        runs = []
        for purpose, question in (
            ("completed", "Weather in Lisbon? (call get_weather)"),
            ("offloaded tool result", "Read the sales report (call fetch_report)"),
            ("completed", "And in Porto? (call get_weather)"),
        ):
            runs.append(run_entry(bot.run(question, session_id=session_id, user_id=USER_ID), purpose, question))
        compacted = bot.compact(session_id=session_id, user_id=USER_ID)
        question = "Refund order 42 (call refund_order)"
        runs.append(
            run_entry(bot.run(question, session_id=session_id, user_id=USER_ID), "paused for approval", question)
        )
        entry = session_entry(session_id, "agent", f"{prefix}twin-agent", runs, compacted=compacted.compacted)
        sessions.append(entry)
        # The external transcript of the same session, keyed by agno_session_id.
        import asyncio

        from agno.agents.claude.session_store import AgnoSessionStore

        store = AgnoSessionStore(db, project_key=f"{prefix}twin-agent", agno_session_id=session_id)
        external_id = f"sdk-{session_id}"
        asyncio.run(
            store.append(
                {"session_id": external_id},
                [{"type": "user", "uuid": f"{external_id}-u1", "message": {"role": "user", "content": "Hello"}}],
            )
        )
        entry["transcript"] = {
            "framework": store.framework,
            "project_key": store.project_key,
            "session_id": external_id,
        }
    if "traces" in options:
        flush_traces()
    return sessions


def delete(db, session_ids: list[str], many: bool) -> dict:
    tables = Tables(db)
    before = {sid: tables.counts(sid) for sid in session_ids}
    if many:
        db.delete_sessions(session_ids)
        deleted = None
    else:
        deleted = {sid: db.delete_session(sid) for sid in session_ids}
    after = {sid: tables.counts(sid) for sid in session_ids}
    return {"deleted": deleted, "before": before, "after": after}


def manifest(scenario: str, db, sessions: list[dict], **extra) -> dict:
    return {
        "agno_version": agno_version(),
        "scenario": scenario,
        "tables": Tables(db).names(),
        "sessions": sessions,
        **extra,
    }


SPEC: dict = {}


def main(argv: list[str]) -> None:
    spec, url, scenario, *args = argv
    SPEC.update(json.loads(spec))
    db = make_db(SPEC)
    extra: dict = {}
    if scenario == "custom-table":
        db, sessions = write_custom_table(db, url, *args)
        sessions = finish(db, sessions)
    elif scenario in ("offload", "compaction", "states", "transcripts", "twins"):
        writer = {
            "offload": write_offload,
            "compaction": write_compaction,
            "states": write_states,
            "transcripts": write_transcripts,
            "twins": write_twins,
        }[scenario]
        sessions = finish(db, writer(db, url, *args))
    elif scenario == "running":
        write_running(db, url, *args)
    elif scenario == "traces":
        sessions = write_traces(db, url, *args)
    elif scenario in ("delete", "delete-many"):
        extra = delete(db, list(args), many=scenario == "delete-many")
        sessions = []
    elif scenario == "counts":
        extra = {"counts": {sid: Tables(db).counts(sid) for sid in args}}
        sessions = []
    elif scenario == "dump":
        extra = {"dump": Tables(db).dump()}
        sessions = []
    else:
        raise SystemExit(f"unknown scenario {scenario!r}: see the docstring of write_agno31.py")
    print(json.dumps(manifest(scenario, db, sessions, **extra), default=str), file=REAL_STDOUT)


if __name__ == "__main__":
    main(sys.argv[1:])
