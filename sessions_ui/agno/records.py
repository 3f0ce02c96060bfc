"""What Agno 3.1's records around a session mean: compaction records, offloaded tool results, transcripts.

The columns are typed (agno/db/*/schemas.py, COMPACTIONS_TABLE_SCHEMA), but SQLite stores whatever it
is given: every value is read as the other decoders read theirs, never raising.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sessions_ui.agno.values import (
    Malformed,
    as_dict,
    as_int,
    as_text,
    decode_json,
    epoch_to_datetime,
    pretty_json,
    text_of,
)

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


# The envelope agno 3.1 leaves in a run where a tool result was offloaded (agno/offload/store.py:
# render_stored_envelope), or where storing it was refused (render_refused_envelope).
_ENVELOPE = re.compile(
    r'<result (?:id="(?P<result_id>res_[0-9a-f]+)" )?tool="(?P<tool>[^"]*)" lines="(?P<lines>\d+)" size="(?P<size>[^"]*)"'
    r'(?: stored="false" reason="(?P<reason>[^"]*)")?>\n'
)


@dataclass(frozen=True)
class Offloaded:
    """A tool result that Agno moved out of the run: the run keeps a preview, the payload table the rest."""

    result_id: str  # "" when Agno could not store it (then `refused` says why, and the rest is lost)
    lines: int
    size: str  # as Agno wrote it: "26.2KB"
    refused: str = ""


def offloaded(text: str) -> Offloaded | None:
    """The offload envelope that `text` (a tool result as stored in a run) starts with, if any."""
    match = _ENVELOPE.match(text) if text.startswith("<result ") else None
    if match is None or not (match["result_id"] or match["reason"] is not None):
        return None
    return Offloaded(match["result_id"] or "", int(match["lines"]), match["size"], match["reason"] or "")


@dataclass(frozen=True)
class ToolResult:
    """An offloaded tool result's index row (agno_tool_results) and its payload (agno_fs), or the start of it."""

    result_id: str
    tool_name: str
    content_type: str  # "text" or "json"
    size_bytes: int | None
    line_count: int | None
    content: str | None  # None when the payload is not in the database (another filesystem, or deleted)
    content_length: int | None  # of the whole payload, in characters

    @property
    def cut(self) -> int:
        """How many characters of the payload are not in `content`."""
        if self.content is None or self.content_length is None:
            return 0
        return max(self.content_length - len(self.content), 0)


def decode_tool_result(row: dict[str, Any]) -> ToolResult:
    content = row.get("content")
    return ToolResult(
        result_id=as_text(row.get("result_id")),
        tool_name=as_text(row.get("tool_name")),
        content_type=as_text(row.get("content_type")),
        size_bytes=as_int(row.get("size_bytes")),
        line_count=as_int(row.get("line_count")),
        content=content if isinstance(content, str) else None,
        content_length=as_int(row.get("content_length")),
    )


@dataclass(frozen=True)
class Transcript:
    """One external agent's transcript of the session (agno_transcripts: agno/db/transcripts.py), not its entries."""

    framework: str  # e.g. "claude-agent-sdk"
    project_key: str
    session_id: str  # the external agent's own session id
    subpath: str  # "" for the main transcript, e.g. "subagents/agent-1" for a subagent's
    entries: int | None


@dataclass(frozen=True)
class TranscriptEntry:
    """One line of an external transcript: the SDK's own JSON entry, read for what it says."""

    position: int | None
    kind: str  # the entry's "type": user, assistant, system, ...
    role: str
    text: str
    raw: str  # the entry as stored, readable
    malformed: str = ""


def decode_transcript_entry(position: Any, stored: Any) -> TranscriptEntry:
    entry = decode_json(stored)
    if isinstance(entry, Malformed) or not isinstance(entry, dict):
        raw = entry.raw if isinstance(entry, Malformed) else pretty_json(entry)
        return TranscriptEntry(as_int(position), "", "", "", raw, malformed="not a JSON object")
    message = as_dict(entry.get("message"))
    return TranscriptEntry(
        position=as_int(position),
        kind=as_text(entry.get("type")),
        role=as_text(message.get("role")),
        text=text_of(message.get("content")),
        raw=pretty_json(entry),
    )
