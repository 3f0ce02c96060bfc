"""What the stored JSON means: the one place that decodes Agno's columns into small typed objects.

Every JSON column may hold plain JSON, a double-encoded JSON string (Agno 2.x on SQLite), JSON
null, SQL NULL, the wrong type or garbage. Decoding never raises: what cannot be read becomes a
`Malformed` value that templates show as such, with the raw text.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
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
    try:
        value = json.loads(raw)
    except ValueError as error:
        return Malformed(raw=str(raw), reason=f"not valid JSON: {error}")
    except RecursionError:
        return Malformed(raw=str(raw), reason=f"nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, str):
        # Agno 2.x's SqliteDb stores json.dumps(obj) in a JSON column: a string literal holding JSON.
        stripped = value.lstrip()
        if stripped[:1] in ("{", "[") or stripped in ("null", "true", "false"):
            try:
                value = json.loads(value)
            except ValueError as error:
                return Malformed(raw=str(raw), reason=f"not valid JSON inside a JSON string: {error}")
            except RecursionError:
                return Malformed(raw=str(raw), reason=f"nested more than {MAX_DEPTH} levels deep")
    # Fewer brackets than MAX_DEPTH cannot nest deeper: the walk is only paid for large values.
    text = raw if isinstance(raw, str) else raw.decode("utf-8", errors="replace")
    if text.count("[") + text.count("{") > MAX_DEPTH and nests_deeper_than(value, MAX_DEPTH):
        return Malformed(raw=text, reason=f"nested more than {MAX_DEPTH} levels deep")
    return value


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


@dataclass
class Metrics:
    input_tokens: int | None = None
    output_tokens: int | None = None
    total_tokens: int | None = None
    reasoning_tokens: int | None = None
    cache_read_tokens: int | None = None
    duration: float | None = None
    time_to_first_token: float | None = None
    other: dict = field(default_factory=dict)

    @property
    def tokens(self) -> int | None:
        if self.total_tokens is not None:
            return self.total_tokens
        if self.input_tokens is None and self.output_tokens is None:
            return None
        return (self.input_tokens or 0) + (self.output_tokens or 0)

    def __bool__(self) -> bool:
        return self.tokens is not None or self.duration is not None or bool(self.other)


def _first_number(value: Any) -> Any:
    # Agno 2.0's session_metrics kept some metrics as per-message lists.
    if isinstance(value, list):
        numbers = [v for v in value if isinstance(v, (int, float)) and not isinstance(v, bool)]
        return sum(numbers) if numbers else None
    return value


TOKEN_KEYS = ("input_tokens", "output_tokens", "total_tokens", "reasoning_tokens", "cache_read_tokens")


def _step_token_totals(steps: dict) -> dict:
    """Token totals of a workflow run, whose WorkflowMetrics keeps tokens per step only."""
    totals: dict = {}
    for step in steps.values():
        step_metrics = as_dict(as_dict(step).get("metrics"))
        for key in TOKEN_KEYS:
            number = as_int(_first_number(step_metrics.get(key)))
            if number is not None:
                totals[key] = totals.get(key, 0) + number
    return totals


def decode_metrics(value: Any) -> Metrics:
    data = as_dict(value)
    if isinstance(data.get("steps"), dict) and not any(key in data for key in TOKEN_KEYS):
        data = {**_step_token_totals(data["steps"]), **data}
    known = {
        "input_tokens",
        "output_tokens",
        "total_tokens",
        "reasoning_tokens",
        "cache_read_tokens",
        "duration",
        "time_to_first_token",
    }
    return Metrics(
        input_tokens=as_int(_first_number(data.get("input_tokens"))),
        output_tokens=as_int(_first_number(data.get("output_tokens"))),
        total_tokens=as_int(_first_number(data.get("total_tokens"))),
        reasoning_tokens=as_int(_first_number(data.get("reasoning_tokens"))),
        cache_read_tokens=as_int(_first_number(data.get("cache_read_tokens"))),
        duration=as_float(_first_number(data.get("duration"))),
        time_to_first_token=as_float(_first_number(data.get("time_to_first_token"))),
        other={k: v for k, v in data.items() if k not in known and v not in (None, 0, 0.0, [], {})},
    )


@dataclass
class ToolCall:
    tool_call_id: str | None
    name: str
    args: Any
    result: Any
    error: bool
    duration: float | None = None

    @property
    def args_text(self) -> str:
        return self.args if isinstance(self.args, str) else pretty_json(self.args)

    @property
    def result_text(self) -> str:
        return text_of(self.result)


def decode_tool_execution(value: Any) -> ToolCall:
    """A ToolExecution dict from a run's `tools` list."""
    data = as_dict(value)
    return ToolCall(
        tool_call_id=as_text(data.get("tool_call_id")) or None,
        name=as_text(data.get("tool_name")) or "tool",
        args=data.get("tool_args"),
        result=data.get("result"),
        error=bool(data.get("tool_call_error")),
        duration=decode_metrics(data.get("metrics")).duration,
    )


