"""The Agno baseline: times the real agno package's PostgresDb, as AgentOS calls it. Prints JSON.

Runs in the agno 3.x venv (`.agno-venvs/agno-3.1.10/bin/python`), started by bench/run.py with one
JSON argument: {"db_url", "db_schema", "warmup", "repeat", "budget", "list": [{"name", "kwargs"}],
"detail": {"session_id", "session_type", "small_session_id"} or null}; or, to make the trace tables
as agno 3.1.10 creates them (columns, indexes, foreign key) for the seeding: {"db_url", "db_schema",
"create_trace_tables": true}.
"""

from __future__ import annotations

import gc
import json
import sys
import time
import tracemalloc

from agno.db.base import SessionType
from agno.db.postgres import PostgresDb
from timing import current_rss, measure, peak_rss


def list_page(db: PostgresDb, kwargs: dict) -> dict:
    """One page the way AgentOS's GET /sessions asks for it (services/sessions.py: get_sessions_page)."""
    kwargs = dict(kwargs)
    if kwargs.get("session_type"):
        kwargs["session_type"] = SessionType(kwargs["session_type"])
    kwargs = {"sort_by": "created_at", "sort_order": "desc", **kwargs}
    rows, total = db.get_sessions(limit=50, deserialize=False, **kwargs)
    return {"rows": len(rows), "total": total}


def detail(db: PostgresDb, spec: dict, options: dict) -> dict:
    """get_session() of the huge session, as AgentOS's GET /sessions/{id} does (deserialized)."""
    session_type = SessionType(spec["session_type"])

    def load(session_id: str):
        return db.get_session(session_id=session_id, session_type=session_type)

    load(spec["small_session_id"])  # imports, table reflection and the connection pool, outside the figures
    gc.collect()
    rss_before = current_rss()
    started = time.perf_counter()
    session = load(spec["session_id"])
    result = {
        "runs": len(session.runs or []) if session else None,
        "first_call_ms": (time.perf_counter() - started) * 1000,
        "rss_extra": peak_rss() - rss_before,
    }
    del session
    gc.collect()
    tracemalloc.start()
    load(spec["session_id"])
    result["tracemalloc_peak"] = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    result.update(measure(lambda: load(spec["session_id"]), **options))
    result["small"] = measure(lambda: load(spec["small_session_id"]), **options)
    return result


def main() -> None:
    spec = json.loads(sys.argv[1])
    db = PostgresDb(db_url=spec["db_url"], db_schema=spec["db_schema"])
    if spec.get("create_trace_tables"):
        db._get_table(table_type="spans", create_table_if_not_found=True)  # and the traces table it refers to
        print(json.dumps({"created": [db.trace_table_name, db.span_table_name]}))
        return
    options = {key: spec[key] for key in ("warmup", "repeat", "budget")}
    out: dict = {"list": {}, "detail": None}
    if spec.get("detail"):
        # Memory first, in a process that has not yet held any large result.
        out["detail"] = detail(db, spec["detail"], options)
    for item in spec["list"]:
        shape = list_page(db, item["kwargs"])
        timed = measure(lambda item=item: list_page(db, item["kwargs"]), **options)
        out["list"][item["name"]] = {**shape, **timed}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
