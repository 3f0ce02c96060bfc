"""Print (or, with --apply, create) the indexes that make the list's filters and sorts fast on Agno's session table.

Agno indexes only session_type and created_at, so filtering by user, agent, team or workflow (and a
user's totals), sorting or filtering by updated_at (`updated_within`), and searching, read the table. The dashboard works without these indexes; they are opt-in because the
table is Agno's. The command only ever adds: `IF NOT EXISTS`, `CONCURRENTLY` on PostgreSQL (Agno
keeps writing meanwhile), then ANALYZE (statistics only); it never drops anything, not even an index
a failed build left invalid.

`--text` turns on the search in conversations' text index instead (sessions_ui.queries.text): a table
of the dashboard's own, filled from Agno's stored runs and summaries, which `agno_text_index` (cron)
and every search keep current. Agno's tables are only read.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connections
from django.db.models import TextField
from django.db.models.functions import Cast, Upper
from django.db.models.sql import Query

from sessions_ui.queries import searched_texts
from sessions_ui.queries import text as text_search
from sessions_ui.queries.pages import SORT_INDEXES
from sessions_ui.schema import forget_layout, index_name, quoted_table, table_columns
from sessions_ui.sources import all_sources, current_source, get_source, using_source

FILTER_COLUMNS = ("user_id", "agent_id", "team_id", "workflow_id")
ORDER_INDEX = "created_at_session_id"


@dataclass
class Index:
    name: str
    sql: str
    trigram: bool = False  # needs the pg_trgm extension
    state: str = "missing"  # or "exists", or "invalid" (a CONCURRENTLY build that failed)


class Command(BaseCommand):
    help = (
        "Print the indexes that make the sessions list's filters and search fast on Agno's session table; "
        "--apply creates the missing ones (never drops anything)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--apply", action="store_true", help="create the missing indexes (default: only print)")
        parser.add_argument(
            "--text",
            action="store_true",
            help="build the text index of the search in conversations (the dashboard's own table), or catch it up",
        )
        parser.add_argument("--source", help="a source id (manage.py agno_sources list); default: the default source")
        parser.add_argument(
            "--database",
            help=f"the connection of the Agno tables (default: the source's, {settings.AGNO_DB_ALIAS} for the default one)",
        )

    def handle(self, *args, source: str | None, database: str | None, text: bool, **options):
        chosen = get_source(source) if source else all_sources()[0]
        if chosen is None:
            raise CommandError(f"There is no source {source!r} (known: {', '.join(s.id for s in all_sources())}).")
        with using_source(chosen):
            if text:
                self._text_index()
            else:
                self._handle(connections[database or chosen.alias], **options)

    def _text_index(self) -> None:
        if text_search.index_state() is None:
            self.stdout.write("Building the text index of the conversations ...")
            try:
                done = text_search.build()
            except text_search.Unavailable as error:
                raise CommandError(f"No text index: {error}; the search in conversations scans instead.") from error
        else:
            self.stdout.write("The text index is on: catching up with what Agno wrote ...")
            done = text_search.catch_up()
        self.stdout.write(self.style.SUCCESS(f"Indexed {done.sessions:,} sessions."))

    def _handle(self, connection, *, apply: bool, **options):
        table = current_source().session_table
        if not table_columns(table, connection):
            self.stderr.write(f"There is no session table {quoted_table(table, connection)}: nothing to index.")
            return
        indexes, extension = self.plan(connection)
        missing = [index for index in indexes if index.state == "missing"]
        self._report(connection, indexes, extension)
        if not apply:
            if missing:
                self.stdout.write("Nothing was changed. Run with --apply to create the missing indexes.")
            return
        if extension and not extension[1] and not self._execute(connection, "CREATE EXTENSION IF NOT EXISTS pg_trgm"):
            missing = [index for index in missing if not index.trigram]
        created = False
        for index in missing:
            self.stdout.write(f"Creating {index.name} ...")
            if self._execute(connection, index.sql):
                self.stdout.write(self.style.SUCCESS(f"Created {index.name}."))
                created = True
        if created:
            self._analyze(connection)
            forget_layout()  # the list sees the new indexes now, not when the cached list of them expires

    def plan(self, connection) -> tuple[list[Index], tuple[str, bool] | None]:
        """Every index this command makes, each with its state, and pg_trgm's (schema, installed) on PostgreSQL
        (None: the server has no pg_trgm, or SQLite). Also what sessions_ui.doctor reports."""
        indexes = [
            self._order_index(connection),
            *(self._sort_index(connection, sort) for sort in SORT_INDEXES),
            *(self._filter_index(connection, column) for column in FILTER_COLUMNS),
        ]
        extension = None
        if connection.vendor == "postgresql":
            extension = self._trigram_extension(connection)
            if extension:
                indexes += [self._search_index(connection, name, extension[0]) for name in searched_texts()]
        self._check(connection, indexes)
        return indexes, extension

    def _order_index(self, connection) -> Index:
        """The list's own order, `created_at DESC, session_id`: a deep page finds its keys in the index alone
        (Agno's index on created_at alone leaves the session_id tie-break to a sort of the whole table)."""
        name = index_name(current_source().session_table, ORDER_INDEX)
        quote = connection.ops.quote_name
        return Index(name, self._create(connection, name, f"({quote('created_at')} DESC, {quote('session_id')})"))

    def _sort_index(self, connection, sort: str) -> Index:
        """`ORDER BY updated_at DESC NULLS LAST, session_id` (or ascending, NULLS LAST too): a page of "Recently
        updated" read in order, and stopped after it. One index per direction: neither order is the other
        read backwards (the missing updated_at go last in both); either serves `updated_within` as a range. Without
        them the list sorts, and filters by updated_within, only the newest window."""
        name = index_name(current_source().session_table, SORT_INDEXES[sort])
        quote = connection.ops.quote_name
        updated = quote("updated_at")
        if sort.startswith("-"):
            # SQLite has no NULLS LAST in an index, and needs none: NULL is its smallest value.
            updated += " DESC NULLS LAST" if connection.vendor == "postgresql" else " DESC"
        return Index(name, self._create(connection, name, f"({updated}, {quote('session_id')})"))

    def _filter_index(self, connection, column: str) -> Index:
        """`column = value ORDER BY created_at DESC, session_id`: one index range, read in order, one page."""
        name = index_name(current_source().session_table, f"{column}_created_at")
        quote = connection.ops.quote_name
        return Index(
            name,
            self._create(connection, name, f"({quote(column)}, {quote('created_at')} DESC, {quote('session_id')})"),
        )

    def _search_index(self, connection, text: str, extension_schema: str) -> Index:
        """A trigram index on exactly the expression the search compares (see queries.searched_texts)."""
        name = index_name(current_source().session_table, f"{text}_trgm")
        query = Query(current_source().Session, alias_cols=False)
        compiler = query.get_compiler(connection=connection)
        expression = Upper(Cast(searched_texts()[text], TextField())).resolve_expression(query)
        sql, params = compiler.compile(expression)
        assert not params, "an index expression cannot take parameters"
        opclass = f"{connection.ops.quote_name(extension_schema)}.gin_trgm_ops"
        return Index(name, self._create(connection, name, f"USING gin (({sql}) {opclass})"), trigram=True)

    def _create(self, connection, name: str, definition: str) -> str:
        concurrently = " CONCURRENTLY" if connection.vendor == "postgresql" else ""
        table = quoted_table(current_source().session_table, connection)
        return f"CREATE INDEX{concurrently} IF NOT EXISTS {connection.ops.quote_name(name)} ON {table} {definition}"

    def _trigram_extension(self, connection) -> tuple[str, bool] | None:
        """(the schema pg_trgm is or will be in, whether it is installed), None when the server has no pg_trgm."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT e.extnamespace::regnamespace::text FROM pg_available_extensions a"
                " LEFT JOIN pg_extension e ON e.extname = a.name WHERE a.name = 'pg_trgm'"
            )
            row = cursor.fetchone()
            if row is None:
                return None
            if row[0]:
                return row[0].strip('"'), True
            cursor.execute("SELECT current_schema()")
            return cursor.fetchone()[0], False

    def _check(self, connection, indexes: list[Index]) -> None:
        with connection.cursor() as cursor:
            for index in indexes:
                if connection.vendor == "postgresql":
                    cursor.execute(
                        "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                        " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = %s AND n.nspname = %s",
                        [index.name, current_source().schema or "public"],
                    )
                else:
                    cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = %s", [index.name])
                row = cursor.fetchone()
                if row is not None:
                    index.state = "exists" if row[0] else "invalid"

    def _report(self, connection, indexes: list[Index], extension: tuple[str, bool] | None) -> None:
        table = quoted_table(current_source().session_table, connection)
        self.stdout.write(f"Indexes for the sessions list on {table} (opt-in; the list works without them):")
        if connection.vendor == "postgresql":
            if extension is None:
                self.stdout.write("  pg_trgm is not available on this server: search stays a scan of the table.")
            elif not extension[1]:
                self.stdout.write("  needs   CREATE EXTENSION IF NOT EXISTS pg_trgm;  (for the search indexes)")
        else:
            self.stdout.write("  SQLite has no trigram indexes: search stays a scan of the table.")
        for index in indexes:
            if index.state == "missing":
                self.stdout.write(f"  missing {index.sql};")
            elif index.state == "invalid":
                self.stdout.write(
                    self.style.WARNING(
                        f"  invalid {index.name}: an interrupted build left it unusable; this command never drops"
                        f" anything: DROP INDEX CONCURRENTLY it by hand, then run again."
                    )
                )
            else:
                self.stdout.write(f"  exists  {index.name}")

    def _execute(self, connection, sql: str) -> bool:
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
        except DatabaseError as error:
            self.stderr.write(self.style.ERROR(f"Failed: {sql}\n  {error}".rstrip()))
            return False
        return True

    def _analyze(self, connection) -> None:
        """Statistics for the new expression indexes, so the planner can estimate how many rows a search matches."""
        self._execute(connection, f"ANALYZE {quoted_table(current_source().session_table, connection)}")
