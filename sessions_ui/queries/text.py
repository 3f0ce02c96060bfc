"""Which sessions' conversations hold some words: the opt-in text index, or a bounded scan without it.

What is searched is what `agno.text` extracts from a session's stored runs (both layouts), its
offloaded tool results (Agno 3.1's payload table) and its summary, never the JSON keys around them.

With the index on (`manage.py agno_indexes --text`: a TextIndexState row for the source), the search
asks the dashboard's own TextEntry table: PostgreSQL's full-text search (`plainto_tsquery`, a GIN index
on a generated tsvector) or SQLite's FTS5 (each word quoted). Agno's tables get no trigger: before a
search, `refresh` indexes what Agno wrote since the watermarks, at most REFRESH_SESSIONS sessions per
request (`manage.py agno_text_index` from cron catches up with the rest).

Without it, `scan` reads the sessions newest first, a chunk at a time: the database picks the stored
texts that contain every word (a LIKE on the stored JSON), Python keeps those whose extracted text
does; it stops after a page of matches, SCAN_SESSIONS sessions or SCAN_SECONDS, and says where it
stopped (a Position) so that "search older" continues from there.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connections, transaction
from django.db.models import Max, Q, QuerySet, TextField
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from django.utils import timezone
from markupsafe import Markup

from sessions_ui import agno
from sessions_ui.agno.text import MAX_TEXT, contains_words, run_text, snippet, summary_text
from sessions_ui.models import TextEntry, TextIndexState
from sessions_ui.queries.pages import LIST_PAGE_SIZE, SORT_INDEXES
from sessions_ui.queries.positions import Position, rows_after
from sessions_ui.schema import companions, has_index, has_inline_runs, has_payload_table, has_runs_table
from sessions_ui.sources import current_source

SCAN_CHUNK = 100
SCAN_SESSIONS = 2_000
SCAN_SECONDS = 0.6
REFRESH_SESSIONS = 200
FTS_TABLE = "sessions_ui_textentry_fts"
# Sessions whose index entries are read for the snippets of one page.
INDEX_DB = "default"  # TextEntry's database (the router keeps the dashboard's tables there)


@dataclass(frozen=True)
class TextMatch:
    run_id: str  # the matching run, "" for the summary
    snippet: Markup


@dataclass
class Scan:
    matches: dict[str, TextMatch] = field(default_factory=dict)
    scanned: int = 0
    older: Position | None = None  # where "search older" continues; None: the scan reached the oldest session


# --- Without the index: the bounded scan.


def scan(sessions: QuerySet, words: list[str], start: Position | None = None) -> Scan:
    """The sessions of `sessions` whose conversations hold every one of `words`, newest first from `start`."""
    result = Scan()
    ordered = sessions.order_by("-created_at", "session_id")
    if start is not None:
        ordered = rows_after(ordered, start, "-created_at")
    deadline = time.monotonic() + SCAN_SECONDS
    while True:
        chunk = list(ordered.values_list("created_at", "session_id")[:SCAN_CHUNK])
        if not chunk:
            result.older = None
            return result
        ids = [session_id for _, session_id in chunk]
        found = _chunk_matches(ids, words)
        result.matches.update((session_id, found[session_id]) for session_id in ids if session_id in found)
        result.scanned += len(chunk)
        last = Position(*chunk[-1])
        result.older = last if len(chunk) == SCAN_CHUNK else None
        if result.older is None:
            return result
        if len(result.matches) >= LIST_PAGE_SIZE or result.scanned >= SCAN_SESSIONS or time.monotonic() > deadline:
            return result
        ordered = rows_after(sessions.order_by("-created_at", "session_id"), last, "-created_at")


def _contains_all(queryset: QuerySet, column: str, words: list[str]) -> QuerySet:
    """Rows whose stored `column`, as text, contains every word (any case; LIKE wildcards escaped by Django)."""
    queryset = queryset.alias(stored_text=Cast(column, TextField()))
    return queryset.filter(*(Q(stored_text__icontains=word) for word in words))


def _chunk_matches(session_ids: list[str], words: list[str]) -> dict[str, TextMatch]:
    """The first match of each session of `session_ids`, from the texts that may hold the words."""
    texts: dict[str, list[tuple[str, str]]] = {}
    for session_id, run_id, text in _candidate_texts(session_ids, words):
        texts.setdefault(session_id, []).append((run_id, text))
    matches = {}
    for session_id, candidates in texts.items():
        for run_id, text in candidates:
            if contains_words(text, words):
                matches[session_id] = TextMatch(run_id, snippet(text, words))
                break
    return matches


def _candidate_texts(session_ids: list[str], words: list[str]) -> Iterable[tuple[str, str, str]]:
    """(session_id, run_id, extracted text) of every stored text of the sessions that contains the words,
    runs in their order, then offloaded tool results, then the summary."""
    source = current_source()
    if has_inline_runs():
        inline = _contains_all(source.Session.objects.filter(session_id__in=session_ids), "runs", words)
        for session_id, stored in inline.values_list("session_id", "runs"):
            for run in agno.stored_runs(stored):
                yield session_id, _run_id(run), run_text(run)
    if has_runs_table():
        rows = _contains_all(source.Run.objects.filter(session_id__in=session_ids), "run_data", words)
        for session_id, run_id, stored in rows.order_by("created_at", "run_index").values_list(
            "session_id", "run_id", "run_data"
        ):
            yield session_id, run_id, run_text(stored)
    yield from _offloaded_texts(session_ids, words)
    summaries = _contains_all(source.Session.objects.filter(session_id__in=session_ids), "summary", words)
    for session_id, stored in summaries.values_list("session_id", "summary"):
        yield session_id, "", summary_text(stored)


def _run_id(run) -> str:
    return agno.as_text(run.get("run_id")) if isinstance(run, dict) else ""


def _offloaded_texts(session_ids: list[str], words: list[str]) -> Iterable[tuple[str, str, str]]:
    """Offloaded tool results (Agno 3.1: an index row per result, its full text in the payload table)
    of the sessions whose text contains the words."""
    table = next((table for table in companions() if table.kind == "tool_results"), None)
    if table is None or not has_payload_table() or not session_ids:
        return
    source = current_source()
    placeholders = ", ".join(["%s"] * len(session_ids))
    likes = "".join([" AND UPPER(p.content) LIKE UPPER(%s) ESCAPE '\\'"] * len(words))
    sql = (
        f"SELECT r.session_id, r.run_id, p.content FROM {table.table} AS r JOIN {source.quoted_payloads} AS p"
        f" ON p.namespace = r.namespace AND p.path = r.path WHERE r.session_id IN ({placeholders}){likes}"
    )
    with source.connection.cursor() as cursor:
        cursor.execute(sql, [*session_ids, *(f"%{_like_escaped(word)}%" for word in words)])
        for session_id, run_id, content in cursor.fetchall():
            if isinstance(content, (bytes, memoryview)):
                content = bytes(content).decode("utf-8", errors="replace")
            yield session_id, run_id or "", agno.as_text(content)[:MAX_TEXT]


def _like_escaped(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --- With the index.


def index_state() -> TextIndexState | None:
    """The current source's text index, None when it is off."""
    return TextIndexState.objects.using(INDEX_DB).filter(source=current_source().key).first()


