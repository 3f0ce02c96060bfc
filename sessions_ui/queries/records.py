"""Which of Agno's other records belong to sessions: compaction records, offloaded tool results, transcripts.

Agno 3.1 keeps them in tables of their own, keyed by the session's id (sessions_ui.schema.companions:
which exist); a missing table is normal and counts nothing.
"""

from __future__ import annotations

from django.db.models import QuerySet

from sessions_ui.schema import companions
from sessions_ui.sources import current_source


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
