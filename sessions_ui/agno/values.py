"""What a stored JSON value is: plain, double-encoded or garbage, decoded once, never raising.

Every JSON column may hold plain JSON, a double-encoded JSON string (Agno 2.x on SQLite), JSON
null, SQL NULL, the wrong type or garbage. What cannot be read becomes a `Malformed` value that
templates show as such, with the raw text. The SQL twins of these rules are in
`sessions_ui.queries.sql_json`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

SESSION_TYPES = ("agent", "team", "workflow")


@dataclass(frozen=True)
class Malformed:
    """A stored value that could not be decoded, or is not of the type Agno writes there."""

    raw: str
    reason: str

    def __bool__(self) -> bool:
        return True


def decode_json(raw: Any) -> Any:
    """Decode one stored JSON value: plain, double-encoded, JSON null or SQL NULL."""
    if raw is None or not isinstance(raw, (str, bytes)):
        return raw
    value = _parsed(raw, raw)
    if isinstance(value, str):
        # Agno 2.x's SqliteDb stores json.dumps(obj) in a JSON column: a string literal holding JSON.
        stripped = value.lstrip()
        if stripped[:1] in ("{", "[") or stripped in ("null", "true", "false"):
            value = _parsed(value, raw, " inside a JSON string")
    if isinstance(value, Malformed):
        return value
    # Fewer brackets than MAX_DEPTH cannot nest deeper: the walk is only paid for large values.
    text = raw if isinstance(raw, str) else raw.decode("utf-8", errors="replace")
    if text.count("[") + text.count("{") > MAX_DEPTH and nests_deeper_than(value, MAX_DEPTH):
        return Malformed(raw=text, reason=f"nested more than {MAX_DEPTH} levels deep")
    return value


def _parsed(text: str | bytes, raw: str | bytes, where: str = "") -> Any:
    try:
        return json.loads(text)
    except ValueError as error:
        return Malformed(raw=str(raw), reason=f"not valid JSON{where}: {error}")
    except RecursionError:
        return Malformed(raw=str(raw), reason=f"nested more than {MAX_DEPTH} levels deep")


# Far deeper than anything Agno writes. Deeper values would overflow the recursive code that shows
# them (json.dumps with indent, comparisons, templates) a few hundred frames into a request.
MAX_DEPTH = 100


def nests_deeper_than(value: Any, limit: int) -> bool:
    """Whether lists and objects nest more than `limit` levels deep; iterative, so it cannot overflow itself."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        for child in children:
            if isinstance(child, (dict, list)):
                if depth >= limit:
                    return True
                stack.append((child, depth + 1))
    return False


def decode_dict(raw: Any) -> dict | Malformed | None:
    """A column Agno fills with an object (session_data, metadata, ...): dict, None or Malformed."""
    value = decode_json(raw)
    if value is None or isinstance(value, (dict, Malformed)):
        return value
    return Malformed(
        raw=raw if isinstance(raw, str) else json.dumps(raw), reason=f"expected an object, found {type(value).__name__}"
    )


def as_dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def as_text(value: Any) -> str:
    """A stored name, id, status or type as text, "" when missing: a number written there shows as the
    number, while a list, an object or a boolean would show as a Python repr, so it counts as missing.
    Content (messages, outputs) goes through `text_of`, which shows structured values as JSON.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return str(value)
    return ""


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        # JSON's 1e999 decodes to infinity, and a string may say "nan".
        return int(value) if isinstance(value, float) else int(float(value)) if isinstance(value, str) else None
    except (ValueError, OverflowError):
        return None


def as_float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer of hundreds of digits
        return None
    return number if math.isfinite(number) else None


def epoch_to_datetime(value: Any) -> datetime | None:
    """Agno stores epoch seconds; tolerate milliseconds and ISO strings from other writers."""
    if isinstance(value, str) and not value.lstrip("-").isdigit():
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    try:
        seconds = as_float(float(value) if isinstance(value, str) else value)
    except ValueError:  # digits that float() does not read, such as "²"
        return None
    if seconds is None:
        return None
    if seconds > 1e11:
        seconds /= 1000
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def text_of(value: Any) -> str:
    """Text of a message or run content: a string, multimodal parts, or structured output."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = []
        for part in value:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            elif isinstance(part, str):
                parts.append(part)
            else:
                parts.append(json.dumps(part, indent=2, default=str))
        return "\n".join(parts)
    if isinstance(value, dict) and set(value) == {"type", "text"} and isinstance(value["text"], str):
        return value["text"]
    return json.dumps(value, indent=2, default=str, ensure_ascii=False)


def pretty_json(value: Any) -> str:
    if isinstance(value, Malformed):
        return value.raw
    return json.dumps(value, indent=2, default=str, ensure_ascii=False, sort_keys=False)