def _match_sql(vendor: str) -> str:
    """The condition on TextEntry (aliased `e`) that its text holds the words (one parameter)."""
    if vendor == "postgresql":
        return "e.document @@ plainto_tsquery('simple', regexp_replace(%s, '[^[:alnum:]]+', ' ', 'g'))"
    return f"e.id IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s)"


def _match_param(vendor: str, words: list[str]) -> str:
    """The words as the database's full-text query: plain text for plainto_tsquery, FTS5 strings (each word
    quoted, so nothing in it is an operator) for SQLite."""
    if vendor == "postgresql":
        return " ".join(words)
    return " ".join('"' + word.replace('"', '""') + '"' for word in words)


def indexed(sessions: QuerySet, words: list[str]) -> QuerySet:
    """The sessions of `sessions` with an index entry holding every word.

    First the newest RARE entries that match, read from the full-text index: for a rare word that is all of
    them, and the sessions are these ids. A common word has more: then the sessions are filtered by a
    subquery, which the database answers by walking the newest sessions (a page is soon found). With the
    Agno tables in another database than the index, the ids are all there is (at most INDEXED_IDS).
    """
    connection = connections[INDEX_DB]
    source = current_source()
    sql = f"SELECT e.session_id FROM {TextEntry._meta.db_table} AS e WHERE e.source = %s AND {_match_sql(connection.vendor)}"
    params = [source.key, _match_param(connection.vendor, words)]
    shared = source.alias == INDEX_DB
    limit = RARE if shared else INDEXED_IDS
    with connection.cursor() as cursor:
        cursor.execute(sql + " ORDER BY e.session_created_at DESC LIMIT %s", [*params, limit])
        newest = [row[0] for row in cursor.fetchall()]
    if len(newest) < limit or not shared:
        return sessions.filter(session_id__in=list(dict.fromkeys(newest)))
    return sessions.filter(session_id__in=RawSQL(sql, params))


