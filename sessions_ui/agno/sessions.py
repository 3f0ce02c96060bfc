"""What a session row means: its name, state, summary, owning component and timestamps, and its export."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sessions_ui.agno.metrics import Metrics, decode_metrics
from sessions_ui.agno.runs import stored_runs
from sessions_ui.agno.values import (
    SESSION_TYPES,
    Malformed,
    as_dict,
    as_list,
    as_text,
    decode_dict,
    decode_json,
    epoch_to_datetime,
    pretty_json,
    text_of,
)


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
