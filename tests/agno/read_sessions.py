"""Read sessions back with the real agno's own `get_session()` / `get_sessions()`; print them as JSON.

Runs inside an agno virtualenv: see `tests/agno/__init__.py: agno_get_session`. agno deserializes
every session into its own objects (AgentSession, RunOutput, ...), so a row it cannot parse fails
here; the printed dicts are those objects' `to_dict()`.

    python read_sessions.py DB_JSON              every session, through get_sessions()
    python read_sessions.py DB_JSON ID [ID ...]  these sessions, through get_session() (null if missing)
"""

from __future__ import annotations

import contextlib
import inspect
import json
import os
import sys

os.environ.setdefault("AGNO_TELEMETRY", "false")


def make_db(spec: dict):
    """agno's own SqliteDb or PostgresDb, with the table names this version supports."""
    url = spec["url"]
    if url.startswith("sqlite"):
        from agno.db.sqlite import SqliteDb as Db

        kwargs = {"db_file": url.split(":///", 1)[1]}
    else:
        from agno.db.postgres import PostgresDb as Db

        kwargs = {"db_url": url, "db_schema": spec.get("schema") or "ai"}
    accepted = inspect.signature(Db.__init__).parameters
    for key in ("session_table", "runs_table"):
        if spec.get(key) and key in accepted:
            kwargs[key] = spec[key]
    return Db(**kwargs)


def read_session(db, session_id: str) -> dict | None:
    session = db.get_session(session_id=session_id)
    return None if session is None else session.to_dict()


def read_all(db) -> list[dict]:
    from agno.db.base import SessionType

    return [session.to_dict() for kind in SessionType for session in db.get_sessions(session_type=kind)]


def agno_version() -> str:
    from importlib.metadata import version

    return version("agno")


def main(argv: list[str]) -> None:
    spec, *session_ids = argv
    db = make_db(json.loads(spec))
    with contextlib.redirect_stdout(sys.stderr):
        sessions = [read_session(db, sid) for sid in session_ids] if session_ids else read_all(db)
    print(json.dumps({"agno_version": agno_version(), "sessions": sessions}, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