# Matching entries under which a word counts as rare (its sessions listed by id); the cap of the ids when the
# index is in another database than the Agno tables.
RARE = 300
INDEXED_IDS = 10_000


def indexed_matches(session_ids: list[str], words: list[str]) -> dict[str, TextMatch]:
    """The first matching entry of each of `session_ids` (runs before the summary), with its snippet."""
    if not session_ids:
        return {}
    connection = connections[INDEX_DB]
    placeholders = ", ".join(["%s"] * len(session_ids))
    sql = (
        f"SELECT e.session_id, e.run_id, e.text FROM {TextEntry._meta.db_table} AS e WHERE e.source = %s"
        f" AND e.session_id IN ({placeholders}) AND {_match_sql(connection.vendor)} ORDER BY e.run_id = '', e.id"
    )
    matches: dict[str, TextMatch] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [current_source().key, *session_ids, _match_param(connection.vendor, words)])
        for session_id, run_id, text in cursor.fetchall():
            if session_id not in matches:
                matches[session_id] = TextMatch(run_id, snippet(text, words))
    return matches


# --- Keeping the index current.


@dataclass
class Refresh:
    sessions: int = 0  # sessions (re)indexed
    pending: bool = False  # more were written than one pass indexes


class Unavailable(Exception):
    """This database cannot hold the text index."""


def available() -> bool:
    """Whether the dashboard's database has the index's full-text side (SQLite: its FTS5 table, which a
    Python built without FTS5 cannot create)."""
    connection = connections[INDEX_DB]
    if connection.vendor == "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE name = %s", [FTS_TABLE])
        return cursor.fetchone() is not None


def build() -> Refresh:
    """Turn the index on for the current source (indexing every session, by created_at, then what changed
    meanwhile)."""
    if not available():
        raise Unavailable("this SQLite has no FTS5 (the full-text search the index needs)")
    now = timezone.now()
    source = current_source()
    TextEntry.objects.using(INDEX_DB).filter(source=source.key).delete()
    newest_update = source.Session.objects.aggregate(newest=Max("updated_at"))["newest"]
    newest_run = source.Run.objects.aggregate(newest=Max("created_at"))["newest"] if has_runs_table() else None
    TextIndexState.objects.using(INDEX_DB).update_or_create(
        source=source.key,
        defaults={
            "built_at": now,
            "refreshed_at": now,
            "created_until": -1,
            "sessions_until": -1 if newest_update is None else newest_update,
            "runs_until": -1 if newest_run is None else newest_run,
        },
    )
    done = catch_up()
    connection = connections[INDEX_DB]
    if connection.vendor == "postgresql":
        # Statistics of the words, so that the planner walks the newest sessions for a common word (a page is
        # soon found) and reads the GIN index for a rare one.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {TextEntry._meta.db_table}")
    return done


def catch_up(limit: int = 2_000) -> Refresh:
    """Refresh until nothing written is left unindexed, updated sessions included (what the cron command runs)."""
    total = Refresh()
    while True:
        step = refresh(limit=limit, updates=True)
        total.sessions += step.sessions
        if not step.pending:
            return total


