"""Realistic Agno sessions, in Agno's own dict shapes, for the demo, tests and benchmarks.

The shapes follow what agno 2.x/3.x write (RunOutput / TeamRunOutput / WorkflowRunOutput
`to_dict()`), including team member runs stored flat with `parent_run_id` and workflow step results.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

USERS = [
    "ada@example.com",
    "grace.hopper@example.org",
    "linus@example.net",
    "margaret@example.com",
    "alan.turing@example.org",
    "barbara@example.com",
    "ken@example.net",
    "anon-7f3c",
]

AGENTS = [
    {
        "agent_id": "research-agent",
        "name": "Research Assistant",
        "model": {"id": "gpt-4o", "provider": "OpenAI", "name": "OpenAIChat"},
        "tool": "duckduckgo_search",
        "questions": [
            ("What is the latest on solid-state batteries?", {"query": "solid-state batteries 2026 news"}),
            ("Summarise recent papers on retrieval-augmented generation", {"query": "RAG papers survey"}),
            ("Who won the 2026 Tour de France?", {"query": "Tour de France 2026 winner"}),
            ("Compare PostgreSQL and SQLite for a small web app", {"query": "postgresql vs sqlite small web app"}),
        ],
    },
    {
        "agent_id": "weather-agent",
        "name": "Weather Bot",
        "model": {"id": "claude-sonnet-4-5", "provider": "Anthropic", "name": "Claude"},
        "tool": "get_weather",
        "questions": [
            ("Will it rain in Lisbon tomorrow?", {"city": "Lisbon", "days": 1}),
            ("What's the weather like in Tokyo this weekend?", {"city": "Tokyo", "days": 3}),
            ("Do I need a coat in Oslo today?", {"city": "Oslo", "days": 0}),
        ],
    },
    {
        "agent_id": "sql-agent",
        "name": "SQL Analyst",
        "model": {"id": "gpt-4.1-mini", "provider": "OpenAI", "name": "OpenAIChat"},
        "tool": "run_sql_query",
        "questions": [
            (
                "How many orders did we ship last week?",
                {"query": "SELECT count(*) FROM orders WHERE shipped_at > now() - interval '7 days'"},
            ),
            (
                "Top 5 customers by revenue this quarter",
                {"query": "SELECT customer, sum(total) FROM orders GROUP BY 1 ORDER BY 2 DESC LIMIT 5"},
            ),
            ("Which products are out of stock?", {"query": "SELECT name FROM products WHERE stock = 0"}),
        ],
    },
]

TEAMS = [
    {
        "team_id": "travel-team",
        "name": "Travel Planner",
        "model": {"id": "gpt-4o", "provider": "OpenAI", "name": "OpenAIChat"},
        "members": [
            ("flight-agent", "Flight Finder", "search_flights"),
            ("hotel-agent", "Hotel Scout", "search_hotels"),
        ],
        "questions": [
            "Plan a 3-day trip to Kyoto in April",
            "Find me a cheap weekend in Barcelona",
            "Business trip to Berlin next Tuesday",
        ],
    },
]

WORKFLOWS = [
    {
        "workflow_id": "blog-post-workflow",
        "name": "Blog Post Generator",
        "steps": [
            ("Research", "agent", "Research Assistant"),
            ("Outline", "agent", "Outliner"),
            ("Write", "team", "Writers Team"),
        ],
        "topics": ["Vector databases in 2026", "Why HTMX is back", "Running Postgres on a laptop"],
    },
]

LOREM = (
    "Here is what I found. The key points are summarised below, with sources where available. "
    "Overall the evidence points in one direction, although a few caveats remain worth noting. "
)


def _metrics(rng: random.Random, scale: int = 1) -> dict:
    input_tokens = rng.randint(120, 2400) * scale
    output_tokens = rng.randint(40, 900) * scale
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
        "duration": round(rng.uniform(0.4, 9.5) * scale, 3),
        "time_to_first_token": round(rng.uniform(0.1, 1.2), 3),
    }


def _answer(rng: random.Random, subject: str, padding: int) -> str:
    body = LOREM * rng.randint(1, 3)
    return f"**{subject}**\n\n{body}\n\n- first finding\n- second finding\n" + ("Detail. " * padding)


def agent_run(rng, agent, session_id, user_id, created_at, *, parent_run_id=None, question=None, padding=0) -> dict:
    run_id = str(uuid.UUID(int=rng.getrandbits(128)))
    question, args = question or rng.choice(agent["questions"])
    call_id = f"call_{rng.getrandbits(48):012x}"
    tool_result = f'{{"results": ["{agent["tool"]} result for {list(args.values())[0]}"]}}'
    failed = rng.random() < 0.04
    answer = "I could not complete that: the tool failed." if failed else _answer(rng, question, padding)
    metrics = _metrics(rng)
    messages = [
        {
            "id": f"msg_{run_id[:8]}_0",
            "role": "system",
            "content": f"You are {agent['name']}. Be concise and cite sources.",
            "created_at": created_at,
        },
        {"id": f"msg_{run_id[:8]}_1", "role": "user", "content": question, "created_at": created_at},
        {
            "id": f"msg_{run_id[:8]}_2",
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": call_id, "type": "function", "function": {"name": agent["tool"], "arguments": json.dumps(args)}}
            ],
            "metrics": {
                "input_tokens": metrics["input_tokens"] // 2,
                "output_tokens": 24,
                "total_tokens": metrics["input_tokens"] // 2 + 24,
            },
            "created_at": created_at,
        },
        {
            "id": f"msg_{run_id[:8]}_3",
            "role": "tool",
            "content": "Error: upstream timed out" if failed else tool_result,
            "tool_call_id": call_id,
            "tool_name": agent["tool"],
            "tool_args": args,
            "tool_call_error": failed,
            "created_at": created_at + 1,
        },
        {
            "id": f"msg_{run_id[:8]}_4",
            "role": "assistant",
            "content": answer,
            "metrics": metrics,
            "created_at": created_at + 2,
        },
    ]
    run = {
        "run_id": run_id,
        "agent_id": agent["agent_id"],
        "agent_name": agent["name"],
        "session_id": session_id,
        "user_id": user_id,
        "input": {"input_content": question},
        "content": answer,
        "content_type": "str",
        "model": agent["model"]["id"],
        "model_provider": agent["model"]["provider"],
        "messages": messages,
        "metrics": metrics,
        "tools": [
            {
                "tool_call_id": call_id,
                "tool_name": agent["tool"],
                "tool_args": args,
                "tool_call_error": failed,
                "result": "Error: upstream timed out" if failed else tool_result,
                "metrics": {"duration": round(rng.uniform(0.05, 2.0), 3)},
                "created_at": created_at + 1,
            }
        ],
        "status": "ERROR" if failed else "COMPLETED",
        "created_at": created_at,
    }
    if rng.random() < 0.3:
        run["reasoning_content"] = f"The user asks: {question}. I should call {agent['tool']} first, then summarise."
    if parent_run_id:
        run["parent_run_id"] = parent_run_id
    return run


def team_runs(rng, team, session_id, user_id, created_at, padding=0) -> list[dict]:
    """A team run and its member runs, flat, members first (as Agno stores them)."""
    team_run_id = str(uuid.UUID(int=rng.getrandbits(128)))
    question = rng.choice(team["questions"])
    members = []
    for offset, (agent_id, name, tool) in enumerate(team["members"]):
        member = {
            "agent_id": agent_id,
            "name": name,
            "model": team["model"],
            "tool": tool,
            "questions": [(question, {"destination": question.split()[-1]})],
        }
        members.append(
            agent_run(rng, member, session_id, user_id, created_at + offset, parent_run_id=team_run_id, padding=padding)
        )
    metrics = _metrics(rng, 2)
    answer = _answer(rng, question, padding)
    team_run = {
        "run_id": team_run_id,
        "team_id": team["team_id"],
        "team_name": team["name"],
        "session_id": session_id,
        "user_id": user_id,
        "input": {"input_content": question},
        "content": answer,
        "content_type": "str",
        "model": team["model"]["id"],
        "model_provider": team["model"]["provider"],
        "messages": [
            {"role": "system", "content": f"You lead {team['name']}. Delegate to members.", "created_at": created_at},
            {"role": "user", "content": question, "created_at": created_at},
            {"role": "assistant", "content": answer, "metrics": metrics, "created_at": created_at + 3},
        ],
        "metrics": metrics,
        "member_responses": [],
        "status": "COMPLETED",
        "created_at": created_at,
    }
    return [*members, team_run]


def workflow_run(rng, workflow, session_id, user_id, created_at, padding=0) -> dict:
    topic = rng.choice(workflow["topics"])
    steps = []
    for index, (name, executor_type, executor_name) in enumerate(workflow["steps"]):
        steps.append(
            {
                "step_name": name,
                "step_id": f"step_{index}",
                "step_type": "Step",
                "executor_type": executor_type,
                "executor_name": executor_name,
                "content": f"{name} output for '{topic}'. " + LOREM,
                "success": True,
                "metrics": {"duration": round(rng.uniform(0.5, 6.0), 3), "total_tokens": rng.randint(200, 2000)},
            }
        )
    steps.insert(
        2,
        {
            "step_name": "Fact check",
            "step_type": "Parallel",
            "content": "Both checks passed.",
            "success": True,
            "steps": [
                {
                    "step_name": "Check sources",
                    "step_type": "Step",
                    "executor_type": "agent",
                    "executor_name": "Fact Checker",
                    "content": "Sources verified.",
                    "success": True,
                },
                {
                    "step_name": "Check style",
                    "step_type": "Step",
                    "executor_type": "function",
                    "executor_name": "lint_prose",
                    "content": "No issues.",
                    "success": True,
                },
            ],
        },
    )
    return {
        "run_id": str(uuid.UUID(int=rng.getrandbits(128))),
        "workflow_id": workflow["workflow_id"],
        "workflow_name": workflow["name"],
        "session_id": session_id,
        "user_id": user_id,
        "input": {"input_content": f"Write a blog post about {topic}"},
        "content": _answer(rng, topic, padding),
        "content_type": "str",
        "step_results": steps,
        "step_executor_runs": [],
        # Agno's WorkflowMetrics: tokens per step only (agno 2.x cannot read a workflow run without "steps").
        "metrics": {
            "steps": {
                s["step_name"]: {key: s[key] for key in ("step_name", "executor_type", "executor_name", "metrics")}
                for s in steps
                if "metrics" in s
            },
            "duration": round(sum(s.get("metrics", {}).get("duration", 0) for s in steps), 3),
        },
        "status": "COMPLETED",
        "created_at": created_at,
    }


def _run_tokens(run: dict, key: str) -> int:
    """A run's tokens of one kind; workflow runs only count them per step."""
    metrics = run.get("metrics", {})
    if key in metrics:
        return metrics[key]
    return sum(step.get("metrics", {}).get(key, 0) for step in metrics.get("steps", {}).values())


