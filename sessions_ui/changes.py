"""What the dashboard writes besides an edit's UPDATE (forms.py): deletes, and the audit log of every change.

Agno owns the session rows; a delete removes what agno 3.1's own delete_session does (the session,
its runs, and its other records: schema.COMPANIONS), in one transaction, and every edit and delete is
recorded in Django's admin log (LogEntry), which the audit page reads. Agno keeps a session's traces
when it deletes the session; so does the dashboard, unless the admin asks for them to go too. Every
export of the list is recorded too (who, when, which filters, how many sessions), as an entry of its
own kind about no single session.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, transaction
from django.db.models import QuerySet

from sessions_ui import agno, queries
from sessions_ui.schema import TracesUnreachable, companions, has_payload_table, has_runs_table, has_trace_tables
from sessions_ui.sources import current_source

CHUNK = 500
EXPORT = 4  # LogEntry's own flags are 1 to 3 (added, changed, deleted): an export changes nothing
AUDIT_ACTIONS = {"edit": CHANGE, "delete": DELETION, "export": EXPORT}


def _content_type() -> ContentType:
    return ContentType.objects.get_for_model(current_source().Session, for_concrete_model=False)


def log(user, sessions: list[tuple[str, str]], action_flag: int, message: str | list[str]) -> None:
    """Record edits or deletes in Django's admin log: one entry per session (id, display name)."""
    content_type = _content_type()
    messages = message if isinstance(message, list) else [message] * len(sessions)
    LogEntry.objects.bulk_create(
        LogEntry(
            user_id=user.pk,
            content_type_id=content_type.pk,
            object_id=session_id,
            object_repr=name[:200],
            action_flag=action_flag,
            change_message=text,
        )
        for (session_id, name), text in zip(sessions, messages, strict=True)
    )


def log_export(user, fmt: str, parameters: list[tuple[str, str]], *, window: int = 0) -> LogEntry:
    """Record that `user` started an export of the list (`fmt`, with these filters and sort, among the `window`
    newest sessions when it is bounded to them); see exported()."""
    filters = ", ".join(f"{name}={value}" for name, value in parameters) or "no filters"
    if window:
        filters += f"; among the {window:,} newest sessions, as the list sorts them"
    return LogEntry.objects.create(
        user_id=user.pk,
        content_type_id=_content_type().pk,
        object_id=None,
        object_repr=f"sessions.{fmt}"[:200],
        action_flag=EXPORT,
        change_message=f"Exported the list as {fmt.upper()} ({filters}).",
    )


def exported(entry: LogEntry, rows: int, *, complete: bool) -> None:
    """Add to an export's entry how many sessions it wrote (or that the download stopped after so many)."""
    count = f"{rows:,} session{'' if rows == 1 else 's'}"
    entry.change_message += f" {count}." if complete else f" Stopped after {count}."
    entry.save(update_fields=["change_message"])


# What the confirmation and the messages call Agno's other records about a session, by kind.
RECORD_NAMES = {
    "compactions": ("compaction record", "compaction records"),
    "tool_results": ("offloaded tool result", "offloaded tool results"),
    "transcripts": ("external-agent transcript entry", "external-agent transcript entries"),
}


def runs_text(count: int) -> str:
    return f"{count} run{'' if count == 1 else 's'}"


def traces_text(count: queries.TraceCount) -> str:
    """ "2 traces (9 spans)" """
    traces = f"{count.traces} trace{'' if count.traces == 1 else 's'}"
    return f"{traces} ({count.spans} span{'' if count.spans == 1 else 's'})"


def records_text(runs: int, records: dict[str, int], traces: queries.TraceCount | None = None) -> str:
    """ "4 runs, 1 compaction record and 2 traces (9 spans)": the runs, then each kind there is any of."""
    parts = [runs_text(runs)] + [
        f"{count} {RECORD_NAMES[kind][count != 1]}" for kind, count in records.items() if count
    ]
    if traces and traces.traces:
        parts.append(traces_text(traces))
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def total_traces(counts: Iterable[queries.TraceCount]) -> queries.TraceCount:
    counts = list(counts)
    return queries.TraceCount(sum(count.traces for count in counts), sum(count.spans for count in counts))


class Deleted(NamedTuple):
    names: list[str]  # of the sessions deleted
    runs: int  # top-level runs that went with them
    records: dict[str, int]  # Agno's other records that went with them, by kind (RECORD_NAMES)
    traces: queries.TraceCount = queries.TraceCount()  # their traces that went with them (when asked)
    kept_traces: queries.TraceCount | None = queries.TraceCount()  # ... that stayed (None: their database is down)

    @property
    def text(self) -> str:
        return records_text(self.runs, self.records, self.traces)