def decode_message_tool_call(value: Any) -> ToolCall:
    """An OpenAI-style tool call requested by an assistant message."""
    data = as_dict(value)
    function = as_dict(data.get("function"))
    args: Any = function.get("arguments")
    if isinstance(args, str):
        parsed = decode_json(args)
        args = args if isinstance(parsed, Malformed) else parsed
    return ToolCall(
        tool_call_id=as_text(data.get("id")) or None,
        name=as_text(function.get("name")) or as_text(data.get("name")) or "tool",
        args=args,
        result=None,
        error=False,
    )


@dataclass
class Message:
    role: str
    content: str
    tool_calls: list[ToolCall]
    tool_call_id: str | None
    tool_name: str | None
    tool_error: bool
    reasoning_content: str
    from_history: bool
    created_at: datetime | None
    metrics: Metrics
    media: list[str]


MEDIA_KEYS = ("images", "videos", "audio", "files")


def media_references(data: dict) -> list[str]:
    """URLs, paths or ids of the media attached to a message or run (never the bytes)."""
    references = []
    for key in MEDIA_KEYS:
        for item in as_list(data.get(key)):
            item = as_dict(item)
            names = (as_text(item.get(name)) for name in ("url", "filepath", "id", "filename"))
            reference = next((name for name in names if name), "inline content")
            references.append(f"{key[:-1] if key.endswith('s') else key}: {reference}")
    return references


def decode_message(value: Any) -> Message:
    data = as_dict(value)
    return Message(
        role=as_text(data.get("role")) or "unknown",
        content=text_of(data.get("content")),
        tool_calls=[decode_message_tool_call(call) for call in as_list(data.get("tool_calls"))],
        tool_call_id=as_text(data.get("tool_call_id")) or None,
        tool_name=as_text(data.get("tool_name")) or None,
        tool_error=bool(data.get("tool_call_error")),
        reasoning_content=text_of(data.get("reasoning_content")),
        from_history=bool(data.get("from_history")),
        created_at=epoch_to_datetime(data.get("created_at")),
        metrics=decode_metrics(data.get("metrics")),
        media=media_references(data),
    )


@dataclass
class Step:
    """One step of a workflow run (`step_results`), possibly with nested steps (parallel, loop...)."""

    name: str
    step_type: str
    executor_type: str
    executor_name: str
    content: str
    success: bool | None
    error: str
    metrics: Metrics
    steps: list[Step]


def decode_step(value: Any, depth: int = 0) -> Step:
    data = as_dict(value)
    nested = data.get("steps")
    # A loop stores its iterations as a list of lists of step outputs.
    flat = []
    for item in as_list(nested):
        flat.extend(item if isinstance(item, list) else [item])
    return Step(
        name=as_text(data.get("step_name")) or as_text(data.get("name")) or "step",
        step_type=as_text(data.get("step_type")),
        executor_type=as_text(data.get("executor_type")),
        executor_name=as_text(data.get("executor_name")),
        content=text_of(data.get("content")),
        success=data.get("success") if isinstance(data.get("success"), bool) else None,
        error=text_of(data.get("error")),
        metrics=decode_metrics(data.get("metrics")),
        steps=[decode_step(step, depth + 1) for step in flat] if depth < 20 else [],
    )


@dataclass
class Run:
    run_id: str
    kind: str  # agent, team or workflow
    parent_run_id: str | None
    status: str
    component_name: str
    model: str
    input: str
    content: str
    reasoning: str
    messages: list[Message]
    tools: list[ToolCall]
    metrics: Metrics
    created_at: datetime | None
    steps: list[Step]
    events: list[dict]
    media: list[str]
    data: dict
    order: tuple = ()
    members: list[Run] = field(default_factory=list)
    malformed: Malformed | None = None

    @property
    def is_error(self) -> bool:
        return self.status.upper() == "ERROR" or any(tool.error for tool in self.tools)

    @property
    def raw_json(self) -> str:
        return self.malformed.raw if self.malformed else pretty_json(self.data)


