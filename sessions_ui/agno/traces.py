"""What Agno 3.1's traces mean: a run's OpenTelemetry trace (agno_traces) and its spans (agno_spans).

agno/tracing/schemas.py writes times as ISO 8601 strings, durations in milliseconds (a float in SQLite,
where Agno's upsert recomputes it with julianday), and a span's attributes as the flat JSON object of
OpenInference's keys ("openinference.span.kind", "input.value", "llm.token_count.total", "agno.run.id").
Any of it may be missing or malformed: decoding never raises, and what is odd is marked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sessions_ui.agno.values import Malformed, as_float, as_text, decode_json, pretty_json

# The attribute that names the Agno run a span belongs to (a member run's or a workflow step's agent too).
RUN_ID_ATTRIBUTE = "agno.run.id"
# The waterfall's bars are drawn on this many SVG units (viewBox width).
WATERFALL_WIDTH = 1000
# Spans deeper than this are indented as deep as this (the indentation is a CSS class per level).
MAX_INDENT = 12


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _milliseconds(value: Any) -> float | None:
    number = as_float(value)
    return number if number is not None and number >= 0 else None


@dataclass(frozen=True)
class Trace:
    """One trace row: the run (`run_id`, `session_id`) whose root span started it."""

    trace_id: str
    name: str
    status: str  # OK, ERROR (any span errored) or UNSET
    start: datetime | None
    end: datetime | None
    duration_ms: float | None
    run_id: str
    session_id: str


def decode_trace(row: dict[str, Any]) -> Trace:
    return Trace(
        trace_id=as_text(row.get("trace_id")),
        name=as_text(row.get("name")),
        status=as_text(row.get("status")),
        start=_time(row.get("start_time")),
        end=_time(row.get("end_time")),
        duration_ms=_milliseconds(row.get("duration_ms")),
        run_id=as_text(row.get("run_id")),
        session_id=as_text(row.get("session_id")),
    )


@dataclass
class Span:
    """One span, placed in its tree (`depth`) and on the waterfall (`bar_x`, `bar_width` of WATERFALL_WIDTH)."""

    span_id: str
    parent_span_id: str
    name: str
    kind: str  # OpenInference's kind (AGENT, LLM, TOOL, CHAIN...) when recorded, else OpenTelemetry's
    status: str
    status_message: str
    start: datetime | None
    end: datetime | None
    duration_ms: float | None
    run_id: str  # the Agno run it belongs to ("" when the span names none)
    depth: int = 0
    offset_ms: float | None = None  # from the start of the trace shown
    bar_x: float = 0.0
    bar_width: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def is_error(self) -> bool:
        return self.status.upper() == "ERROR"

    @property
    def indent(self) -> int:
        return min(self.depth, MAX_INDENT)


def decode_span(row: dict[str, Any]) -> Span:
    """A span from its columns (the attributes are not among them: see `decode_attributes`)."""
    start, end = _time(row.get("start_time")), _time(row.get("end_time"))
    duration = _milliseconds(row.get("duration_ms"))
    if duration is None and start and end and end >= start:
        duration = (end - start).total_seconds() * 1000
    problems = [f"{name} is not a time" for name, value in (("start_time", start), ("end_time", end)) if value is None]
    return Span(
        span_id=as_text(row.get("span_id")),
        parent_span_id=as_text(row.get("parent_span_id")),
        name=as_text(row.get("name")) or "(unnamed span)",
        kind=as_text(row.get("kind")) or as_text(row.get("span_kind")),
        status=as_text(row.get("status_code")),
        status_message=as_text(row.get("status_message")),
        start=start,
        end=end,
        duration_ms=duration,
        run_id=as_text(row.get("run_id")),
        problems=problems,
    )


def span_tree(spans: list[Span], root_span_id: str = "") -> list[Span]:
    """The spans depth-first as Agno nested them (children by start time), placed on one time axis.

    With `root_span_id`, only that span and its descendants (a member run's part of its team's trace).
    A span whose parent is not among the spans is a root, marked; so is one in a parent cycle. A child
    outside its parent's time (clock skew) is drawn where it says, and marked.
    """
    by_id = {span.span_id: span for span in spans}
    children: dict[str, list[Span]] = {}
    roots = []
    for span in spans:
        if span.parent_span_id and span.parent_span_id in by_id and span.parent_span_id != span.span_id:
            children.setdefault(span.parent_span_id, []).append(span)
        elif span.span_id != root_span_id or not root_span_id:
            if span.parent_span_id and not root_span_id:
                span.problems.append("its parent span is missing")
            roots.append(span)
    if root_span_id:
        roots = [by_id[root_span_id]] if root_span_id in by_id else []

    def started(span: Span) -> tuple:
        return (span.start is None, span.start or datetime.min, span.span_id)

    ordered: list[Span] = []
    seen: set[str] = set()

    def visit(span: Span, depth: int, parent: Span | None) -> None:
        if span.span_id in seen:
            return
        seen.add(span.span_id)
        span.depth = depth
        if parent and parent.start and parent.end and span.start and span.end:
            if span.start < parent.start or span.end > parent.end:
                span.problems.append("outside its parent's time")
        ordered.append(span)
        for child in sorted(children.get(span.span_id, ()), key=started):
            visit(child, depth + 1, span)

    for root in sorted(roots, key=started):
        visit(root, 0, None)
    if not root_span_id:
        for span in sorted((span for span in spans if span.span_id not in seen), key=started):
            span.problems.append("in a cycle of parent spans")
            visit(span, 0, None)
    _place(ordered)
    return ordered


def _place(spans: list[Span]) -> None:
    """Offsets from the earliest start, and each bar's place on the waterfall's WATERFALL_WIDTH units."""
    starts = [span.start for span in spans if span.start]
    if not starts:
        return
    origin = min(starts)
    ends = [span.end for span in spans if span.end] + starts
    window = max((max(ends) - origin).total_seconds() * 1000, 1.0)
    for span in spans:
        if span.start is None:
            continue
        span.offset_ms = (span.start - origin).total_seconds() * 1000
        span.bar_x = round(span.offset_ms / window * WATERFALL_WIDTH, 1)
        duration = span.duration_ms or 0.0
        span.bar_width = round(max(min(duration / window * WATERFALL_WIDTH, WATERFALL_WIDTH - span.bar_x), 2.0), 1)


@dataclass(frozen=True)
class SpanAttribute:
    key: str
    text: str  # the value as text; a JSON document inside a string is pretty-printed
    is_json: bool


def _attribute(key: str, value: Any) -> SpanAttribute:
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in ("{", "["):
            try:
                return SpanAttribute(key, pretty_json(json.loads(stripped)), True)
            except (ValueError, RecursionError):
                pass
        return SpanAttribute(key, value, False)
    if isinstance(value, (dict, list)):
        return SpanAttribute(key, pretty_json(value), True)
    return SpanAttribute(key, json.dumps(value), False)


def decode_attributes(raw: Any) -> list[SpanAttribute] | Malformed:
    """A span's attributes in the order Agno stored them; Malformed when they are not a JSON object."""
    value = decode_json(raw)
    if isinstance(value, Malformed):
        return value
    if value is None:
        return []
    if not isinstance(value, dict):
        return Malformed(
            raw=raw if isinstance(raw, str) else pretty_json(value), reason="the attributes are not a JSON object"
        )
    return [_attribute(str(key), item) for key, item in value.items()]