def _chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def names_and_runs(session_data: dict[str, Any]) -> dict[str, tuple[str, int | None]]:
    """Each session's display name and top-level run count (None: runs unreadable), by id.

    `session_data` maps ids to the stored column. A session without a name goes by its first
    input, as in the list.
    """
    names = {
        session_id: agno.session_name(agno.as_dict(agno.decode_dict(raw))) for session_id, raw in session_data.items()
    }
    stats = queries.page_runs(list(names), {session_id for session_id, name in names.items() if not name})
    return {
        session_id: (name or stats[session_id].first_input.strip() or session_id, stats[session_id].runs)
        for session_id, name in names.items()
    }


def delete_sessions(sessions: QuerySet | list[str], user, *, with_traces: bool = False) -> Deleted:
    """Delete the sessions (a queryset, or their ids) as agno 3.1.10's delete_session does, in one transaction.

    The session rows, then their runs rows (in Agno's order: a PostgreSQL foreign key from Agno's
    sandbox bindings to a run lets the session's ON DELETE CASCADE remove both, not the run alone;
    SQLite enforces the runs' own foreign key only when asked to), then their other records.
    `with_traces`: their traces and spans too (Agno keeps them), in the same transaction, or in one
    around it when the traces are in another database, which must answer (else TracesUnreachable,
    and nothing is deleted); without it, the audit says how many stay.
    """
    names: list[str] = []
    runs_deleted = 0
    records_deleted = dict.fromkeys(RECORD_NAMES, 0)
    traces_counted: list[queries.TraceCount] = []
    traces_known = True
    source = current_source()
    traces_transaction = nullcontext()
    if with_traces and source.traces_elsewhere:
        try:
            source.traces_connection.ensure_connection()
        except DatabaseError as error:
            raise TracesUnreachable(str(error)) from error
        traces_transaction = transaction.atomic(using=source.traces_alias)
    with transaction.atomic(using=source.alias), traces_transaction:
        session_ids = sessions if isinstance(sessions, list) else list(sessions.order_by().values_list("pk", flat=True))
        for chunk in _chunks(session_ids):
            chunk_sessions = source.Session.objects.filter(pk__in=chunk)
            doomed = names_and_runs(dict(chunk_sessions.values_list("pk", "session_data")))
            records = queries.records_by_session(chunk)
            traces = _trace_counts(chunk, required=with_traces)
            traces_known = traces_known and traces is not None
            chunk_sessions.delete()
            if has_runs_table():
                source.Run.objects.filter(session_id__in=chunk).delete()
            for kind, count in _delete_records(chunk).items():
                records_deleted[kind] += count
            if with_traces:
                _delete_traces(chunk)
            if traces is not None:
                traces = {session_id: traces[session_id] for session_id in doomed if session_id in traces}
                traces_counted.extend(traces.values())
            log(
                user,
                [(session_id, name) for session_id, (name, _) in doomed.items()],
                DELETION,
                [
                    _deleted_message(runs or 0, records.get(session_id, {}), traces, session_id, with_traces)
                    for session_id, (_, runs) in doomed.items()
                ],
            )
            names.extend(name for name, _ in doomed.values())
            runs_deleted += sum(runs or 0 for _, runs in doomed.values())
    counted = total_traces(traces_counted)
    if with_traces:
        return Deleted(names, runs_deleted, records_deleted, traces=counted)
    return Deleted(names, runs_deleted, records_deleted, kept_traces=counted if traces_known else None)


def _trace_counts(session_ids: list[str], *, required: bool) -> dict[str, queries.TraceCount] | None:
    """The sessions' traces and spans; None when their other database does not answer and they stay anyway."""
    try:
        return queries.trace_counts(session_ids)
    except TracesUnreachable:
        if required:
            raise
        return None


def _deleted_message(
    runs: int, records: dict[str, int], traces: dict[str, queries.TraceCount] | None, session_id: str, with_traces: bool
) -> str:
    """The audit entry of one deleted session: what went with it, and the traces that stayed (`traces`: those
    of the deleted sessions, None when their database did not answer)."""
    count = (traces or {}).get(session_id)
    if with_traces:
        return f"Deleted with its {records_text(runs, records, count)}."
    if traces is None:
        kept = " Its traces, if any, were kept: their database did not answer."
    elif count:
        kept = f" Its {traces_text(count)} {'was' if count.traces == 1 else 'were'} kept, as Agno keeps them."
    else:
        kept = ""
    return f"Deleted with its {records_text(runs, records)}.{kept}"


