"""What a stored run says, as text to search: its messages, tool calls and results, and a session's summary.

The content search (sessions_ui.queries.text) indexes and matches this text, never the stored JSON:
a JSON key ("role", "content") is not conversation. Words are what PostgreSQL's `simple` parser and
SQLite FTS5's `unicode61` tokenizer find (runs of letters and digits), compared case-insensitively.
"""

from __future__ import annotations

import json
import re
from typing import Any

from markupsafe import Markup, escape

from sessions_ui.agno.sessions import Summary, decode_summary
from sessions_ui.agno.values import as_dict, as_list, as_text, decode_json, text_of

WORD = re.compile(r"[^\W_]+")  # letters and digits: "_" separates words, as in both full-text parsers
# A search is at most this many words; the text of one run indexed at most this many characters
# (PostgreSQL's tsvector holds at most 1 MB, and a snippet needs only where the words are).
MAX_WORDS = 16
MAX_TEXT = 200_000
SNIPPET_BEFORE, SNIPPET_AFTER = 60, 140
# Message roles whose content is conversation (not the system prompt).
SEARCHED_ROLES = ("user", "assistant", "model", "tool")


def search_words(text: str) -> list[str]:
    """The distinct words of a search, lower case, in order (none: only punctuation)."""
    words = []
    for word in WORD.findall(text.casefold()):
        if word not in words:
            words.append(word)
    return words[:MAX_WORDS]


def run_text(stored: Any) -> str:
    """The searchable text of one stored run (a dict, or its stored JSON text): its input, the user and
    assistant messages, every tool call's arguments and result, and its content.

    Read from the run dict itself, as agno.runs reads it but without the rest (metrics, events, steps):
    building the index reads every run once.
    """
    data = as_dict(decode_json(stored) if isinstance(stored, (str, bytes)) else stored)
    run_input = data.get("input")
    parts = [text_of(as_dict(run_input).get("input_content")) if isinstance(run_input, dict) else as_text(run_input)]
    for message in map(as_dict, as_list(data.get("messages"))):
        if message.get("from_history"):
            continue  # a repeat of an earlier run's message, indexed with that run
        if message.get("role") in SEARCHED_ROLES:
            parts.append(text_of(message.get("content")))
        parts.extend(
            _args_text(as_dict(as_dict(call).get("function")).get("arguments"))
            for call in as_list(message.get("tool_calls"))
        )
    for tool in map(as_dict, as_list(data.get("tools"))):
        parts.extend((_args_text(tool.get("tool_args")), text_of(tool.get("result"))))
    parts.append(text_of(data.get("content")))
    return _joined(parts)


def _args_text(args: Any) -> str:
    if args is None or isinstance(args, str):
        return args or ""
    return json.dumps(args, ensure_ascii=False, default=str)


def summary_text(stored: Any) -> str:
    summary = decode_summary(stored)
    if not isinstance(summary, Summary):
        return ""
    return _joined([summary.text, *summary.topics])


def _joined(parts: list[str]) -> str:
    seen, kept = set(), []
    for part in parts:
        if part and part not in seen:
            seen.add(part)
            kept.append(part)
    return "\n".join(kept)[:MAX_TEXT]


def _pattern(words: list[str]) -> re.Pattern:
    alternatives = "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def contains_words(text: str, words: list[str]) -> bool:
    """Whether `text` holds every one of `words` as a whole word (any case)."""
    if not words:
        return False
    found = {match.casefold() for match in _pattern(words).findall(text)}
    return all(word in found for word in words)


def snippet(text: str, words: list[str]) -> Markup:
    """The part of `text` around the first of `words`, escaped, each word in <mark> ("" when none is in it)."""
    pattern = _pattern(words) if words else None
    first = pattern.search(text) if pattern else None
    if first is None:
        return Markup("")
    start = max(first.start() - SNIPPET_BEFORE, 0)
    end = min(first.end() + SNIPPET_AFTER, len(text))
    if start:  # start and end at a word boundary where there is one close by
        space = text.find(" ", start, first.start())
        start = space + 1 if space != -1 else start
    if end < len(text):
        space = text.rfind(" ", first.end(), end)
        end = space if space != -1 else end
    shown = " ".join(text[start:end].split())
    marked = Markup("")
    position = 0
    for match in pattern.finditer(shown):
        marked += escape(shown[position : match.start()]) + Markup("<mark>") + escape(match.group()) + Markup("</mark>")
        position = match.end()
    marked += escape(shown[position:])
    return (Markup("…") if start else Markup("")) + marked + (Markup("…") if end < len(text) else Markup(""))
