"""Running the real agno from tests: each version in its own virtualenv, in a subprocess.

agno is a test-only dependency and is never imported here: `./test` creates
`.agno-venvs/agno-<version>` and the scripts in this folder run inside them. See README.md here.
"""

from __future__ import annotations

import json
import os
import subprocess
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import quote

AGNO_VERSIONS = ("2.9.0", "3.1.10")
HERE = Path(__file__).resolve().parent
VENVS = HERE.parent.parent / ".agno-venvs"


class AgnoFailed(AssertionError):
    """The real agno raised (or timed out): the message holds the end of its stderr."""


@dataclass(frozen=True)
class AgnoDb:
    """Where agno is told to read and write: a SQLAlchemy URL, PostgreSQL schema and table names."""

    url: str
    schema: str | None
    session_table: str
    runs_table: str

    def spec(self) -> str:
        return json.dumps(asdict(self))


def postgres_url(settings_dict: dict, name: str | None = None) -> str:
    """A SQLAlchemy (psycopg 3) URL for a Django PostgreSQL connection's settings."""
    user, password = settings_dict.get("USER") or "", settings_dict.get("PASSWORD") or ""
    auth = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "") + "@" if user else ""
    host, port = settings_dict.get("HOST") or "localhost", settings_dict.get("PORT") or 5432
    return f"postgresql+psycopg://{auth}{host}:{port}/{quote(name or settings_dict['NAME'], safe='')}"


def agno_db(connection=None, *, session_table: str | None = None, runs_table: str | None = None) -> AgnoDb:
    """The database behind a Django connection (the test database, in tests), as agno is told about it.

    Defaults to the dashboard's Agno connection and table settings. On SQLite the database must be
    a file (config/settings.py makes the test database one): agno runs in another process.
    """
    from django.conf import settings

    from sessions_ui.schema import agno_connection

    connection = connection or agno_connection()
    if connection.vendor == "sqlite":
        if connection.is_in_memory_db():
            raise ValueError("agno runs in a subprocess and cannot reach an in-memory SQLite database")
        url = f"sqlite:///{Path(connection.settings_dict['NAME']).resolve()}"
    else:
        url = postgres_url(connection.settings_dict)
    return AgnoDb(
        url=url,
        schema=settings.AGNO_DB_SCHEMA or None,
        session_table=session_table or settings.AGNO_SESSION_TABLE,
        runs_table=runs_table or settings.AGNO_RUNS_TABLE,
    )


def run_agno(version: str, script: str, *args: str, timeout: float = 120) -> dict:
    """Run one of this folder's scripts with agno `version`; returns the JSON it prints last."""
    python = VENVS / f"agno-{version}" / "bin" / "python"
    if not python.exists():
        raise AgnoFailed(f"{python} is missing: ./test creates the agno virtualenvs")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(AGNO_TELEMETRY="false", OPENAI_API_KEY="not-used", PYTHONDONTWRITEBYTECODE="1")
    try:
        completed = subprocess.run(
            [str(python), str(HERE / script), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=HERE,
        )
    except subprocess.TimeoutExpired as error:
        raise AgnoFailed(f"agno {version} {script} timed out after {timeout} s:\n{error.stderr}") from error
    if completed.returncode != 0:
        raise AgnoFailed(f"agno {version} {script} exited with {completed.returncode}:\n{completed.stderr[-6000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def write_with_agno(version: str, db: AgnoDb, model_url: str, scenario: str, *args: str) -> list[dict]:
    """Let agno `version` write sessions (see write_sessions.py for the scenarios); returns the manifest."""
    return run_agno(version, "write_sessions.py", db.spec(), model_url, scenario, *args)["sessions"]


def write_with_agno31(db: AgnoDb, model_url: str, scenario: str, *args: str, timeout: float = 180) -> dict:
    """Let agno 3.1.10 write one scenario of write_agno31.py ("offload", "compaction", "states", "twins", ...)
    or run one of its entries ("delete", "counts", "dump"); returns the whole manifest (tables, sessions, ...)."""
    return run_agno(AGNO_VERSIONS[-1], "write_agno31.py", db.spec(), model_url, scenario, *args, timeout=timeout)


def agno_get_sessions(version: str, db: AgnoDb, session_ids: list[str] | tuple[str, ...] = ()) -> list[dict | None]:
    """Sessions as agno `version` reads them (`to_dict()` of its own objects): the given ids
    through `get_session()` (None where missing), or every session through `get_sessions()`."""
    return run_agno(version, "read_sessions.py", db.spec(), *session_ids)["sessions"]


def agno_get_session(version: str, db: AgnoDb, session_id: str) -> dict | None:
    """One session as agno `version`'s `get_session()` reads it, or None; raises AgnoFailed if agno fails."""
    return agno_get_sessions(version, db, [session_id])[0]


@contextmanager
def use_agno_tables(session_table: str, runs_table: str):
    """Point the dashboard at other Agno tables (settings and the unmanaged models' db_table)."""
    from django.test import override_settings

    from sessions_ui.models import AgnoRun, AgnoSession, qualified_table
    from sessions_ui.schema import forget_layout

    def retarget(model, db_table: str) -> None:
        model._meta.db_table = db_table
        for field in model._meta.concrete_fields:
            field.__dict__.pop("cached_col", None)  # Django caches each column with its table name

    saved = {AgnoSession: AgnoSession._meta.db_table, AgnoRun: AgnoRun._meta.db_table}
    with override_settings(AGNO_SESSION_TABLE=session_table, AGNO_RUNS_TABLE=runs_table):
        retarget(AgnoSession, qualified_table(session_table))
        retarget(AgnoRun, qualified_table(runs_table))
        forget_layout()
        try:
            yield
        finally:
            for model, db_table in saved.items():
                retarget(model, db_table)
            forget_layout()
