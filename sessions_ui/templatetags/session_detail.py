"""Template filters of the detail page: LLM text as sanitised Markdown, JSON values made readable."""

from __future__ import annotations

import html
import json
from typing import Any

import nh3
from django import template
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

from sessions_ui import agno

register = template.Library()

# Raw HTML in the text is escaped, images become links (no requests to hosts an LLM chose), and
# nh3 keeps only these tags and http(s)/mailto links, whatever the parser lets through.
_markdown = (
    MarkdownIt("commonmark", {"html": False, "breaks": True}).enable(["table", "strikethrough"]).disable("image")
)
ALIGNMENTS = {"left", "center", "right"}


def _alignment_classes(state) -> None:
    """A table column's alignment as a class (align-right), not the style attribute markdown-it writes:
    the Content-Security-Policy allows no inline styles."""
    for token in state.tokens:
        if token.type in ("th_open", "td_open") and token.attrs.get("style", "").startswith("text-align:"):
            alignment = token.attrs.pop("style").removeprefix("text-align:")
            if alignment in ALIGNMENTS:
                token.attrSet("class", f"align-{alignment}")


_markdown.core.ruler.push("alignment_classes", _alignment_classes)
ALLOWED_TAGS = {
    "p", "br", "strong", "em", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li", "hr",
    "h1", "h2", "h3", "h4", "h5", "h6", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip


@register.filter
def markdown(text: Any) -> SafeString:
    """LLM output as HTML: Markdown without raw HTML, sanitised; the only filter here that marks text safe."""
    rendered = _markdown.render(str(text or ""))
    return mark_safe(
        nh3.clean(
            rendered,
            tags=ALLOWED_TAGS,
            attributes={"a": {"href", "title"}},
            allowed_classes={cell: {f"align-{alignment}" for alignment in ALIGNMENTS} for cell in ("th", "td")},
            url_schemes={"http", "https", "mailto"},
            link_rel="noopener noreferrer nofollow",
            url_relative="deny",
        )
    )


@register.filter
def plain(text: Any, length: int = 600) -> str:
    """The start of Markdown text as one line of plain text, for a collapsed run (autoescaped as usual)."""
    rendered = nh3.clean(_markdown.render(str(text or "")[:length]), tags=set())
    return " ".join(html.unescape(rendered).split())


@register.filter
def malformed(value: Any) -> bool:
    return isinstance(value, agno.Malformed)


@register.filter
def pretty_json(value: Any) -> str:
    return agno.pretty_json(value)


@register.filter
def compact_json(value: Any) -> str:
    """A JSON value on one line, as the audit log shows a value before and after an edit."""
    return json.dumps(value, ensure_ascii=False, default=str)


@register.filter
def readable(value: Any) -> list[tuple[str, str, bool]]:
    """A JSON object as (key, text, is_block) rows: scalars as text, nested values as indented JSON."""
    if not isinstance(value, dict):
        return []
    rows = []
    for key, item in value.items():
        if isinstance(item, str):
            rows.append((str(key), item, "\n" in item))
        elif item is None or isinstance(item, (bool, int, float)):
            rows.append((str(key), json.dumps(item), False))
        else:
            rows.append((str(key), agno.pretty_json(item), True))
    return rows


@register.filter
def history_split(messages: list[agno.Message]) -> tuple[list[agno.Message], list[agno.Message]]:
    """(messages replayed from earlier runs, this run's own messages): history is shown folded."""
    history = [message for message in messages if message.from_history]
    return history, [message for message in messages if not message.from_history]


@register.filter
def listed_call(item: agno.Message | agno.ToolCall, listed: Any) -> bool:
    """Whether a tool message's result, or an assistant's call, is one of the run's tool calls (its
    `listed_tool_calls`), which the page shows under Tool calls: each call appears once."""
    if isinstance(item, agno.Message):
        key = item.tool_call_id or item.tool_name
    else:
        key = item.tool_call_id or item.name
    return isinstance(listed, set) and key in listed


@register.filter
def milliseconds(value: Any) -> str:
    """A span's duration or offset: "0 ms", "0.4 ms", "12 ms", "1.24 s"."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return ""
    if value == 0:
        return "0 ms"  # agno stores whole milliseconds: under one
    if value >= 1000:
        return seconds(value / 1000)
    return f"{value:.1f} ms" if value < 10 else f"{value:.0f} ms"


@register.filter
def seconds(value: Any) -> str:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return ""
    if value >= 60:
        return f"{int(value // 60)} min {value % 60:.0f} s"
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"
