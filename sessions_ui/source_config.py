"""Where the Agno session tables are (the sources), read by the settings: so no Django here.

Without AGNO_SOURCES_FILE the environment (AGNO_DATABASE_URL, AGNO_SESSION_TABLE, ...) defines the
one default source. With it, a TOML file lists them, the first being the default one (its pages keep
the URLs /sessions/...):

    [sources.prod]
    name = "Production"
    url_env = "PROD_AGNO_URL"      # the URL (with its password) from this environment variable
    schema = "ai"                  # PostgreSQL only; Agno's default "ai"

    [sources.support]
    name = "Support agent"
    url = "sqlite:////srv/agno/support.db"
    session_table = "support_sessions"   # runs_table: Agno's rule (<session table>_runs) unless given
    traces_url_env = "SUPPORT_TRACES_URL"  # its traces (AgentOS' tracing db) in another database: traces_url
                                           # or traces_url_env, and traces_schema (PostgreSQL, default "ai")
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_SESSION_TABLE = "agno_sessions"
DEFAULT_ID = "default"
SOURCE_KEYS = (
    "name", "url", "url_env", "schema", "session_table", "runs_table", "traces_url", "traces_url_env", "traces_schema",
)  # fmt: skip
# Ids go into URLs (/sources/<id>/sessions/), URL namespaces and permission codenames.
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")


class SourceConfigError(ValueError):
    """A sources file the dashboard cannot start with: the message names the file, the line and the problem."""


@dataclass(frozen=True)
class SourceSpec:
    """One source as configured: `url` None means the dashboard's own database, `schema` None Agno's default."""

    id: str
    name: str
    url: str | None
    schema: str | None
    session_table: str
    runs_table: str
    # Where Agno's tracing writes this source's traces, when not beside its sessions (None: beside them).
    traces_url: str | None = None
    traces_schema: str | None = None


# agno 3.1.10's records around a session: BaseDb.__init__ (agno/db/base.py) names these tables the
# same whatever session_table is, and takes no argument for them. Each is created the first time
# Agno needs it, in the session table's schema.
TOOL_RESULTS_TABLE = "agno_tool_results"  # offloaded tool results: index rows pointing at payloads
COMPACTIONS_TABLE = "agno_compactions"
TRANSCRIPTS_TABLE = "agno_transcripts"  # external-agent transcripts, keyed by agno_session_id
# The payloads of offloaded tool results (AgentFS): in the same SQLite file, or in schema "fs" of the
# PostgreSQL database whatever db_schema is (agno/db/postgres/postgres.py, _default_payload_table).
PAYLOAD_TABLE = "agno_fs"
POSTGRES_PAYLOAD_SCHEMA = "fs"
# OpenTelemetry traces (agno.tracing.setup_tracing): one row per trace, one per span. Agno's own
# defaults (BaseDb.__init__: traces_table= and spans_table=, which the dashboard is not told about).
TRACES_TABLE = "agno_traces"
SPANS_TABLE = "agno_spans"


def agno_runs_table(session_table: str) -> str:
    """The runs table agno 3.x writes for `session_table` when it is given no `runs_table`.

    agno/db/base.py (3.1.10, BaseDb.__init__): `f"{session_table}_runs"` for a custom session table,
    `agno_runs` for the default one (also when "agno_sessions" is passed explicitly).
    """
    return "agno_runs" if session_table == DEFAULT_SESSION_TABLE else f"{session_table}_runs"


def is_sqlite_url(url: str) -> bool:
    return url.split(":", 1)[0].lower() == "sqlite"


def env_source(environ: Mapping[str, str]) -> SourceSpec:
    """The single default source of the environment variables (AGNO_DATABASE_URL, AGNO_SESSION_TABLE, ...)."""
    session_table = environ.get("AGNO_SESSION_TABLE") or DEFAULT_SESSION_TABLE
    return SourceSpec(
        id=DEFAULT_ID,
        name=environ.get("AGNO_SOURCE_NAME", ""),  # "": named after its table
        url=environ.get("AGNO_DATABASE_URL") or None,
        schema=environ.get("AGNO_DB_SCHEMA"),
        session_table=session_table,
        runs_table=environ.get("AGNO_RUNS_TABLE") or agno_runs_table(session_table),
        traces_url=environ.get("AGNO_TRACES_DATABASE_URL") or None,
        traces_schema=environ.get("AGNO_TRACES_DB_SCHEMA") or None,
    )


def read_sources_file(path: str, environ: Mapping[str, str]) -> list[SourceSpec]:
    try:
        with open(path, "rb") as file:
            text = file.read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SourceConfigError(f"AGNO_SOURCES_FILE={path}: cannot read it ({error})") from error
    return parse_sources(text, environ, path)


def parse_sources(text: str, environ: Mapping[str, str], path: str = "sources file") -> list[SourceSpec]:
    """The sources of a TOML text, in file order; SourceConfigError names the line and the problem."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        hint = " (an id given twice?)" if "twice" in str(error) else ""
        raise SourceConfigError(f"{path}: not valid TOML: {error}{hint}") from error

    def fail(problem: str, source_id: str | None = None, key: str | None = None) -> SourceConfigError:
        line = _line_of(text, source_id, key)
        return SourceConfigError(f"{path}{f', line {line}' if line else ''}: {problem}")

    for key in document:
        if key != "sources":
            raise fail(f"unknown key {key!r}: only [sources.<id>] tables belong here", key=key)
    tables = document.get("sources")
    if not isinstance(tables, dict) or not tables:
        raise fail("no sources: add at least one [sources.<id>] table")
    specs, seen = [], {}
    for source_id, table in tables.items():
        if not ID_PATTERN.fullmatch(source_id):
            raise fail(
                f"bad source id {source_id!r}: 1 to 32 lower-case letters, digits, '-' or '_', starting with a"
                " letter or digit",
                source_id,
            )
        if not isinstance(table, dict):
            raise fail(f"sources.{source_id} must be a table: [sources.{source_id}]", source_id)
        for key, value in table.items():
            if key not in SOURCE_KEYS:
                raise fail(
                    f"sources.{source_id}: unknown key {key!r} (known: {', '.join(SOURCE_KEYS)})", source_id, key
                )
            if not isinstance(value, str) or not value.strip():
                raise fail(f"sources.{source_id}.{key} must be a non-empty string", source_id, key)
        url, traces_url = (_url_of(table, environ, prefix, source_id, fail) for prefix in ("", "traces_"))
        if "schema" in table and url is not None and is_sqlite_url(url):
            raise fail(f"sources.{source_id}.schema: SQLite has no schemas (PostgreSQL only)", source_id, "schema")
        if "traces_schema" in table and (traces_url or url) is not None and is_sqlite_url(traces_url or url):
            raise fail(
                f"sources.{source_id}.traces_schema: SQLite has no schemas (PostgreSQL only)",
                source_id,
                "traces_schema",
            )
        session_table = table.get("session_table", DEFAULT_SESSION_TABLE)
        spec = SourceSpec(
            id=source_id,
            name=table.get("name", source_id),
            url=url,
            schema=table.get("schema"),
            session_table=session_table,
            runs_table=table.get("runs_table") or agno_runs_table(session_table),
            traces_url=traces_url,
            traces_schema=table.get("traces_schema"),
        )
        where = (spec.url, spec.schema, spec.session_table)
        if where in seen:
            raise fail(f"sources.{source_id}: the same table as sources.{seen[where]}", source_id)
        seen[where] = source_id
        specs.append(spec)
    return specs


