"""Which runs a detail page shows: a session's top-level runs in order, a page at a time, each with
its member runs nested, and one run in full when it is opened.

On PostgreSQL the runs are merged, nested, paged and previewed in SQL, so a page of a 10 MB session
ships a few kilobytes to Python; SQLite, the small embedded case, decodes them in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from sessions_ui import agno
from sessions_ui.agno import MAX_MEMBER_DEPTH
from sessions_ui.queries.runs import inline_runs, run_rows
from sessions_ui.queries.sql_json import jsonb_epoch_seconds, run_preview_sql
from sessions_ui.schema import has_inline_runs, has_runs_table
from sessions_ui.sources import current_source


@dataclass
class StoredRun:
    """A runs-table row as `agno.decode_runs` reads it (run_data may be a preview of the stored run)."""

    run_id: str
    run_type: str | None
    parent_run_id: str | None
    status: str | None
    run_index: int | None
    created_at: float | None
    run_data: str


def run_timeline(session_id: str) -> DecodedRunTimeline | SQLRunTimeline:
    """The session's top-level runs in order, for a Paginator, each with its member runs nested."""
    if current_source().vendor == "postgresql":
        return SQLRunTimeline(session_id)
    return DecodedRunTimeline(session_id)


class DecodedRunTimeline:
    """Every run decoded in Python: SQLite, and inline runs stored in a form SQL cannot slice."""

    def __init__(self, session_id: str):
        self.session_id = session_id

    @cached_property
    def _decoded(self) -> tuple[list[agno.Run], agno.Malformed | None]:
        rows = run_rows(self.session_id)
        runs = agno.decode_runs(inline_runs(self.session_id), rows)
        if isinstance(runs, agno.Malformed):
            # The inline column is unreadable: say so, and still show the runs-table rows.
            return agno.decode_runs(None, rows), runs
        return runs, None

    @property
    def malformed(self) -> agno.Malformed | None:
        return self._decoded[1]

    def count(self) -> int:
        return len(self._decoded[0])

    def __getitem__(self, key: slice) -> list[agno.Run]:
        return self._decoded[0][key]

    def position(self, run_id: str) -> int | None:
        """Index of the top-level run that is, or contains, `run_id`."""
        for position, run in enumerate(self._decoded[0]):
            if agno.run_path([run], run_id):
                return position
        return None

    def tree(self, run_id: str) -> agno.Run | None:
        """One run with all its content, and its member runs."""
        path = agno.run_path(self._decoded[0], run_id)
        return path[-1] if path else None

    def run_before(self, moment: datetime) -> str | None:
        """The id of the last top-level run that started before `moment` (None: none did). Agno stamps
        whole seconds: a run of the same second as `moment` is taken to have started after it."""
        started = [run for run in self._decoded[0] if run.created_at is not None and run.created_at < moment]
        return started[-1].run_id if started else None