@dataclass
class DemoSession:
    row: dict
    runs: list[dict]


def make_session(
    index: int, *, now: int, runs: int | None = None, padding: int = 0, seed: int = 7, days: int = 42
) -> DemoSession:
    """The index-th demo session: deterministic, with timestamps spread over the `days` (six weeks) before `now`."""
    rng = random.Random(seed * 1_000_003 + index)
    kind = ("agent", "agent", "agent", "team", "workflow")[index % 5]
    session_id = str(uuid.UUID(int=rng.getrandbits(128)))
    user_id = USERS[rng.randrange(len(USERS))] if rng.random() > 0.05 else None
    created_at = now - rng.randint(60, days * 86400)
    run_count = runs if runs is not None else (rng.choice([1, 1, 2, 3, 4]) if index % 23 else rng.randint(12, 30))
    session_runs: list[dict] = []
    at = created_at
    row: dict = {
        "session_id": session_id,
        "session_type": kind,
        "agent_id": None,
        "team_id": None,
        "workflow_id": None,
        "user_id": user_id,
    }
    if kind == "agent":
        agent = AGENTS[index % len(AGENTS)]
        row["agent_id"] = agent["agent_id"]
        row["agent_data"] = {"name": agent["name"], "agent_id": agent["agent_id"], "model": agent["model"]}
        for _ in range(run_count):
            session_runs.append(agent_run(rng, agent, session_id, user_id, at, padding=padding))
            at += rng.randint(20, 900)
    elif kind == "team":
        team = TEAMS[0]
        row["team_id"] = team["team_id"]
        row["team_data"] = {"name": team["name"], "team_id": team["team_id"], "model": team["model"]}
        for _ in range(run_count):
            session_runs.extend(team_runs(rng, team, session_id, user_id, at, padding=padding))
            at += rng.randint(30, 1200)
    else:
        workflow = WORKFLOWS[0]
        row["workflow_id"] = workflow["workflow_id"]
        row["workflow_data"] = {"name": workflow["name"], "workflow_id": workflow["workflow_id"]}
        for _ in range(run_count):
            session_runs.append(workflow_run(rng, workflow, session_id, user_id, at, padding=padding))
            at += rng.randint(60, 1800)
    top_level = [run for run in session_runs if not run.get("parent_run_id")]
    totals = {
        key: sum(_run_tokens(run, key) for run in session_runs)
        for key in ("input_tokens", "output_tokens", "total_tokens")
    }
    session_data = {"session_state": {"turns": len(top_level)}, "session_metrics": totals}
    if rng.random() < 0.7:
        session_data["session_name"] = top_level[0]["input"]["input_content"][:60]
    if kind == "agent" and rng.random() < 0.5:
        session_data["session_state"].update(
            {"preferred_units": rng.choice(["metric", "imperial"]), "favourites": ["lisbon", "kyoto"]}
        )
    row.update(
        session_data=session_data,
        metadata={
            "source": rng.choice(["web", "slack", "api"]),
            "app_version": f"1.{rng.randint(0, 9)}.{rng.randint(0, 20)}",
        }
        if rng.random() < 0.6
        else None,
        summary={
            "summary": f"The user asked about {top_level[0]['input']['input_content'].lower().rstrip('?')} and got an answer.",
            "topics": rng.sample(["research", "weather", "travel", "data", "writing", "support"], 2),
            "updated_at": _iso(at),
        }
        if rng.random() < 0.45
        else None,
        created_at=created_at,
        updated_at=at,
    )
    return DemoSession(row=row, runs=session_runs)


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat()
