"""The sources: `list` the configured ones, `discover` the Agno session tables of a database (and print their TOML)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connections
from django.db.utils import load_backend

from config.settings import database_config
from sessions_ui.schema import table_columns
from sessions_ui.source_config import DEFAULT_SESSION_TABLE, ID_PATTERN, agno_runs_table
from sessions_ui.source_menu import session_count
from sessions_ui.sources import all_sources

# The columns every Agno session table has, 2.x and 3.x (`runs` only in 2.x and tables 3.x migrated).
SESSION_COLUMNS = (
    "session_id", "session_type", "agent_id", "team_id", "workflow_id", "user_id", "session_data", "agent_data",
    "team_data", "workflow_data", "metadata", "summary", "created_at", "updated_at",
)  # fmt: skip


@dataclass(frozen=True)
class Found:
    schema: str  # "" on SQLite
    table: str
    layout: str  # "2.x" (runs inline), "3.x" (a runs table), "mixed" (runs in both)
    runs_table: str | None
    sessions: int


def open_database(url: str):
    """A connection of its own to `url` (not one of settings.DATABASES)."""
    try:
        settings_dict = connections.configure_settings({"default": database_config(url)})["default"]
    except Exception as error:  # dj-database-url's own errors for a URL it cannot read
        raise CommandError(f"Cannot read the database URL: {error}") from error
    return load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, alias="agno-discover")


def session_tables(connection) -> list[tuple[str, str]]:
    """(schema, table) of every table with all of Agno's session columns, in every schema on PostgreSQL."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT table_schema, table_name FROM information_schema.columns"
                " WHERE column_name = ANY(%s) AND table_schema NOT IN ('pg_catalog', 'information_schema')"
                " GROUP BY table_schema, table_name HAVING COUNT(DISTINCT column_name) = %s"
                " ORDER BY table_schema, table_name",
                [list(SESSION_COLUMNS), len(SESSION_COLUMNS)],
            )
            return [(schema, table) for schema, table in cursor.fetchall()]
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        names = [row[0] for row in cursor.fetchall()]
    return [("", name) for name in names if set(SESSION_COLUMNS) <= set(table_columns(name, connection, schema=""))]


def inspect(connection, schema: str, table: str) -> Found:
    quote = connection.ops.quote_name

    def quoted(name: str) -> str:
        return f"{quote(schema)}.{quote(name)}" if schema else quote(name)

    runs_table = agno_runs_table(table)
    has_runs_table = bool(table_columns(runs_table, connection, schema=schema))
    inline = "runs" in table_columns(table, connection, schema=schema)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {quoted(table)}")
        sessions = cursor.fetchone()[0]
        layout = "2.x" if inline else "3.x"
        if inline and has_runs_table:
            # Both places exist: "mixed" once both hold runs (agno 3.x writing into a 2.x table).
            stored_null = "'null'::jsonb" if connection.vendor == "postgresql" else "'null'"
            cursor.execute(
                f"SELECT EXISTS (SELECT 1 FROM {quoted(runs_table)}),"
                f" EXISTS (SELECT 1 FROM {quoted(table)} WHERE runs IS NOT NULL AND runs <> {stored_null})"
            )
            in_table, in_column = cursor.fetchone()
            layout = "mixed" if in_table and in_column else "3.x" if in_table else "2.x"
    return Found(schema, table, layout, runs_table if has_runs_table else None, sessions)


def source_id(found: Found, taken: set[str]) -> str:
    base = found.table if found.table != DEFAULT_SESSION_TABLE or not found.schema else found.schema
    base = re.sub(r"[^a-z0-9_-]+", "-", base.lower()).strip("-_")[:28] or "source"
    candidate, number = base, 1
    while candidate in taken or not ID_PATTERN.fullmatch(candidate):
        number += 1
        candidate = f"{base}-{number}"
    taken.add(candidate)
    return candidate


def toml_for(found: list[Found], url: str) -> str:
    """The [sources.<id>] tables for the sources file; a URL with a password goes through url_env."""
    has_password = bool(urlsplit(url).password)
    lines = []
    if has_password:
        lines.append("# The URL holds a password: keep it out of the file. export AGNO_DISCOVERED_URL='<the URL>'")
    taken: set[str] = set()
    for entry in found:
        lines += ["", f"[sources.{source_id(entry, taken)}]"]
        lines.append(f'name = "{entry.schema + "." if entry.schema else ""}{entry.table}"')
        lines.append('url_env = "AGNO_DISCOVERED_URL"' if has_password else f'url = "{url}"')
        if entry.schema:
            lines.append(f'schema = "{entry.schema}"')
        if entry.table != DEFAULT_SESSION_TABLE:
            lines.append(f'session_table = "{entry.table}"')
    return "\n".join(lines).lstrip("\n") + "\n"


class Command(BaseCommand):
    help = "list: the configured sources. discover DATABASE_URL: the Agno session tables of a database, as TOML."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="action", required=True)
        commands.add_parser("list", help="the configured sources, with their tables and session counts")
        discover = commands.add_parser("discover", help="every table with Agno's session columns, and its TOML")
        discover.add_argument("url", metavar="DATABASE_URL")

    def handle(self, *args, action: str, **options):
        if action == "list":
            self._list()
        else:
            self._discover(options["url"])

    def _list(self) -> None:
        for number, source in enumerate(all_sources()):
            count, count_is = session_count(source)
            sessions = "down" if count is None else f"{'about ' if count_is == 'about' else ''}{count}"
            sessions += "+" if count_is == "at least" else ""
            table = f"{source.schema}.{source.session_table}" if source.schema else source.session_table
            urls = "/sessions/" if number == 0 else f"/sources/{source.id}/sessions/"
            self.stdout.write(
                f"{source.id}  {source.name!r}  database {source.alias}  table {table}  runs {source.runs_table}"
                f"  sessions {sessions}  {urls}"
            )

    def _discover(self, url: str) -> None:
        connection = open_database(url)
        try:
            found = [inspect(connection, schema, table) for schema, table in session_tables(connection)]
        except DatabaseError as error:
            raise CommandError(f"Cannot read that database: {error}") from error
        finally:
            connection.close()
        if not found:
            self.stdout.write("No Agno session tables there.")
            return
        for entry in found:
            table = f"{entry.schema}.{entry.table}" if entry.schema else entry.table
            runs = f"runs table {entry.runs_table}" if entry.runs_table else "no runs table"
            self.stdout.write(f"{table}  layout {entry.layout}  {runs}  {entry.sessions} sessions")
        self.stdout.write("\nFor the sources file (AGNO_SOURCES_FILE):\n")
        self.stdout.write(toml_for(found, url))
