"""What the list shows of each session's runs, without reading a big runs blob.

Agno 2.x keeps a session's runs inline: megabytes of JSON (compressed, on PostgreSQL) for the busy
sessions, which are also the newest, so counting them on every render of the first page cost more
than the rest of the page. Small inline runs are counted with the page, in SQL; for big ones the
list reads the counts the dashboard keeps of each version of a row (InlineRunStats, by session id
and `updated_at`), and a big row not counted yet is shown pending: the page asks for its count once
it is shown (`count_inline_runs`, which counts it once and keeps it). The Agno 3.x runs table is
counted from its columns on every render: no blob there.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Func, IntegerField

from sessions_ui.models import InlineRunStats, SessionColumns
from sessions_ui.queries.runs import NO_RUNS, RunStats, inline_stats, table_stats
from sessions_ui.sources import current_source

PENDING = RunStats(None, "", pending=True)
# Inline runs stored in more bytes than this are counted once and kept, not counted with every page.
COUNTED_WITH_THE_PAGE = 64 * 1024


class StoredSize(Func):
    """The bytes a value is stored in, NULL for NULL: on PostgreSQL its (compressed) size, read from the
    tuple without detoasting; on SQLite its length in characters, which reads the text but parses none."""

    function = "length"
    output_field = IntegerField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function="pg_column_size", **extra_context)


def list_run_stats(rows: list[SessionColumns], unnamed: set[str]) -> dict[str, RunStats]:
    """The RunStats of a page of rows (annotated with `inline_runs_size`, see pages._list_columns)."""
    session_ids = [row.pk for row in rows]
    sizes = {row.pk: row.inline_runs_size for row in rows if getattr(row, "inline_runs_size", None) is not None}
    big = {row.pk: row.updated_at for row in rows if sizes.get(row.pk, 0) > COUNTED_WITH_THE_PAGE}
    kept = {
        kept.session_id: RunStats(kept.runs, kept.first_input)
        for kept in InlineRunStats.objects.filter(source=current_source().key, session_id__in=big)
        if kept.updated_at == big[kept.session_id]
    }
    small = [session_id for session_id in sizes if session_id not in big]
    inline = inline_stats(small, unnamed.intersection(small)) | {
        session_id: kept.get(session_id, PENDING) for session_id in big
    }
    table = table_stats(session_ids, unnamed)
    return {session_id: inline.get(session_id, NO_RUNS).plus(table[session_id]) for session_id in session_ids}


def count_inline_runs(session_ids: Iterable[str]) -> dict[str, RunStats]:
    """Count the inline runs of these sessions, keep the counts, and return their whole RunStats.

    Each row's `updated_at` is read before its runs: a session Agno rewrites in between is kept
    with its older `updated_at`, so it is counted again next time rather than shown stale.
    """
    source = current_source()
    versions = dict(source.Session.objects.filter(pk__in=list(session_ids)).values_list("pk", "updated_at"))
    found = list(versions)
    inline = inline_stats(found, set(found))
    InlineRunStats.objects.bulk_create(
        [
            InlineRunStats(
                source=source.key,
                session_id=session_id,
                updated_at=versions[session_id],
                runs=stats.runs,
                first_input=stats.first_input,
            )
            for session_id, stats in inline.items()
        ],
        update_conflicts=True,
        unique_fields=["source", "session_id"],
        update_fields=["updated_at", "runs", "first_input"],
    )
    table = table_stats(found, set(found))
    return {session_id: inline[session_id].plus(table[session_id]) for session_id in found}
