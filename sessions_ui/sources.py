"""Which Agno session table a page reads: its source (a database, a schema, a session table, its runs table).

The settings define the sources (settings.AGNO_SOURCES, from AGNO_SOURCES_FILE or the AGNO_* variables):
the first is the default one, with the models AgnoSession and AgnoRun and the URLs /sessions/...; each
other has a model pair of its own (models.source_models) and the URLs /sources/<id>/sessions/... in the
URL namespace `source-<id>`. A request reads one source, the current one (`current_source()`, set by
SourceMiddleware from the URL), which every query asks for its models, connection and table names
instead of reading the settings itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_permission_codename
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model
from django.http import Http404
from django.urls import reverse as django_reverse

from sessions_ui import source_config

# The pages of a source other than the default one (config/urls.py).
SOURCE_PATH = re.compile(r"/sources/([^/]*)/")


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
    is_default: bool = False  # the first source: its pages are /sessions/...
    # The tables of Agno's other records about a session (sessions_ui.schema.companions says which exist).
    tool_results_table: str = source_config.TOOL_RESULTS_TABLE
    compactions_table: str = source_config.COMPACTIONS_TABLE
    transcripts_table: str = source_config.TRANSCRIPTS_TABLE
    payload_table: str = source_config.PAYLOAD_TABLE
    # The traces of its runs, when Agno's tracing is on (sessions_ui.schema.has_trace_tables says whether).
    traces_table: str = source_config.TRACES_TABLE
    spans_table: str = source_config.SPANS_TABLE
    # Where they are when Agno's tracing writes to another database (AGNO_TRACES_DATABASE_URL, a sources
    # file's traces_url): its alias ("": this source's database) and schema (None: this source's schema).
    traces_alias: str = ""
    traces_schema: str | None = None

    @property
    def connection(self) -> BaseDatabaseWrapper:
        return connections[self.alias]

    @property
    def vendor(self) -> str:
        return self.connection.vendor

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
    def traces_connection(self) -> BaseDatabaseWrapper:
        return connections[self.traces_alias or self.alias]

    @property
    def traces_elsewhere(self) -> bool:
        """Its traces are in another database than its sessions: no query joins the two."""
        return (self.traces_alias or self.alias) != self.alias

    @property
    def traces_db_schema(self) -> str:
        return self.schema if self.traces_schema is None else self.traces_schema

    def quoted_trace_table(self, table: str) -> str:
        """The traces or spans table (traces_table, spans_table) where the traces are, quoted for raw SQL."""
        quote = self.traces_connection.ops.quote_name
        schema = self.traces_db_schema
        return f"{quote(schema)}.{quote(table)}" if schema else quote(table)

    @property
    def namespace(self) -> str:
        """Its pages' URL namespace: the app's own for the default source (its URLs are /sessions/...)."""
        return "sessions_ui" if self.is_default else f"source-{self.id}"

    def permission(self, action: str) -> str:
        """The permission to `action` ("view", "change", "delete") its sessions: the default source's are
        sessions_ui.view_agnosession (...), another's agno_sources.view_session_<id> (...)."""
        opts = self.Session._meta
        return f"{opts.app_label}.{get_permission_codename(action, opts)}"

    def visible_to(self, user) -> bool:
        return user.has_perm(self.permission("view"))

    def quoted(self, table: str, *, schema: str | None = None) -> str:
        """A table of this source's database and schema (or `schema`), quoted for raw SQL (schema-qualified on PostgreSQL)."""
        quote = self.connection.ops.quote_name
        schema = self.schema if schema is None else schema
        return f"{quote(schema)}.{quote(table)}" if schema else quote(table)


def default_source() -> Source:
    """The source the settings define (read each time: tests point the settings at other tables)."""
    from sessions_ui.models import AgnoRun, AgnoSession

    return Source(
        id=settings.AGNO_SOURCE_ID,
        name=settings.AGNO_SOURCE_NAME or settings.AGNO_SESSION_TABLE,
        alias=settings.AGNO_DB_ALIAS,
        schema=settings.AGNO_DB_SCHEMA,
        session_table=settings.AGNO_SESSION_TABLE,
        runs_table=settings.AGNO_RUNS_TABLE,
        Session=AgnoSession,
        Run=AgnoRun,
        is_default=True,
        traces_alias=settings.AGNO_TRACES_DB_ALIAS,
        traces_schema=settings.AGNO_TRACES_DB_SCHEMA,
    )


_others: dict[str, Source] | None = None  # the sources after the first, by id


def build_sources(configs: list[dict]) -> None:
    """Build the sources after the default one from their settings (at start-up: settings.AGNO_SOURCES[1:])."""
    global _others
    from sessions_ui.models import source_models

    _others = {}
    for config in configs:
        Session, Run = source_models(
            config["id"],
            config["name"],
            config["alias"],
            config["schema"],
            config["session_table"],
            config["runs_table"],
        )
        _others[config["id"]] = Source(**config, Session=Session, Run=Run)


def _other_sources() -> dict[str, Source]:
    if _others is None:
        build_sources(settings.AGNO_SOURCES[1:])
    return _others


def all_sources() -> list[Source]:
    """Every configured source, the default one first."""
    return [default_source(), *_other_sources().values()]


def get_source(source_id: str) -> Source | None:
    default = default_source()
    return default if source_id == default.id else _other_sources().get(source_id)


def visible_sources(user) -> list[Source]:
    return [source for source in all_sources() if source.visible_to(user)]


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


class SourceMiddleware:
    """Reads a request's source from its URL: /sources/<id>/... that source, any other path the default one.

    A source the user may not view answers 404, as an unknown id does: its existence is not revealed.
    Anonymous requests for any /sources/ path go to the login page first, known id or not. A source
    whose database does not answer answers 503 on its pages, which say so (sessions_ui/faults.py, where
    every database error gets its page); the others keep working.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        match = SOURCE_PATH.match(request.path_info)
        if match is None:
            return self.get_response(request)
        if not request.user.is_authenticated:
            from sessions_ui.views import to_login  # not at import: this module is an app's

            return to_login(request)  # for htmx, the whole page (HX-Redirect)
        source = get_source(match[1])
        if source is None or source.is_default or not source.visible_to(request.user):
            raise Http404("There is no such source.")
        request.source = source
        with using_source(source):
            return self.get_response(request)


def create_source_permissions(using: str = "default", **kwargs) -> None:
    """post_migrate: the view, change and delete permissions of each other source's sessions.

    Django makes the permissions of migrated apps' models only; these models have no migrations.
    """
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType
    from django.db import router

    if not router.allow_migrate_model(using, Permission):
        return
    for source in all_sources():
        if source.is_default:
            continue
        opts = source.Session._meta
        content_type = ContentType.objects.db_manager(using).get_for_model(source.Session, for_concrete_model=False)
        for action in opts.default_permissions:
            Permission.objects.db_manager(using).get_or_create(
                content_type=content_type,
                codename=get_permission_codename(action, opts),
                defaults={"name": f"Can {action} {opts.verbose_name_raw}"},
            )
