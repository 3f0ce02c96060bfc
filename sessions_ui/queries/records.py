"""Which of Agno's other records belong to sessions: compaction records, offloaded tool results, transcripts.

Agno 3.1 keeps them in tables of their own, keyed by the session's id (sessions_ui.schema.companions:
which exist); a missing table is normal and counts nothing.
"""

from __future__ import annotations

from django.db.models import QuerySet

from sessions_ui import agno
from sessions_ui.schema import Companion, companions
from sessions_ui.sources import current_source

# The start of a compaction's archive that the detail page shows (an archive holds whole tool results).
ARCHIVE_SHOWN = 200_000


def _session_ids_sql(sessions: QuerySet) -> tuple[str, tuple]:
    """The ids of `sessions` as an SQL subquery, for the other tables of their database."""
    return sessions.order_by().values("pk").query.get_compiler(using=sessions.db).as_sql()


def record_counts(sessions: QuerySet) -> dict[str, int]:
    """How many records of each kind of schema.COMPANIONS belong to `sessions` (any number of them), in one query."""
    tables = companions()
    if not tables:
        return {}
    ids, params = _session_ids_sql(sessions)
    counted = ", ".join(
        f"(SELECT count(*) FROM {table.table} WHERE {table.session_column} IN ({ids}))" for table in tables
    )
    with current_source().connection.cursor() as cursor:
        cursor.execute(f"SELECT {counted}", list(params) * len(tables))
        counts = cursor.fetchone()
    return {table.kind: count for table, count in zip(tables, counts, strict=True)}


def records_by_session(session_ids: list[str]) -> dict[str, dict[str, int]]:
    """How many records of each kind belong to each of `session_ids` (those without any are left out), in one query."""
    tables = companions()
    if not tables or not session_ids:
        return {}
    placeholders = ", ".join(["%s"] * len(session_ids))
    counted = " UNION ALL ".join(
        f"SELECT '{table.kind}', {table.session_column}, count(*) FROM {table.table}"
        f" WHERE {table.session_column} IN ({placeholders}) GROUP BY {table.session_column}"
        for table in tables
    )
    records: dict[str, dict[str, int]] = {}
    with current_source().connection.cursor() as cursor:
        cursor.execute(counted, session_ids * len(tables))
        for kind, session_id, count in cursor.fetchall():
            records.setdefault(session_id, {})[kind] = count
    return records


def _companion(kind: str) -> Companion | None:
    return next((table for table in companions() if table.kind == kind), None)


def _rows(sql: str, params: list) -> list[dict]:
    with current_source().connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def session_compactions(session_id: str) -> list[agno.Compaction]:
    """A session's compaction records, oldest first, without their summaries and archives ([] without the table)."""
    table = _companion("compactions")
    if table is None:
        return []
    rows = _rows(
        f"SELECT {', '.join(agno.COMPACTION_COLUMNS)} FROM {table.table} WHERE session_id = %s"
        " ORDER BY created_at, compaction_id",
        [session_id],
    )
    return [agno.decode_compaction(row) for row in rows]


def compaction(session_id: str, compaction_id: str) -> agno.Compaction | None:
    """One compaction record of the session with its summary and the start of its archive (ARCHIVE_SHOWN characters)."""
    table = _companion("compactions")
    if table is None:
        return None
    rows = _rows(
        f"SELECT {', '.join(agno.COMPACTION_COLUMNS)}, summary, substr(archived_messages, 1, %s) AS archived_messages,"
        f" length(archived_messages) AS archived_length FROM {table.table} WHERE session_id = %s AND compaction_id = %s",
        [ARCHIVE_SHOWN, session_id, compaction_id],
    )
    return agno.decode_compaction(rows[0]) if rows else None
