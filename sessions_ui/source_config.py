"""Agno's naming rules for the tables around a session table, read by the settings (so no Django here)."""

from __future__ import annotations

DEFAULT_SESSION_TABLE = "agno_sessions"


def agno_runs_table(session_table: str) -> str:
    """The runs table agno 3.x writes for `session_table` when it is given no `runs_table`.

    agno/db/base.py (3.1.10, BaseDb.__init__): `f"{session_table}_runs"` for a custom session table,
    `agno_runs` for the default one (also when "agno_sessions" is passed explicitly).
    """
    return "agno_runs" if session_table == DEFAULT_SESSION_TABLE else f"{session_table}_runs"