def _run_input(data: dict, messages: list[Message]) -> str:
    run_input = data.get("input")
    if isinstance(run_input, dict) and run_input.get("input_content") not in (None, ""):
        return text_of(run_input["input_content"])
    if isinstance(run_input, str):
        return run_input
    for message in messages:
        if message.role == "user" and not message.from_history:
            return message.content
    return ""


def _run_kind(data: dict, run_type: str | None) -> str:
    if run_type in SESSION_TYPES:
        return run_type
    if "step_results" in data or "workflow_name" in data or "step_executor_runs" in data:
        return "workflow"
    if "member_responses" in data or "team_name" in data:
        return "team"
    return "agent"


def decode_run(value: Any, *, run_type: str | None = None, order: tuple = (), run_id: str | None = None) -> Run:
    """One run dict (RunOutput / TeamRunOutput / WorkflowRunOutput.to_dict()), raw or stored text."""
    decoded = decode_json(value) if isinstance(value, (str, bytes)) else value
    malformed = None
    if isinstance(decoded, Malformed):
        malformed, decoded = decoded, {}
    elif not isinstance(decoded, dict):
        malformed = Malformed(raw=pretty_json(decoded), reason=f"expected a run object, found {type(decoded).__name__}")
        decoded = {}
    data = decoded
    messages = [decode_message(message) for message in as_list(data.get("messages"))]
    kind = _run_kind(data, run_type)
    names = (as_text(data.get(key)) for key in (f"{kind}_name", "agent_name", "team_name"))
    return Run(
        run_id=as_text(data.get("run_id")) or run_id or "",
        kind=kind,
        parent_run_id=as_text(data.get("parent_run_id")) or None,
        status=as_text(data.get("status")),
        component_name=next((name for name in names if name), ""),
        model=as_text(data.get("model")),
        input=_run_input(data, messages),
        content=text_of(data.get("content")),
        reasoning=text_of(data.get("reasoning_content")),
        messages=messages,
        tools=[decode_tool_execution(tool) for tool in as_list(data.get("tools"))],
        metrics=decode_metrics(data.get("metrics")),
        created_at=epoch_to_datetime(data.get("created_at")),
        steps=[decode_step(step) for step in as_list(data.get("step_results"))],
        # What the timeline shows of each event; the events in full are in the raw JSON.
        events=[
            {"event": as_text(event.get("event")), "created_at": as_text(event.get("created_at"))}
            for event in as_list(data.get("events"))
            if isinstance(event, dict)
        ],
        media=media_references(data),
        data=data,
        order=order,
        malformed=malformed,
    )


# Teams of teams nest a few levels; a longer parent chain is hostile data, and would overflow the
# recursive templates and run_path. Deeper runs are left out, as SQLRunTimeline's queries do.
MAX_MEMBER_DEPTH = 10


def nest_runs(runs: list[Run]) -> list[Run]:
    """Top-level runs in order, team member runs nested under their parent, each run once.

    Member runs are stored flat with `parent_run_id` (both layouts) and, when the team stores
    member responses, also inside the team run's `member_responses`.
    """
    by_id: dict[str, Run] = {}
    ordered = []
    for run in sorted(runs, key=lambda run: run.order):
        if run.run_id and run.run_id in by_id:
            continue
        if run.run_id:
            by_id[run.run_id] = run
        ordered.append(run)
    for run in list(ordered):
        for index, member in enumerate(
            as_list(run.data.get("member_responses")) + as_list(run.data.get("step_executor_runs"))
        ):
            nested = decode_run(member, order=(*run.order, index))
            if nested.run_id and nested.run_id in by_id:
                continue
            nested.parent_run_id = nested.parent_run_id or run.run_id
            if nested.run_id:
                by_id[nested.run_id] = nested
            ordered.append(nested)

    def ancestors(run: Run) -> int:
        """How many runs up the parent chain (stops past MAX_MEMBER_DEPTH, so cycles end too)."""
        count = 0
        while count <= MAX_MEMBER_DEPTH and run.parent_run_id and by_id.get(run.parent_run_id) not in (None, run):
            run, count = by_id[run.parent_run_id], count + 1
        return count

    top_level = []
    for run in ordered:
        parent = by_id.get(run.parent_run_id) if run.parent_run_id else None
        if parent is None or parent is run:
            top_level.append(run)
        elif ancestors(run) <= MAX_MEMBER_DEPTH:
            parent.members.append(run)
    for run in ordered:
        run.members.sort(key=lambda member: member.order)
    return top_level


