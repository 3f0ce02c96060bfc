"""What a stored run means: Agno's RunOutput / TeamRunOutput / WorkflowRunOutput dicts as typed runs,
merged from both layouts (2.x inline list, 3.x runs table) and nested (member runs under their team run).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sessions_ui.agno.metrics import Metrics, decode_metrics
from sessions_ui.agno.records import Offloaded, offloaded
from sessions_ui.agno.values import (
    SESSION_TYPES,
    Malformed,
    as_dict,
    as_list,
    as_text,
    decode_json,
    epoch_to_datetime,
    pretty_json,
    text_of,
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

    @property
    def offloaded(self) -> Offloaded | None:
        return offloaded(self.result) if isinstance(self.result, str) else None


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

    @property
    def offloaded(self) -> Offloaded | None:
        return offloaded(self.content) if self.role == "tool" else None


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
    def failed_tools(self) -> list[ToolCall]:
        """Its tool calls that failed, and its member runs' (the preview shows their results)."""
        return [tool for tool in self.tools_with_members if tool.error]

    @property
    def failed_members(self) -> list[Run]:
        """Its member runs (and theirs) that ended in an error."""
        return [
            run for member in self.members for run in (member, *member.failed_members) if run.status.upper() == "ERROR"
        ]

    @property
    def tools_with_members(self) -> list[ToolCall]:
        """Its tool calls, then its member runs' (and theirs): what a team run's collapsed line lists."""
        return self.tools + [tool for member in self.members for tool in member.tools_with_members]

    @property
    def listed_tool_calls(self) -> set[str]:
        """The ids of its tool calls (the names of those without an id): the detail page shows each of them
        once, under Tool calls, so that its messages leave their results out and only name the call."""
        return {tool.tool_call_id or tool.name for tool in self.tools}

    @property
    def superseded(self) -> bool:
        """Agno regenerated this run (RunStatus.regenerated): its history skips it, the regeneration replaces it."""
        return self.status.upper() == "REGENERATED"

    @property
    def regenerated_from(self) -> str:
        """The run this one regenerates (agno 3.1's continue_run(regenerate=True)), "" for none."""
        return as_text(self.data.get("regenerated_from"))

    @property
    def forked_from_run_id(self) -> str:
        """The run this one forks (continue_run(fork=True); a regeneration is also a fork of its run)."""
        return as_text(self.data.get("forked_from_run_id"))

    @property
    def forked_from_session_id(self) -> str:
        """The session this run was copied from by agno 3.1's fork_session()."""
        return as_text(self.data.get("forked_from_session_id"))

    @property
    def waits_for(self) -> list[str]:
        """What a paused run waits for: one line per unresolved requirement (agno/run/requirement.py)."""
        if self.status.upper() != "PAUSED":
            return []
        waiting = []
        for requirement in as_list(self.data.get("requirements")):
            tool = as_dict(as_dict(requirement).get("tool_execution"))
            name = as_text(tool.get("tool_name")) or "a tool"
            if tool.get("requires_confirmation") and tool.get("confirmed") is None:
                approval = " (an approval in agno_approvals)" if as_text(tool.get("approval_id")) else ""
                waiting.append(f"confirmation of {name}{approval}")
            if tool.get("requires_user_input") and tool.get("answered") is not True:
                waiting.append(f"user input for {name}")
            if tool.get("external_execution_required") and tool.get("result") is None:
                waiting.append(f"the result of {name}, run outside agno")
        return waiting

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


def run_path(runs: list[Run], run_id: str) -> list[Run]:
    """The runs from a top-level run down to the run `run_id` (through member runs), [] when absent."""
    for run in runs:
        if run.run_id == run_id:
            return [run]
        below = run_path(run.members, run_id)
        if below:
            return [run, *below]
    return []


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
