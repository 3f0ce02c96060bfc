"""Test data: Agno-shaped session rows written straight into the Agno tables.

The models are unmanaged and the `runs` column may not exist, so rows are inserted with the same
bulk writer as the demo seeder instead of the ORM's save().
"""

from __future__ import annotations

import random
import time

import factory

from sessions_ui.bulk_write import write_sessions
from sessions_ui.demo import AGENTS, DemoSession, agent_run
from sessions_ui.models import AgnoSession
from sessions_ui.schema import agno_connection


class SessionRowFactory(factory.DictFactory):
    session_id = factory.Faker("uuid4")
    session_type = "agent"
    agent_id = "research-agent"
    team_id = None
    workflow_id = None
    user_id = factory.Sequence(lambda n: f"user{n}@example.com")
    session_data = factory.LazyAttribute(
        lambda row: {"session_name": f"Session {row.session_id[:8]}", "session_state": {}}
    )
    agent_data = factory.LazyAttribute(
        lambda row: (
            {"name": "Research Assistant", "agent_id": row.agent_id, "model": {"id": "gpt-4o", "provider": "OpenAI"}}
            if row.agent_id
            else None
        )
    )
    team_data = None
    workflow_data = None
    metadata = None
    summary = None
    created_at = factory.LazyFunction(lambda: int(time.time()) - 3600)
    updated_at = factory.LazyAttribute(lambda row: row.created_at + 60)


def create_session(*, runs: list[dict] | None = None, layout: str = "3", raw: bool = False, **fields) -> AgnoSession:
    """Insert one session (and its runs, inline for layout "2" or in the runs table for "3")."""
    row = SessionRowFactory(**fields)
    write_sessions(agno_connection(), [DemoSession(row=row, runs=runs or [])], layout=layout, raw=raw)
    return AgnoSession.objects.get(pk=row["session_id"])


def make_agent_run(
    session_id: str,
    *,
    question: str = "What is the weather in Lisbon?",
    created_at: int | None = None,
    seed: int = 1,
    **overrides,
) -> dict:
    """One realistic agent run dict with a tool call, as Agno's RunOutput.to_dict() gives it."""
    run = agent_run(
        random.Random(seed),
        AGENTS[1],
        session_id,
        "ada@example.com",
        created_at or int(time.time()) - 600,
        question=(question, {"city": "Lisbon", "days": 1}),
    )
    run.update(overrides)
    return run


def decoded_runs(session_id: str):
    """All runs of a session as the dashboard decodes them: both layouts merged, member runs nested."""
    from sessions_ui import agno, queries

    return agno.decode_runs(queries.inline_runs(session_id), queries.run_rows(session_id))
