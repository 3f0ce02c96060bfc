"""Which rows: the queries behind the pages, kept off the views so each is written once."""

from __future__ import annotations

from django.conf import settings

from sessions_ui import agno
from sessions_ui.models import AgnoRun, AgnoSession
from sessions_ui.schema import agno_connection, has_inline_runs, has_runs_table


def inline_runs(session_id: str) -> str | None:
    """The stored text of a session's Agno 2.x `runs` column, or None where the column does not exist."""
    if not has_inline_runs():
        return None
    row = AgnoSession.objects.filter(pk=session_id).values_list("runs", flat=True).first()
    return row


def run_rows(session_id: str) -> list[AgnoRun]:
    """A session's rows in the Agno 3.x runs table ([] when the table does not exist)."""
    if not has_runs_table():
        return []
    return list(AgnoRun.objects.using(settings.AGNO_DB_ALIAS).filter(session_id=session_id))


def session_runs(session_id: str) -> list[agno.Run] | agno.Malformed:
    """All runs of a session, merged from both layouts and nested (team member runs under their team run)."""
    return agno.decode_runs(inline_runs(session_id), run_rows(session_id))


def agno_vendor() -> str:
    return agno_connection().vendor