def decode_runs(inline_runs: Any = None, run_rows: list | None = None) -> list[Run] | Malformed:
    """All runs of a session, from the 2.x `runs` column and/or 3.x runs-table rows, nested.

    `run_rows` are objects with the runs-table columns (run_id, run_type, run_index, created_at,
    run_data). Returns Malformed when the inline column cannot be decoded at all.
    """
    runs: list[Run] = []
    inline = decode_json(inline_runs)
    if isinstance(inline, Malformed):
        return inline
    if inline is not None and not isinstance(inline, list):
        return Malformed(raw=pretty_json(inline), reason=f"expected a list of runs, found {type(inline).__name__}")
    table_run_ids = {row.run_id for row in run_rows or []}
    for position, item in enumerate(inline or []):
        run = decode_run(item, order=())
        if run.run_id in table_run_ids:
            # Agno 3.x's migration copies runs to the runs table and keeps the column as a backup:
            # like Agno, trust the table's copy (later updates go there).
            continue
        run.order = (run.created_at.timestamp() if run.created_at else 0, 0, position, run.run_id)
        runs.append(run)
    for position, row in enumerate(run_rows or []):
        run = decode_run(row.run_data, run_type=row.run_type, run_id=row.run_id)
        run.run_id = row.run_id
        run.parent_run_id = run.parent_run_id or getattr(row, "parent_run_id", None)
        run.status = run.status or (row.status or "")
        created = epoch_to_datetime(row.created_at)
        run.created_at = run.created_at or created
        run.order = (
            created.timestamp() if created else 0,
            1,
            row.run_index if row.run_index is not None else position,
            row.run_id,
        )
        runs.append(run)
    return nest_runs(runs)


@dataclass
class Summary:
    text: str
    topics: list[str]
    updated_at: datetime | None


def decode_summary(raw: Any) -> Summary | Malformed | None:
    value = decode_json(raw)
    if value is None or isinstance(value, Malformed):
        return value
    if isinstance(value, str):
        return Summary(text=value, topics=[], updated_at=None) if value.strip() else None
    if not isinstance(value, dict):
        return Malformed(raw=pretty_json(value), reason=f"expected a summary object, found {type(value).__name__}")
    text = text_of(value.get("summary"))
    topics = [topic for topic in map(as_text, as_list(value.get("topics"))) if topic]
    if not text and not topics:
        return None
    return Summary(text=text, topics=topics, updated_at=epoch_to_datetime(value.get("updated_at")))


@dataclass
class Component:
    """The agent, team or workflow that owns a session, from agent_data / team_data / workflow_data."""

    kind: str
    component_id: str | None
    name: str
    model_id: str
    model_provider: str
    data: dict | Malformed | None


def decode_component(kind: str, component_id: str | None, raw: Any) -> Component:
    data = decode_dict(raw)
    fields = as_dict(data)
    model = fields.get("model")
    model_fields = as_dict(model)
    return Component(
        kind=kind,
        component_id=component_id,
        name=as_text(fields.get("name")),
        model_id=as_text(model_fields.get("id")) or as_text(model),
        model_provider=as_text(model_fields.get("provider")),
        data=data,
    )


@dataclass
class Session:
    session_id: str
    session_type: str
    agent_id: str | None
    team_id: str | None
    workflow_id: str | None
    user_id: str | None
    session_data: dict | Malformed | None
    name: str
    state: Any
    metrics: Metrics
    metadata: dict | Malformed | None
    summary: Summary | Malformed | None
    component: Component
    created_at: datetime | None
    updated_at: datetime | None
    updated_at_raw: int | None

    @property
    def display_name(self) -> str:
        return self.name or self.session_id


def session_name(session_data: Any) -> str:
    return text_of(as_dict(session_data).get("session_name")).strip()


