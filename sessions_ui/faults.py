"""When the database fails a request: which fault it is, which setting most likely causes it, and its page.

One middleware turns every django.db error a view raises (a missing table or column, a revoked
privilege, a database that does not answer) into a 503 page, or for htmx the fragment that
static/js/app.js shows in place of the target, naming the setting to check. Writes run in
transactions, so a fault leaves nothing half written. A missing table or column also drops the
cached layout (schema.forget_layout), so a schema that changed under the dashboard is read again
on the next request instead of after a restart.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from django.db import Error, OperationalError, connections
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from sessions_ui.schema import forget_layout
from sessions_ui.sources import current_source

logger = logging.getLogger(__name__)

FAULT_HEADER = "X-Dashboard-Fault"  # on a fault fragment: static/js/app.js swaps it in where the request aimed
DOCTOR = "python manage.py agno_doctor"
# The dashboard's own tables (made by `migrate`), told apart from Agno's in a "no such table".
OWN_TABLE_PREFIXES = ("auth_", "django_", "axes_", "sessions_ui_")

_UNDEFINED_TABLE = re.compile(r'relation "(?:[^"]*\.)?([^".]+)" does not exist|no such table: (?:\w+\.)?(\S+)')
_UNDEFINED_COLUMN = re.compile(
    r"column (?:\"?([\w]+)\"?\.)?\"?(\w+)\"? does not exist|no such column: (?:(\w+)\.)?(\w+)"
)
_DENIED = re.compile(r"permission denied for (table|schema|relation|sequence|database) \"?([^\s\"]+)\"?")


@dataclass
class Fault:
    kind: str  # unreachable, missing_table, missing_column, denied, busy, other
    title: str
    explanation: str
    settings: list[tuple[str, str]] = field(default_factory=list)  # (setting, its value now)
    fixes: list[str] = field(default_factory=list)
    status: int = 503


def _sqlstate(error: Error) -> str:
    cause = error.__cause__
    return getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None) or ""


def database_url(alias: str) -> str:
    """A connection's database as a URL without its password (what DATABASE_URL / AGNO_DATABASE_URL say)."""
    config = connections[alias].settings_dict
    if config["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{config['NAME']}"
    user = f"{config.get('USER')}@" if config.get("USER") else ""
    port = f":{config['PORT']}" if config.get("PORT") else ""
    return f"postgres://{user}{config.get('HOST') or 'localhost'}{port}/{config['NAME']}"


def _url_settings(source) -> list[tuple[str, str]]:
    urls = [("DATABASE_URL", database_url("default"))]
    if source.alias != "default":
        setting = "AGNO_DATABASE_URL" if source.is_default else f"sources.{source.id}.url (AGNO_SOURCES_FILE)"
        urls.append((setting, database_url(source.alias)))
    return urls


def _table_settings(source) -> list[tuple[str, str]]:
    found = [("AGNO_SESSION_TABLE", source.session_table), ("AGNO_RUNS_TABLE", source.runs_table)]
    if source.schema:
        found.insert(0, ("AGNO_DB_SCHEMA", source.schema))
    return found


def diagnose(error: Error) -> Fault:
    """What went wrong, in the words of the settings that decide it (no database query: it may be down)."""
    source = current_source()
    message = str(error).strip()
    state = _sqlstate(error)
    where = f"schema “{source.schema}” of " if source.schema else ""
    if table := _UNDEFINED_TABLE.search(message):
        name = table.group(1) or table.group(2)
        if name.startswith(OWN_TABLE_PREFIXES):
            return Fault(
                "missing_table",
                "The dashboard's own tables are missing",
                f"The table “{name}” does not exist in the dashboard's database.",
                _url_settings(source)[:1],
                ["Run python manage.py migrate against this database."],
            )
        which = {source.session_table: "session table", source.runs_table: "runs table"}.get(name, "table")
        return Fault(
            "missing_table",
            f"Agno's {which} is not there",
            f"The {which} “{name}” does not exist in {where}the Agno database (or it was dropped or renamed "
            "while the dashboard was running).",
            [*_table_settings(source), *_url_settings(source)[-1:]],
            [
                "Check that these settings name the schema and tables Agno writes (Agno's db_schema, "
                "session_table and runs_table arguments).",
                f"{DOCTOR} lists the tables this database has.",
                "If the tables changed on purpose, reload: the dashboard reads the layout again.",
            ],
        )
    if column := _UNDEFINED_COLUMN.search(message):
        table_name = column.group(1) or column.group(3) or "the session table"
        name = column.group(2) or column.group(4)
        return Fault(
            "missing_column",
            "A column of Agno's layout is missing",
            f"The column “{name}” of {table_name} does not exist (the table was altered, or it is not Agno's).",
            [*_table_settings(source), *_url_settings(source)[-1:]],
            [
                "Reload: the dashboard reads which columns exist again, and does without the inline runs column.",
                f"{DOCTOR} compares the tables with Agno's layout.",
            ],
        )
    denied = _DENIED.search(message)
    if state == "42501" or denied:
        what = f"the {denied.group(1)} “{denied.group(2)}”" if denied else "a table"
        role = source.connection.settings_dict.get("USER") or "the dashboard's role"
        schema = source.schema or "public"
        return Fault(
            "denied",
            "The database refused access",
            f"The role “{role}” may not use {what}: its privileges were revoked, or never granted.",
            [*_url_settings(source)[-1:], *_table_settings(source)],
            [
                f"GRANT USAGE ON SCHEMA {schema} TO {role};",
                f"GRANT SELECT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role};",
                "(SELECT alone for a read-only dashboard: edits and deletes then fail with this page.)",
            ],
        )
    if "readonly database" in message:
        return Fault(
            "denied",
            "The database file is read-only",
            "SQLite may read but not write the database file (or its folder).",
            _url_settings(source),
            ["Give the dashboard's user write access to the file and its folder."],
        )
    if "database is locked" in message:
        return Fault(
            "busy",
            "The database is busy",
            "Another process holds a write lock on the SQLite database.",
            _url_settings(source),
            ["Try again in a moment."],
        )
    if isinstance(error, OperationalError) and (
        not state or state.startswith(("08", "28", "3D", "57P")) or "unable to open database" in message
    ):
        return Fault(
            "unreachable",
            "The database does not answer",
            "The dashboard cannot connect to its database (down, unreachable, or refusing the login).",
            _url_settings(source),
            ["Check that the database runs and that the URL's host, port, name, user and password are right."],
        )
    return Fault(
        "other",
        "The database failed this request",
        "The database reported an error.",
        _url_settings(source),
        [f"{DOCTOR} checks the tables; the server log has the database's message."],
    )


def _values_shown(request: HttpRequest) -> bool:
    """Settings' values only for a user known to be logged in (anyone may meet a fault on the login page)."""
    user = getattr(request, "_cached_user", None)
    return bool(user is not None and user.is_authenticated)


def fault_response(request: HttpRequest, error: Error) -> HttpResponse:
    fault = diagnose(error)
    if fault.kind in ("missing_table", "missing_column", "other"):
        try:
            forget_layout()
        except Error:
            logger.warning("Could not forget the cached layout: the cache is in the failing database.")
    logger.error("Database fault (%s) on %s: %s", fault.kind, request.path, error)
    htmx = bool(getattr(request, "htmx", False))
    template = "sessions_ui/fault.html#fault" if htmx else "sessions_ui/fault.html"
    # Rendered without the request: its context processors would read the login session, in the database.
    context = {"fault": fault, "show_values": _values_shown(request), "path": request.get_full_path()}
    response = HttpResponse(render_to_string(template, context), status=fault.status)
    if htmx:
        response[FAULT_HEADER] = fault.kind
    return response


class DatabaseFaultMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, Error):
            return fault_response(request, exception)
        return None
