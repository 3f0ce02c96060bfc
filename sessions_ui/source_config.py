"""Agno's naming rules for the tables around a session table, read by the settings (so no Django here)."""

from __future__ import annotations

DEFAULT_SESSION_TABLE = "agno_sessions"

# agno 3.1.10's records around a session: BaseDb.__init__ (agno/db/base.py) names these tables the
# same whatever session_table is, and takes no argument for them. Each is created the first time
# Agno needs it, in the session table's schema.
TOOL_RESULTS_TABLE = "agno_tool_results"  # offloaded tool results: index rows pointing at payloads
COMPACTIONS_TABLE = "agno_compactions"
TRANSCRIPTS_TABLE = "agno_transcripts"  # external-agent transcripts, keyed by agno_session_id
# The payloads of offloaded tool results (AgentFS): in the same SQLite file, or in schema "fs" of the
# PostgreSQL database whatever db_schema is (agno/db/postgres/postgres.py, _default_payload_table).
PAYLOAD_TABLE = "agno_fs"
POSTGRES_PAYLOAD_SCHEMA = "fs"


def agno_runs_table(session_table: str) -> str:
    """The runs table agno 3.x writes for `session_table` when it is given no `runs_table`.

    agno/db/base.py (3.1.10, BaseDb.__init__): `f"{session_table}_runs"` for a custom session table,
    `agno_runs` for the default one (also when "agno_sessions" is passed explicitly).
    """
    return "agno_runs" if session_table == DEFAULT_SESSION_TABLE else f"{session_table}_runs"
