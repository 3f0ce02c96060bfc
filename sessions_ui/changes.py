"""What the dashboard writes besides an edit's UPDATE (forms.py): deletes, and the audit log of every change.

Agno owns the session rows; a delete takes a session's 3.x runs rows with it, in one transaction,
and every edit and delete is recorded in Django's admin log (LogEntry), which the audit page reads.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import QuerySet

from sessions_ui import agno, queries
from sessions_ui.schema import has_runs_table
from sessions_ui.sources import current_source

CHUNK = 500
AUDIT_ACTIONS = {"edit": CHANGE, "delete": DELETION}


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


def runs_text(count: int) -> str:
    return f"{count} run{'' if count == 1 else 's'}"


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


def delete_sessions(sessions: QuerySet | list[str], user) -> tuple[list[str], int]:
    """Delete the sessions (a queryset, or their ids) and their Agno 3.x runs rows in one transaction.

    Returns the names of the sessions deleted and how many (top-level) runs went with them. The
    runs rows go explicitly: SQLite only enforces their foreign key when asked to.
    """
    deleted: list[str] = []
    runs_deleted = 0
    source = current_source()
    with transaction.atomic(using=source.alias):
        session_ids = sessions if isinstance(sessions, list) else list(sessions.order_by().values_list("pk", flat=True))
        for chunk in _chunks(session_ids):
            chunk_sessions = source.Session.objects.filter(pk__in=chunk)
            doomed = names_and_runs(dict(chunk_sessions.values_list("pk", "session_data")))
            if has_runs_table():
                source.Run.objects.filter(session_id__in=chunk).delete()
            chunk_sessions.delete()
            log(
                user,
                [(session_id, name) for session_id, (name, _) in doomed.items()],
                DELETION,
                [f"Deleted with its {runs_text(runs or 0)}." for _, runs in doomed.values()],
            )
            deleted.extend(name for name, _ in doomed.values())
            runs_deleted += sum(runs or 0 for _, runs in doomed.values())
    return deleted, runs_deleted


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
