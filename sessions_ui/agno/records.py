"""What Agno 3.1's records around a session mean: compaction records (agno_compactions).

The columns are typed (agno/db/*/schemas.py, COMPACTIONS_TABLE_SCHEMA), but SQLite stores whatever it
is given: every value is read as the other decoders read theirs, never raising.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sessions_ui.agno.values import as_int, as_text, epoch_to_datetime

# The columns of a compaction record the detail page lists; the summary and the archive are read when opened.
COMPACTION_COLUMNS = ("compaction_id", "run_id", "messages_compacted", "tokens_before", "tokens_after", "created_at")


@dataclass(frozen=True)
class Compaction:
    """One fold: Agno replaced `messages_compacted` earlier messages of the session's context by a summary.

    The runs are left as they were; `archived_messages` is Agno's Markdown rendering of the folded
    messages (agno/compaction/archive.py: tool results clipped at 20,000 characters), None when Agno
    kept none.
    """

    compaction_id: str
    run_id: str  # the run during which Agno folded, "" for agent.compact() outside any run
    messages_compacted: int | None
    tokens_before: int | None
    tokens_after: int | None
    created_at: datetime | None
    summary: str = ""
    archived_messages: str | None = None
    archived_length: int | None = None  # of the whole stored archive; archived_messages may be its start

    @property
    def archive_cut(self) -> int:
        """How many characters of the archive are not in `archived_messages`."""
        if self.archived_messages is None or self.archived_length is None:
            return 0
        return max(self.archived_length - len(self.archived_messages), 0)

    @property
    def malformed(self) -> str:
        """Why the record cannot be shown as Agno wrote it ("" when it can)."""
        if not self.compaction_id:
            return "no compaction_id"
        if self.created_at is None:
            return "created_at is not a time"
        return ""


def decode_compaction(row: dict[str, Any]) -> Compaction:
    """A compaction record from its columns (any subset of them: the others read as missing)."""
    archived = row.get("archived_messages")
    return Compaction(
        compaction_id=as_text(row.get("compaction_id")),
        run_id=as_text(row.get("run_id")),
        messages_compacted=as_int(row.get("messages_compacted")),
        tokens_before=as_int(row.get("tokens_before")),
        tokens_after=as_int(row.get("tokens_after")),
        created_at=epoch_to_datetime(row.get("created_at")),
        summary=as_text(row.get("summary")),
        archived_messages=archived if isinstance(archived, str) else None,
        archived_length=as_int(row.get("archived_length")),
    )
