"""Which of Agno's other records belong to sessions: compaction records, offloaded tool results, transcripts.

Agno 3.1 keeps them in tables of their own, keyed by the session's id (sessions_ui.schema.companions:
which exist); a missing table is normal and counts nothing.
"""

from __future__ import annotations

from django.db.models import QuerySet

from sessions_ui import agno
from sessions_ui.schema import Companion, companions, has_payload_table
from sessions_ui.sources import current_source

# The start of a compaction's archive that the detail page shows (an archive holds whole tool results).
ARCHIVE_SHOWN = 200_000
# The entries of a session's external transcripts that the detail page shows, when opened.
TRANSCRIPT_ENTRIES_SHOWN = 500
# The start of an offloaded tool result that the detail page shows (Agno stores up to 8 MB of one).
RESULT_SHOWN = 64_000


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


def tool_result(session_id: str, result_id: str, *, shown: int | None = RESULT_SHOWN) -> agno.ToolResult | None:
    """An offloaded tool result of the session: its index row and the first `shown` characters of its payload
    (all of it for None), looked up by the index row's exact (namespace, path) as Agno does."""
    table = _companion("tool_results")
    if table is None:
        return None
    columns = "r.result_id, r.tool_name, r.content_type, r.size_bytes, r.line_count"
    params: list = []
    if has_payload_table():
        content = "p.content" if shown is None else "substr(p.content, 1, %s)"
        params = [] if shown is None else [shown]
        columns += f", {content} AS content, length(p.content) AS content_length"
        joined = (
            f"{table.table} AS r LEFT JOIN {current_source().quoted_payloads} AS p"
            " ON p.namespace = r.namespace AND p.path = r.path"
        )
        order = " ORDER BY p.user_id"
    else:
        joined, order = f"{table.table} AS r", ""
    rows = _rows(
        f"SELECT {columns} FROM {joined} WHERE r.session_id = %s AND r.result_id = %s{order} LIMIT 1",
        [*params, session_id, result_id],
    )
    return agno.decode_tool_result(rows[0]) if rows else None


def session_transcripts(session_id: str) -> list[agno.Transcript]:
    """The external-agent transcripts of an Agno session (by agno_session_id), with their entry counts."""
    table = _companion("transcripts")
    if table is None:
        return []
    rows = _rows(
        f"SELECT framework, project_key, session_id, subpath, count(*) AS entries FROM {table.table}"
        " WHERE agno_session_id = %s GROUP BY framework, project_key, session_id, subpath"
        " ORDER BY framework, project_key, session_id, subpath",
        [session_id],
    )
    return [
        agno.Transcript(
            *(agno.as_text(row[key]) for key in ("framework", "project_key", "session_id", "subpath")),
            entries=agno.as_int(row["entries"]),
        )
        for row in rows
    ]


def transcript_entries(session_id: str) -> list[tuple[agno.Transcript, list[agno.TranscriptEntry]]]:
    """The first TRANSCRIPT_ENTRIES_SHOWN entries of each external transcript of the session, in their order."""
    table = _companion("transcripts")
    if table is None:
        return []
    rows = _rows(
        "SELECT framework, project_key, session_id, subpath, position, entry FROM (SELECT *, ROW_NUMBER() OVER"
        " (PARTITION BY framework, project_key, session_id, subpath ORDER BY position) AS number"
        f" FROM {table.table} WHERE agno_session_id = %s) AS numbered WHERE number <= %s"
        " ORDER BY framework, project_key, session_id, subpath, position",
        [session_id, TRANSCRIPT_ENTRIES_SHOWN],
    )
    entries: dict[tuple, list[agno.TranscriptEntry]] = {}
    for row in rows:
        key = tuple(agno.as_text(row[name]) for name in ("framework", "project_key", "session_id", "subpath"))
        entries.setdefault(key, []).append(agno.decode_transcript_entry(row["position"], row["entry"]))
    counts = {(t.framework, t.project_key, t.session_id, t.subpath): t for t in session_transcripts(session_id)}
    return [(counts[key], shown) for key, shown in entries.items() if key in counts]


def session_records(session_id: str) -> dict[str, list[dict]]:
    """Agno's other records of a session, each row as stored (every column), by kind: what the export carries.

    An offloaded tool result's row carries its payload under "payload" (None when the payload is not in
    this database). Only the kinds whose table exists are keys.
    """
    records: dict[str, list[dict]] = {}
    for table in companions():
        order = "position" if table.kind == "transcripts" else "created_at"
        if table.kind == "tool_results" and has_payload_table():
            payload = (
                f"(SELECT p.content FROM {current_source().quoted_payloads} AS p"
                " WHERE p.namespace = r.namespace AND p.path = r.path ORDER BY p.user_id LIMIT 1)"
            )
            sql = f"SELECT r.*, {payload} AS payload FROM {table.table} AS r WHERE r.session_id = %s ORDER BY r.created_at"
        else:
            sql = f"SELECT * FROM {table.table} WHERE {table.session_column} = %s ORDER BY {order}"
        records[table.kind] = _rows(sql, [session_id])
    return records