def _url_of(table: dict, environ: Mapping[str, str], prefix: str, source_id: str, fail) -> str | None:
    """`<prefix>url`, or the variable `<prefix>url_env` names: "" for the database URL, "traces_" for the traces'."""
    url_key, env_key = f"{prefix}url", f"{prefix}url_env"
    if url_key in table and env_key in table:
        raise fail(f"sources.{source_id}: give {url_key} or {env_key}, not both", source_id, env_key)
    if env_key not in table:
        return table.get(url_key)
    url = environ.get(table[env_key])
    if not url:
        raise fail(f"sources.{source_id}.{env_key}: the variable {table[env_key]} is not set", source_id, env_key)
    return url


def database_aliases(specs: list[SourceSpec]) -> dict[str, str]:
    """One Django database alias per distinct database URL, by source id.

    A source without a URL is in the dashboard's own database, `default`; the default source's other
    database is `agno` (as with AGNO_DATABASE_URL); any other `agno-<id of the first source in it>`.
    """
    aliases: dict[str, str] = {}
    by_url: dict[str, str] = {}
    for index, spec in enumerate(specs):
        if spec.url is None:
            aliases[spec.id] = "default"
            continue
        by_url.setdefault(spec.url, "agno" if index == 0 else f"agno-{spec.id}")
        aliases[spec.id] = by_url[spec.url]
    return aliases


def traces_aliases(specs: list[SourceSpec], aliases: dict[str, str]) -> dict[str, str]:
    """The database alias of each source's traces database, by source id, for the sources that name one.

    A URL that is a source's database is that database's alias; any other `traces-<id of the first source
    whose traces are there>`.
    """
    by_url = {spec.url: aliases[spec.id] for spec in specs if spec.url}
    traces: dict[str, str] = {}
    for spec in specs:
        if spec.traces_url:
            by_url.setdefault(spec.traces_url, f"traces-{spec.id}")
            traces[spec.id] = by_url[spec.traces_url]
    return traces


def _line_of(text: str, source_id: str | None, key: str | None) -> int | None:
    """The line of `[sources.<id>]`, of `key` in it, or of a top-level `key`: for error messages."""

    def bare(name: str) -> str:
        return re.sub(r"[\s\"'\[\]]", "", name)

    wanted = bare(f"sources.{source_id}") if source_id else None
    table = None  # the table the line is in, e.g. "sources.prod"
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.split("#", 1)[0].strip()
        if stripped.startswith("["):
            table = bare(stripped)
            if (source_id is None and table.split(".")[0] == key) or (key is None and table == wanted):
                return number
        elif key is not None and table == wanted and re.match(rf"[\"']?{re.escape(key)}[\"']?\s*=", stripped):
            return number
    return None
