"""Which Agno session table a page reads: its source (a database, a schema, a session table, its runs table).

The settings define the default source (AGNO_DATABASE_URL, AGNO_SESSION_TABLE, ...); a request reads
one source, the current one (`current_source()`), which every query asks for its models, connection
and table names instead of reading the settings itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model
from django.urls import reverse as django_reverse

from sessions_ui import source_config

DEFAULT_ID = "default"


@dataclass(frozen=True)
class Source:
    id: str
    name: str
    alias: str  # its database's connection in settings.DATABASES
    schema: str  # the PostgreSQL schema of its tables, "" on SQLite
    session_table: str
    runs_table: str
    Session: type[Model]  # the unmanaged models of its two tables
    Run: type[Model]
    # The tables of Agno's other records about a session (sessions_ui.schema.companions says which exist).
    tool_results_table: str = source_config.TOOL_RESULTS_TABLE
    compactions_table: str = source_config.COMPACTIONS_TABLE
    transcripts_table: str = source_config.TRANSCRIPTS_TABLE
    payload_table: str = source_config.PAYLOAD_TABLE

    @property
    def connection(self) -> BaseDatabaseWrapper:
        return connections[self.alias]

    @property
    def vendor(self) -> str:
        return self.connection.vendor

    @property
    def is_default(self) -> bool:
        return self.id == DEFAULT_ID

    @property
    def key(self) -> str:
        """What tells this source's tables apart from any other's, for cache keys."""
        return f"{self.alias}:{self.schema}:{self.session_table}"

    @property
    def quoted_sessions(self) -> str:
        return self.quoted(self.session_table)

    @property
    def quoted_runs(self) -> str:
        return self.quoted(self.runs_table)

    @property
    def payload_schema(self) -> str:
        """The schema of the offloaded tool results' payload table: Agno's own, not the source's."""
        return source_config.POSTGRES_PAYLOAD_SCHEMA if self.vendor == "postgresql" else ""

    @property
    def quoted_payloads(self) -> str:
        return self.quoted(self.payload_table, schema=self.payload_schema)

    @property
    def namespace(self) -> str:
        """Its pages' URL namespace: the app's own for the default source (its URLs are /sessions/...)."""
        return "sessions_ui" if self.is_default else f"source-{self.id}"

    def quoted(self, table: str, *, schema: str | None = None) -> str:
        """A table of this source's database and schema (or `schema`), quoted for raw SQL (schema-qualified on PostgreSQL)."""
        quote = self.connection.ops.quote_name
        schema = self.schema if schema is None else schema
        return f"{quote(schema)}.{quote(table)}" if schema else quote(table)


def default_source() -> Source:
    """The source the settings define (read each time: tests point the settings at other tables)."""
    from sessions_ui.models import AgnoRun, AgnoSession

    return Source(
        id=DEFAULT_ID,
        name=settings.AGNO_SOURCE_NAME or settings.AGNO_SESSION_TABLE,
        alias=settings.AGNO_DB_ALIAS,
        schema=settings.AGNO_DB_SCHEMA,
        session_table=settings.AGNO_SESSION_TABLE,
        runs_table=settings.AGNO_RUNS_TABLE,
        Session=AgnoSession,
        Run=AgnoRun,
    )


_current: ContextVar[Source | None] = ContextVar("sessions_ui_source", default=None)


def current_source() -> Source:
    """The source this request (or command) reads: the default one unless `using_source` says otherwise."""
    return _current.get() or default_source()


@contextmanager
def using_source(source: Source) -> Iterator[Source]:
    token = _current.set(source)
    try:
        yield source
    finally:
        _current.reset(token)


def reverse(viewname: str, args=None, kwargs=None) -> str:
    """`django.urls.reverse` in the current source's namespace, so a page's links stay in its source.

    (`{% url %}` does so by itself: it reverses in the namespace of the view that is rendering.)
    """
    return django_reverse(viewname, args=args, kwargs=kwargs, current_app=current_source().namespace)