class SQLRunTimeline:
    """PostgreSQL: both layouts merged, de-duplicated, nested and paged in SQL.

    The common table expressions work on the keys of the stored runs, never their content:
    `keys` (inline array elements and runs-table rows; `ref` names the stored entry), `merged`
    (each run_id once, the first in timeline order, as `agno.nest_runs` keeps it) and `top` (runs
    that are no other run's member). Content is read only for the runs a query returns.
    """

    def __init__(self, session_id: str):
        self.session_id = session_id
        self.source = current_source()
        self.sessions = self.source.quoted_sessions
        self.runs = self.source.quoted_runs

    @cached_property
    def _counted(self) -> tuple[int, DecodedRunTimeline | None]:
        """(top-level runs, the Python fallback for inline runs stored as anything but a JSON array)."""
        if not self._sources():
            return 0, None
        # Only when no inline run was found: reading the type of a blob of runs decompresses all of it.
        inline_kind = (
            "CASE WHEN NOT EXISTS (SELECT 1 FROM keys WHERE layout = 0) THEN"
            f" (SELECT jsonb_typeof(runs) FROM {self.sessions} WHERE session_id = %(session_id)s) END"
            if has_inline_runs()
            else "NULL"
        )
        count, kind = self._fetch(f"WITH {self._ctes()} SELECT (SELECT count(*) FROM top), {inline_kind}")[0]
        if kind in (None, "array", "null"):
            return count, None
        return 0, DecodedRunTimeline(self.session_id)

    @property
    def _fallback(self) -> DecodedRunTimeline | None:
        return self._counted[1]

    @property
    def malformed(self) -> agno.Malformed | None:
        return self._fallback.malformed if self._fallback else None

    def count(self) -> int:
        return self._fallback.count() if self._fallback else self._counted[0]

    def __getitem__(self, key: slice) -> list[agno.Run]:
        if self._fallback:
            return self._fallback[key]
        start, stop = key.start or 0, key.stop
        if not self._sources() or (stop is not None and stop <= start):
            return []
        limit = "ALL" if stop is None else int(stop - start)
        # Two steps: which runs (the page and its members' members...), then their previews. In one
        # query PostgreSQL's row estimates for the previews get large enough to JIT-compile it.
        refs = [
            ref
            for (ref,) in self._fetch(
                f"WITH RECURSIVE {self._ctes()},"
                f" page AS (SELECT * FROM top ORDER BY created, layout, idx, run_id LIMIT {limit} OFFSET {int(start)}),"
                " members AS (SELECT c.ref, c.run_id, 1 AS depth FROM merged c"
                "  JOIN page p ON c.parent_run_id = p.run_id AND c.run_id IS DISTINCT FROM p.run_id"
                "  UNION ALL SELECT c.ref, c.run_id, m.depth + 1 FROM merged c"
                "  JOIN members m ON c.parent_run_id = m.run_id AND c.run_id IS DISTINCT FROM m.run_id"
                f"  WHERE m.depth < {MAX_MEMBER_DEPTH})"
                " SELECT ref FROM page UNION ALL SELECT ref FROM members"
            )
        ]
        return self._runs("", "ref = ANY(%(refs)s)", run_preview_sql, refs=refs) if refs else []

    def position(self, run_id: str) -> int | None:
        """Index of the top-level run that is, or contains, `run_id`."""
        if self._fallback:
            return self._fallback.position(run_id)
        if not self._sources() or "\x00" in run_id:  # PostgreSQL stores no NUL: no such run
            return None
        sql = (
            f"WITH RECURSIVE {self._ctes()},"
            " ranked AS (SELECT run_id, row_number() OVER (ORDER BY created, layout, idx, run_id) - 1 AS position"
            "  FROM top),"
            f" up AS (SELECT run_id, parent_run_id, 0 AS depth FROM merged WHERE {self._target()}"
            "  UNION ALL SELECT m.run_id, m.parent_run_id, u.depth + 1 FROM merged m"
            f"  JOIN up u ON m.run_id = u.parent_run_id WHERE u.depth < {MAX_MEMBER_DEPTH})"
            " SELECT min(r.position) FROM ranked r JOIN up u ON r.run_id = u.run_id"
        )
        return self._fetch(sql, run_id=run_id)[0][0]

    def tree(self, run_id: str) -> agno.Run | None:
        """One run with all its content, and its member runs."""
        if self._fallback:
            return self._fallback.tree(run_id)
        if not self._sources() or "\x00" in run_id:
            return None
        chosen = (
            f", chosen AS (SELECT ref, run_id, 0 AS depth FROM merged WHERE {self._target()}"
            "  UNION ALL SELECT c.ref, c.run_id, t.depth + 1 FROM merged c"
            f"  JOIN chosen t ON c.parent_run_id = t.run_id AND c.run_id IS DISTINCT FROM t.run_id WHERE t.depth < {MAX_MEMBER_DEPTH})"
        )
        runs = self._runs(chosen, "ref IN (SELECT ref FROM chosen)", lambda data: data, run_id=run_id)
        path = agno.run_path(runs, run_id)
        return path[-1] if path else None

    def run_before(self, moment: datetime) -> str | None:
        """The id of the last top-level run that started before `moment` (None: none did)."""
        if self._fallback:
            return self._fallback.run_before(moment)
        if not self._sources():
            return None
        rows = self._fetch(
            f"WITH {self._ctes()} SELECT run_id FROM top WHERE created > 0 AND created < %(moment)s"
            " ORDER BY created DESC, layout DESC, idx DESC, run_id DESC LIMIT 1",
            moment=moment.timestamp(),
        )
        return rows[0][0] if rows else None

    def _sources(self) -> dict[str, str]:
        """SQL per layout present: the session's stored runs as (layout, idx, ref, data, runs-table columns)."""
        sources = {}
        if has_inline_runs():
            sources["inline"] = (
                "SELECT 0 AS layout, e.idx, 'i' || e.idx AS ref, e.data, NULL::text AS run_id,"
                " NULL::text AS parent_run_id, NULL::bigint AS created_at, NULL::text AS run_type, NULL::text AS status"
                # The elements of an array, none of anything else (strict, silent), in one pass over the
                # blob: a jsonb_typeof test before jsonb_array_elements would decompress it twice.
                f" FROM {self.sessions} s CROSS JOIN LATERAL jsonb_path_query(s.runs, 'strict $[*]', '{{}}', true)"
                " WITH ORDINALITY AS e(data, idx) WHERE s.session_id = %(session_id)s"
            )
        if has_runs_table():
            sources["table"] = (
                "SELECT 1 AS layout, r.run_index AS idx, 'r' || r.run_id AS ref, r.run_data AS data, r.run_id::text,"
                " r.parent_run_id::text, r.created_at, r.run_type::text, r.status::text"
                f" FROM {self.runs} r WHERE r.session_id = %(session_id)s"
            )
        return sources

    def _ctes(self) -> str:
        created = jsonb_epoch_seconds("CASE WHEN layout = 0 THEN data -> 'created_at' ELSE to_jsonb(created_at) END")
        # Like agno.decode_runs: a run's own run_id and parent_run_id, the columns for runs-table rows.
        unique = "COALESCE(run_id, ref)"
        return (
            " keys AS (SELECT layout, COALESCE(idx, 0) AS idx, ref,"
            "  COALESCE(run_id, NULLIF(data ->> 'run_id', '')) AS run_id,"
            "  COALESCE(NULLIF(data ->> 'parent_run_id', ''), NULLIF(parent_run_id, '')) AS parent_run_id,"
            f"  {created} AS created FROM ({self._stored()}) s),"
            f" merged AS (SELECT DISTINCT ON ({unique}) layout, idx, ref, run_id, parent_run_id, created FROM keys"
            f"  ORDER BY {unique}, created, layout, idx),"
            " top AS (SELECT * FROM merged r WHERE r.parent_run_id IS NULL OR r.parent_run_id = r.run_id"
            "  OR NOT EXISTS (SELECT 1 FROM merged p WHERE p.run_id = r.parent_run_id))"
        )

    def _target(self) -> str:
        """SQL condition on `merged`: the run `run_id`, or, when no stored run has that id, the runs embedding it."""
        embedded = " OR ".join(
            f"jsonb_path_exists(s.data, '$.{key}[*] ? (@.run_id == $id)', jsonb_build_object('id', %(run_id)s::text))"
            for key in ("member_responses", "step_executor_runs")
        )
        return (
            "run_id = %(run_id)s OR (NOT EXISTS (SELECT 1 FROM merged WHERE run_id = %(run_id)s)"
            f" AND ref IN (SELECT s.ref FROM ({self._stored()}) s WHERE jsonb_typeof(s.data) = 'object' AND ({embedded})))"
        )

    def _stored(self) -> str:
        """SQL: every stored run of the session. A subquery, not a CTE, so its content is never materialised."""
        return " UNION ALL ".join(self._sources().values())

    def _runs(self, ctes: str, condition: str, content, **params) -> list[agno.Run]:
        """The stored runs whose `ref` meets `condition`, with `content(data)` as their run data, nested."""
        sql = (
            f"WITH RECURSIVE {self._ctes()}{ctes} SELECT layout, idx, run_id, parent_run_id, created_at, run_type,"
            f" status, ({content('data')})::text FROM ({self._stored()}) s WHERE {condition}"
        )
        inline, table = [], []
        for layout, idx, run_id, parent_run_id, created_at, run_type, status, data in self._fetch(sql, **params):
            if layout == 0:
                inline.append((idx, agno.decode_json(data)))
            else:
                table.append(StoredRun(run_id, run_type, parent_run_id, status, idx, created_at, data))
        runs = agno.decode_runs([data for _, data in sorted(inline, key=lambda entry: entry[0])], table)
        return runs if isinstance(runs, list) else []

    def _fetch(self, sql: str, **params) -> list[tuple]:
        with self.source.connection.cursor() as cursor:
            cursor.execute(sql, {"session_id": self.session_id, **params})
            return cursor.fetchall()
