"""Let the real agno write agent, team and workflow sessions; print a JSON manifest of what it wrote.

Runs inside an agno virtualenv (.agno-venvs/agno-<version>), never in the dashboard's: see
`tests/agno/__init__.py: write_with_agno`. The model is OpenAIChat pointed at the canned server of
`tests/agno/fake_openai.py`, so tool calls and session summaries are agno's real ones.

    python write_sessions.py DB_JSON MODEL_URL full PREFIX
    python write_sessions.py DB_JSON MODEL_URL agent SESSION_ID AGENT_ID USER_ID QUESTION [QUESTION ...]
    python write_sessions.py DB_JSON MODEL_URL migrate

`full` writes six sessions whose ids start with PREFIX: two agents (one with three runs, tool calls,
state, a summary and a name; one with an awkward id), two teams of two members (one with
store_member_responses=True) and two workflows (one with a parallel step). `agent` adds runs of
the weather agent to one session (how the tests build a session that agno 2.x and 3.x both wrote
to). `migrate` runs agno's own MigrationManager (3.x: copies every inline run into the runs table
and keeps the column).

Each manifest entry holds what the script asked for (ids, names, users, tool calls and their real
results, step names) and, under "agno", the session as agno itself reads it back (`read_sessions`).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import os
import sys

os.environ.setdefault("AGNO_TELEMETRY", "false")
os.environ.setdefault("OPENAI_API_KEY", "not-used")

from agno.agent import Agent  # noqa: E402
from agno.models.openai import OpenAIChat  # noqa: E402
from agno.run import RunContext  # noqa: E402
from agno.team import Team  # noqa: E402
from agno.workflow import Parallel, Step, StepInput, StepOutput, Workflow  # noqa: E402

# This folder is on sys.path (it holds the script), so its stdlib-only neighbours import directly.
from fake_openai import TOOL_ARGS  # noqa: E402
from read_sessions import agno_version, make_db, read_session  # noqa: E402

MODEL_ID = "gpt-4o-mini"
WEATHER_STATE = {"units": "metric", "favourites": ["lisbon", "kyoto"]}


def get_weather(city: str, run_context: RunContext) -> str:
    """Get the weather forecast for a city."""
    run_context.session_state["last_city"] = city
    return f"Sunny, 21 degrees in {city}"


def run_sql_query(query: str) -> str:
    """Run a read-only SQL query."""
    return json.dumps({"rows": [[42]], "query": query})


def search_flights(destination: str) -> str:
    """Search flights to a destination."""
    return f"3 flights to {destination}, from 420 EUR"


def search_hotels(city: str) -> str:
    """Search hotels in a city."""
    return f"Hotel Sakura in {city}, 95 EUR a night"


PLAIN_TOOLS = {tool.__name__: tool for tool in (run_sql_query, search_flights, search_hotels)}


def outline(step_input: StepInput) -> StepOutput:
    return StepOutput(content="Outline: intro, body, conclusion.")


def check_style(step_input: StepInput) -> StepOutput:
    return StepOutput(content="Style: no issues.")


def collect_figures(step_input: StepInput) -> StepOutput:
    return StepOutput(content="Orders: 42, returns: 3.")


def expected_tool(name: str, args: dict | None = None) -> dict:
    """The call the fake model asks for, with the result the real python function returns."""
    args = args if args is not None else TOOL_ARGS[name]
    if name == "get_weather":
        result = get_weather(**args, run_context=RunContext(run_id="", session_id="", session_state={}))
    else:
        result = PLAIN_TOOLS[name](**args)
    return {"name": name, "args": args, "result": result}


def model(url: str) -> OpenAIChat:
    return OpenAIChat(id=MODEL_ID, base_url=url, api_key="not-used", max_retries=0)


def agent(db, url: str, agent_id: str, name: str, tools: list, **kwargs) -> Agent:
    return Agent(id=agent_id, name=name, model=model(url), tools=tools, db=db, telemetry=False, **kwargs)


def weather_agent(db, url: str, agent_id: str) -> Agent:
    return agent(
        db,
        url,
        agent_id,
        "Weather Bot",
        [get_weather],
        session_state=dict(WEATHER_STATE),
        enable_session_summaries=True,
        metadata={"source": "contract-test"},
    )


def agent_run(output, question: str, tools: list[dict]) -> dict:
    return {"run_id": output.run_id, "kind": "agent", "input": question, "tools": tools}


def weather_run(weather: Agent, question: str, session_id: str, user_id: str) -> dict:
    output = weather.run(question, session_id=session_id, user_id=user_id, stream=False)
    return agent_run(output, question, [] if "(no tools)" in question else [expected_tool("get_weather")])


def session(session_id, kind, component_id, component_name, user_id, runs, **fields) -> dict:
    return {
        "session_id": session_id,
        "session_type": kind,
        "component_id": component_id,
        "component_name": component_name,
        "model": MODEL_ID if kind != "workflow" else "",
        "user_id": user_id,
        "session_name": "",
        "session_state": {},
        "metadata": None,
        "summary_of": None,
        "runs": runs,
        **fields,
    }


def write_full(db, url: str, prefix: str) -> list[dict]:
    sessions = []

    weather = weather_agent(db, url, f"{prefix}weather-agent")
    session_id, user_id = f"{prefix}agent-weather", "ada@example.com"
    questions = ["What is the weather in Lisbon?", "And in Kyoto?", "Thanks, that is all (no tools)"]
    runs = [weather_run(weather, question, session_id, user_id) for question in questions]
    weather.set_session_name(session_id=session_id, session_name="Lisbon weather")
    sessions.append(
        session(
            session_id,
            "agent",
            f"{prefix}weather-agent",
            "Weather Bot",
            user_id,
            runs,
            session_name="Lisbon weather",
            session_state={**WEATHER_STATE, "last_city": "Lisbon"},
            metadata={"source": "contract-test"},
            summary_of=questions[0],
        )
    )

    sql = agent(db, url, f"{prefix}sql-agent", "SQL Analyst", [run_sql_query])
    session_id, user_id = f"{prefix}sql session/ü 1", "grace.hopper@example.org"
    question = "How many orders shipped last week?"
    output = sql.run(question, session_id=session_id, user_id=user_id, stream=False)
    runs = [agent_run(output, question, [expected_tool("run_sql_query", {"query": "test"})])]
    sessions.append(session(session_id, "agent", f"{prefix}sql-agent", "SQL Analyst", user_id, runs))

    # Member runs are stored flat, with parent_run_id; store_member_responses=True keeps them
    # inside the team run as well.
    for suffix, store_members in (("", False), ("-stored", True)):
        team = Team(
            id=f"{prefix}travel-team{suffix}",
            name="Travel Planner",
            model=model(url),
            members=[
                agent(db, url, f"{prefix}flight-agent{suffix}", "Flight Finder", [search_flights]),
                agent(db, url, f"{prefix}hotel-agent{suffix}", "Hotel Scout", [search_hotels]),
            ],
            delegate_to_all_members=True,
            store_member_responses=store_members,
            enable_session_summaries=not store_members,
            db=db,
            telemetry=False,
        )
        session_id, user_id = f"{prefix}team-travel{suffix}", "linus@example.net"
        question = "Plan a trip to Kyoto"
        output = team.run(question, session_id=session_id, user_id=user_id, stream=False)
        run = {
            "run_id": output.run_id,
            "kind": "team",
            "input": question,
            "tools": [{"name": "delegate_task_to_members", "args": {"task": question}}],
            "members": [
                {
                    "component_id": f"{prefix}flight-agent{suffix}",
                    "name": "Flight Finder",
                    "tools": [expected_tool("search_flights")],
                },
                {
                    "component_id": f"{prefix}hotel-agent{suffix}",
                    "name": "Hotel Scout",
                    "tools": [expected_tool("search_hotels")],
                },
            ],
        }
        sessions.append(
            session(
                session_id,
                "team",
                f"{prefix}travel-team{suffix}",
                "Travel Planner",
                user_id,
                [run],
                store_member_responses=store_members,
                summary_of=None if store_members else question,
            )
        )

    # Step agents get no db of their own: with one, each writes an agent session under the
    # workflow's session_id, and the row ends up typed "agent" (2.x) or the workflow's is refused (3.x).
    workflow = Workflow(
        id=f"{prefix}blog-workflow",
        name="Blog Post Generator",
        db=db,
        steps=[
            Step(name="Research", agent=agent(None, url, f"{prefix}researcher", "Researcher", [])),
            Step(name="Outline", executor=outline),
            Parallel(
                Step(name="Check sources", agent=agent(None, url, f"{prefix}fact-checker", "Fact Checker", [])),
                Step(name="Check style", executor=check_style),
                name="Fact check",
            ),
            Step(name="Write", agent=agent(None, url, f"{prefix}writer", "Writer", [])),
        ],
        telemetry=False,
    )
    session_id, user_id = f"{prefix}workflow-blog", "margaret@example.com"
    question = "Write a blog post about HTMX"
    output = workflow.run(input=question, session_id=session_id, user_id=user_id, stream=False)
    run = {
        "run_id": output.run_id,
        "kind": "workflow",
        "input": question,
        "tools": [],
        "steps": [
            {"name": "Research", "executor": "Researcher"},
            {"name": "Outline", "executor": "outline", "content": "Outline: intro, body, conclusion."},
            {"name": "Fact check", "steps": ["Check sources", "Check style"]},
            {"name": "Write", "executor": "Writer"},
        ],
        "executors": [f"{prefix}researcher", f"{prefix}fact-checker", f"{prefix}writer"],
    }
    sessions.append(session(session_id, "workflow", f"{prefix}blog-workflow", "Blog Post Generator", user_id, [run]))

    # A second workflow, for a user who also has an agent session.
    workflow = Workflow(
        id=f"{prefix}report-workflow",
        name="Daily Report",
        db=db,
        steps=[
            Step(name="Collect", executor=collect_figures),
            Step(name="Summarise", agent=agent(None, url, f"{prefix}reporter", "Reporter", [])),
        ],
        telemetry=False,
    )
    session_id, user_id = f"{prefix}workflow-report", "ada@example.com"
    question = "Daily report for Monday"
    output = workflow.run(input=question, session_id=session_id, user_id=user_id, stream=False)
    run = {
        "run_id": output.run_id,
        "kind": "workflow",
        "input": question,
        "tools": [],
        "steps": [
            {"name": "Collect", "executor": "collect_figures", "content": "Orders: 42, returns: 3."},
            {"name": "Summarise", "executor": "Reporter"},
        ],
        "executors": [f"{prefix}reporter"],
    }
    sessions.append(session(session_id, "workflow", f"{prefix}report-workflow", "Daily Report", user_id, [run]))
    return sessions


def write_agent_runs(db, url: str, session_id: str, agent_id: str, user_id: str, *questions: str) -> list[dict]:
    weather = weather_agent(db, url, agent_id)
    runs = [weather_run(weather, question, session_id, user_id) for question in questions]
    return [session(session_id, "agent", agent_id, "Weather Bot", user_id, runs)]


def migrate(db) -> list[dict]:
    from agno.db.migrations.manager import MigrationManager

    pending = MigrationManager(db).up()
    if inspect.isawaitable(pending):  # a coroutine in agno 3.x
        asyncio.run(pending)
    return []


def main(argv: list[str]) -> None:
    spec, url, scenario, *args = argv
    db = make_db(json.loads(spec))
    with contextlib.redirect_stdout(sys.stderr):
        if scenario == "full":
            sessions = write_full(db, url, *args)
        elif scenario == "agent":
            sessions = write_agent_runs(db, url, *args)
        else:
            sessions = migrate(db)
        for entry in sessions:
            entry["agno"] = read_session(db, entry["session_id"])
    print(json.dumps({"agno_version": agno_version(), "sessions": sessions}, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