def refresh(limit: int = REFRESH_SESSIONS, *, updates: bool | None = None) -> Refresh:
    """Index what Agno wrote since the watermarks, oldest first, at most about `limit` sessions of each kind: new
    sessions (created_at, Agno's index), new runs-table rows (their created_at, Agno's index) and, with
    `updates` (by default where the opt-in updated_at index makes it cheap), sessions rewritten since
    (updated_at: Agno 2.x appends a run so). A no-op when the index is off."""
    state = index_state()
    if state is None:
        return Refresh()
    source = current_source()
    if updates is None:
        updates = has_index(SORT_INDEXES["updated_at"])
    passes = [("created_until", source.Session.objects, "created_at")]
    if updates:
        passes.append(("sessions_until", source.Session.objects, "updated_at"))
    if has_runs_table():
        passes.append(("runs_until", source.Run.objects, "created_at"))
    found, pending = {}, False
    for watermark, rows, column in passes:
        changed, more = _changed(rows, column, getattr(state, watermark), limit)
        found[watermark] = changed
        pending = pending or more
    session_ids = list(dict.fromkeys(session_id for changed in found.values() for session_id, _ in changed))
    if not session_ids:
        return Refresh()  # nothing new: no write (most searches)
    # A row Agno writes later in the second of the newest one indexed is newer than no watermark: the
    # last seconds are indexed again on the next pass.
    settled = int(time.time()) - 2
    with transaction.atomic(using=INDEX_DB):
        _reindex(session_ids)
        for watermark, changed in found.items():
            if changed:
                setattr(state, watermark, max(min(changed[-1][1], settled), getattr(state, watermark)))
        state.refreshed_at = timezone.now()
        state.save(using=INDEX_DB)
    return Refresh(len(session_ids), pending)


def _changed(rows: QuerySet, column: str, until: int, limit: int) -> tuple[list[tuple[str, int]], bool]:
    """(session_id, `column`) of the rows whose `column` is after `until`, oldest first: about `limit` of them,
    cut between two seconds (the watermark is a second: one is never split), and whether more are left."""
    newer = list(
        rows.filter(**{f"{column}__gt": until}).order_by(column).values_list("session_id", column)[: limit + 1]
    )
    if len(newer) <= limit:
        return newer, False
    cut = newer[limit][1]
    kept = [row for row in newer if row[1] < cut]
    if not kept:  # more than `limit` rows written in one second: all of them
        kept = list(rows.filter(**{column: cut}).values_list("session_id", column))
    return kept, True


def _reindex(session_ids: list[str]) -> None:
    """Replace the index entries of `session_ids` with their texts as stored now (a deleted session loses them)."""
    source = current_source()
    entries = []
    for offset in range(0, len(session_ids), SCAN_CHUNK):
        ids = session_ids[offset : offset + SCAN_CHUNK]
        created = dict(source.Session.objects.filter(session_id__in=ids).values_list("session_id", "created_at"))
        texts: dict[tuple[str, str], str] = {}
        for session_id, run_id, text in _session_texts(ids):
            key = (session_id, run_id)
            texts[key] = f"{texts[key]}\n{text}" if key in texts else text
        entries += [
            TextEntry(
                source=source.key,
                session_id=session_id,
                run_id=run_id,
                session_created_at=created.get(session_id),
                text=text.replace("\x00", "")[:MAX_TEXT],
            )
            for (session_id, run_id), text in texts.items()
            if text and session_id in created
        ]
        TextEntry.objects.using(INDEX_DB).filter(source=source.key, session_id__in=ids).delete()
    TextEntry.objects.using(INDEX_DB).bulk_create(entries, batch_size=500)


def _session_texts(session_ids: list[str]) -> Iterable[tuple[str, str, str]]:
    """Every stored text of the sessions: what _candidate_texts gives without the words' filter."""
    source = current_source()
    if has_inline_runs():
        for session_id, stored in source.Session.objects.filter(session_id__in=session_ids).values_list(
            "session_id", "runs"
        ):
            for run in agno.stored_runs(stored):
                yield session_id, _run_id(run), run_text(run)
    if has_runs_table():
        for session_id, run_id, stored in source.Run.objects.filter(session_id__in=session_ids).values_list(
            "session_id", "run_id", "run_data"
        ):
            yield session_id, run_id, run_text(stored)
    yield from _offloaded_texts(session_ids, [])
    for session_id, stored in source.Session.objects.filter(session_id__in=session_ids).values_list(
        "session_id", "summary"
    ):
        yield session_id, "", summary_text(stored)