def decode_session(row: Any, first_input: str = "") -> Session:
    """A session row (model instance or any object with the columns) as a typed Session.

    `first_input` is the first user message, the name AgentOS shows when a session has none; the
    caller fetches it because it lives in the runs, which a list page must not load.
    """
    session_data = decode_dict(getattr(row, "session_data", None))
    data = as_dict(session_data)
    kind = row.session_type if row.session_type in SESSION_TYPES else "agent"
    component_id = getattr(row, f"{kind}_id", None)
    return Session(
        session_id=row.session_id,
        session_type=row.session_type,
        agent_id=row.agent_id,
        team_id=row.team_id,
        workflow_id=row.workflow_id,
        user_id=row.user_id,
        session_data=session_data,
        name=session_name(data) or first_input.strip(),
        state=data.get("session_state"),
        metrics=decode_metrics(data.get("session_metrics")),
        metadata=decode_dict(getattr(row, "metadata", None)) if "metadata" in _loaded(row) else None,
        summary=decode_summary(getattr(row, "summary", None)) if "summary" in _loaded(row) else None,
        component=decode_component(
            kind, component_id, getattr(row, f"{kind}_data", None) if f"{kind}_data" in _loaded(row) else None
        ),
        created_at=epoch_to_datetime(row.created_at),
        updated_at=epoch_to_datetime(row.updated_at),
        updated_at_raw=row.updated_at,
    )


def _loaded(row: Any) -> set[str] | dict:
    """Columns present on the row: deferred model fields are skipped rather than fetched one by one."""
    state = getattr(row, "__dict__", {})
    return state


def run_path(runs: list[Run], run_id: str) -> list[Run]:
    """The runs from a top-level run down to the run `run_id` (through member runs), [] when absent."""
    for run in runs:
        if run.run_id == run_id:
            return [run]
        below = run_path(run.members, run_id)
        if below:
            return [run, *below]
    return []


SESSION_COLUMNS = (
    "session_id", "session_type", "agent_id", "team_id", "workflow_id", "user_id", "session_data", "agent_data",
    "team_data", "workflow_data", "metadata", "runs", "summary", "created_at", "updated_at",
)  # fmt: skip


def export_session(columns: dict, inline_runs: Any = None, run_rows: list | None = None) -> dict:
    """The session as Agno's own `Session.to_dict()` gives it, with all 15 columns.

    `runs` is the flat list Agno stores (team member runs are entries of their own), from either
    layout, merged as Agno 3.x merges them (`stored_runs`); None when there are none, as Agno writes
    it. A JSON value that does not decode is exported as its raw text.
    """
    exported = {}
    for column in SESSION_COLUMNS:
        value = decode_json(columns.get(column)) if column in JSON_COLUMNS else columns.get(column)
        exported[column] = value.raw if isinstance(value, Malformed) else value
    exported["runs"] = stored_runs(inline_runs, run_rows) or None
    return exported


JSON_COLUMNS = {"session_data", "agent_data", "team_data", "workflow_data", "metadata", "summary"}


def stored_runs(inline_runs: Any = None, run_rows: list | None = None) -> list:
    """Every stored run of a session in Agno's order: the 2.x list as stored, each run replaced by its
    runs-table copy when there is one, then the runs only the table holds (agno.db.utils'
    merge_runs_table_with_legacy_blob). What does not decode is kept as its raw text.
    """
    table = [decode_json(row.run_data) for row in run_rows or []]
    table_by_id = {_stored_run_id(run): run for run in table if _stored_run_id(run) is not None}
    inline = decode_json(inline_runs)
    if isinstance(inline, Malformed) or (inline is not None and not isinstance(inline, list)):
        inline = [inline]
    runs, inline_ids = [], set()
    for item in inline or []:
        value = decode_json(item) if isinstance(item, str) else item
        run_id = _stored_run_id(value)
        if run_id is not None:
            inline_ids.add(run_id)
        runs.append(table_by_id.get(run_id, value) if run_id is not None else value)
    runs.extend(run for run in table if _stored_run_id(run) not in inline_ids)
    return [run.raw if isinstance(run, Malformed) else run for run in runs]


def _stored_run_id(run: Any) -> Any:
    """The run_id Agno matches stored runs by; a list or an object there (unhashable) matches nothing."""
    run_id = run.get("run_id") if isinstance(run, dict) else None
    return None if isinstance(run_id, (list, dict)) else run_id