def _delete_traces(session_ids: list[str]) -> None:
    """Delete the sessions' traces, their spans first (agno_spans.trace_id refers to agno_traces)."""
    if not has_trace_tables():
        return  # no trace tables (or not Agno's columns): nothing of theirs to delete
    source = current_source()
    traces = source.quoted_trace_table(source.traces_table)
    spans = source.quoted_trace_table(source.spans_table)
    belongs = f"session_id IN ({', '.join(['%s'] * len(session_ids))})"
    with queries.traces_cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {spans} WHERE trace_id IN (SELECT trace_id FROM {traces} WHERE {belongs})", session_ids
        )
        cursor.execute(f"DELETE FROM {traces} WHERE {belongs}", session_ids)


def _delete_records(session_ids: list[str]) -> dict[str, int]:
    """Delete Agno's other records about these sessions from the tables that exist; how many went, by kind.

    An offloaded tool result's payload goes by the exact (namespace, path) of its index row, before
    the index row: agno does the same after its commit, best-effort; here it is part of the delete.
    """
    source = current_source()
    placeholders = ", ".join(["%s"] * len(session_ids))
    deleted = {}
    with source.connection.cursor() as cursor:
        for table in companions():
            belongs = f"{table.session_column} IN ({placeholders})"
            if table.kind == "tool_results" and has_payload_table():
                cursor.execute(
                    f"DELETE FROM {source.quoted_payloads} WHERE (namespace, path) IN"
                    f" (SELECT namespace, path FROM {table.table} WHERE {belongs})",
                    session_ids,
                )
            cursor.execute(f"DELETE FROM {table.table} WHERE {belongs}", session_ids)
            deleted[table.kind] = cursor.rowcount
    return deleted


def audit_entries(*, session_id: str = "", action: str = "") -> QuerySet:
    """The log entries of dashboard edits and deletes, newest first: of one session, of one AUDIT_ACTIONS kind."""
    entries = (
        LogEntry.objects.filter(content_type=_content_type()).select_related("user").order_by("-action_time", "-pk")
    )
    if session_id:
        entries = entries.filter(object_id=session_id)
    if action in AUDIT_ACTIONS:
        entries = entries.filter(action_flag=AUDIT_ACTIONS[action])
    return entries


# An edit's log entry: Django admin's JSON change message ([{"changed": {"fields": [...]}}], which the
# admin shows as "Changed session name and metadata."), plus what changed: a field's value before and
# after, or, for two JSON objects, only the top-level keys added, removed or changed.
def edit_message(labels: dict[str, str], before: dict[str, Any], after: dict[str, Any]) -> str:
    values = {}
    for name, value in after.items():
        old = before.get(name)
        if isinstance(old, dict) and isinstance(value, dict):
            keys = {
                key: [old.get(key), value.get(key)]
                for key in old.keys() | value.keys()
                if key not in old or key not in value or old[key] != value[key]
            }
            added, removed = sorted(value.keys() - old.keys()), sorted(old.keys() - value.keys())
            values[name] = {"label": labels[name], "keys": keys, "added": added, "removed": removed}
        else:
            values[name] = {"label": labels[name], "before": old, "after": value}
    fields = [labels[name] for name in after]
    return json.dumps([{"changed": {"fields": fields}, "sessions_ui": values}], ensure_ascii=False, default=str)


@dataclass(frozen=True)
class KeyChange:
    key: str
    kind: str  # added, removed or changed
    before: Any
    after: Any


@dataclass(frozen=True)
class FieldChange:
    label: str
    before: Any = None
    after: Any = None
    keys: tuple[KeyChange, ...] | None = None  # per key, when both values are JSON objects


def field_changes(entry: LogEntry) -> list[FieldChange] | None:
    """What an edit's log entry says changed, field by field; None for an entry in another form (a
    delete, or an edit logged before these entries had values: its text is shown as it is)."""
    try:
        message = json.loads(entry.change_message)
        values = message[0]["sessions_ui"]
    except (ValueError, TypeError, LookupError):
        return None
    if not isinstance(values, dict):
        return None
    result = []
    for name, change in values.items():
        if not isinstance(change, dict):
            continue
        label = str(change.get("label") or name)
        if isinstance(change.get("keys"), dict):
            added, removed = set(change.get("added") or ()), set(change.get("removed") or ())
            keys = tuple(
                KeyChange(
                    str(key),
                    "added" if key in added else "removed" if key in removed else "changed",
                    *(pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)),
                )
                for key, pair in sorted(change["keys"].items())
            )
            result.append(FieldChange(label, keys=keys))
        else:
            result.append(FieldChange(label, change.get("before"), change.get("after")))
    return result
