"""What is stored: Agno's own tables, mirrored column for column and never altered by Django.

The JSON columns hold whatever Agno (or anyone) wrote: plain JSON, a double-encoded JSON string
(Agno 2.x on SQLite), JSON null, SQL NULL or garbage. So the models hand back the stored *text*
untouched and `sessions_ui.agno` is the one place that decodes it.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.db import models


def qualified_table(name: str, schema: str | None = None) -> str:
    """Table name for `db_table`, schema-qualified on PostgreSQL (Agno's PostgresDb uses schema `ai`).

    Django quotes `db_table` as one identifier, so `ai"."agno_sessions` becomes `"ai"."agno_sessions"`.
    `schema` defaults to the default source's (settings.AGNO_DB_SCHEMA).
    """
    schema = settings.AGNO_DB_SCHEMA if schema is None else schema
    return f'{schema}"."{name}' if schema else name


class StoredJSONField(models.JSONField):
    """A JSON column read back as its raw stored text (or None for SQL NULL).

    Writing takes Python values and stores plain JSON, which both Agno 2.x and 3.x read back.
    """

    def from_db_value(self, value, expression, connection):
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, (bytes, memoryview)):
            # SQLite lets any writer put a BLOB in a JSON column: its text, or Malformed once decoded.
            return bytes(value).decode("utf-8", errors="replace")
        # Key transforms on SQLite can hand back numbers; keep everything as JSON text.
        return json.dumps(value)


class AgnoSessionQuerySet(models.QuerySet):
    def for_list(self) -> AgnoSessionQuerySet:
        """Only the columns a list row needs: never the runs blob nor the large config JSON."""
        return self.only(
            "session_id",
            "session_type",
            "agent_id",
            "team_id",
            "workflow_id",
            "user_id",
            "session_data",
            "agent_data",
            "team_data",
            "workflow_data",
            "summary",
            "created_at",
            "updated_at",
        )


class AgnoSessionManager(models.Manager.from_queryset(AgnoSessionQuerySet)):
    def get_queryset(self) -> AgnoSessionQuerySet:
        # `runs` may not exist at all (a table Agno 3.x created) and is megabytes when it does:
        # it is read only through `sessions_ui.queries.inline_runs`, which checks for the column.
        return super().get_queryset().defer("runs")


class SessionColumns(models.Model):
    """The columns of Agno's session table: AgnoSession for the default source, a subclass per other source."""

    session_id = models.CharField(primary_key=True, max_length=255)
    session_type = models.CharField(max_length=255, db_index=True)
    agent_id = models.CharField(max_length=255, null=True, blank=True)
    team_id = models.CharField(max_length=255, null=True, blank=True)
    workflow_id = models.CharField(max_length=255, null=True, blank=True)
    user_id = models.CharField(max_length=255, null=True, blank=True)
    session_data = StoredJSONField(null=True, blank=True)
    agent_data = StoredJSONField(null=True, blank=True)
    team_data = StoredJSONField(null=True, blank=True)
    workflow_data = StoredJSONField(null=True, blank=True)
    metadata = StoredJSONField(null=True, blank=True)
    runs = StoredJSONField(null=True, blank=True)
    summary = StoredJSONField(null=True, blank=True)
    created_at = models.BigIntegerField(db_index=True)
    updated_at = models.BigIntegerField(null=True, blank=True)

    objects = AgnoSessionManager()

    class Meta:
        abstract = True
        verbose_name = "session"
        ordering = ["-created_at", "session_id"]

    def __str__(self) -> str:
        return self.session_id


class AgnoSession(SessionColumns):
    """One row of the default source's session table (`agno_sessions`, name from settings)."""

    class Meta(SessionColumns.Meta):
        managed = False
        db_table = qualified_table(settings.AGNO_SESSION_TABLE)


class RunColumns(models.Model):
    """The columns of Agno 3.x's runs table (Agno 2.x keeps runs inline instead): AgnoRun, or a source's."""

    run_id = models.CharField(primary_key=True, max_length=255)
    session_id = models.CharField(max_length=255, db_index=True)
    run_type = models.CharField(max_length=255)
    agent_id = models.CharField(max_length=255, null=True, blank=True)
    team_id = models.CharField(max_length=255, null=True, blank=True)
    workflow_id = models.CharField(max_length=255, null=True, blank=True)
    user_id = models.CharField(max_length=255, null=True, blank=True)
    parent_run_id = models.CharField(max_length=255, null=True, blank=True)
    status = models.CharField(max_length=255, null=True, blank=True)
    run_index = models.BigIntegerField(null=True, blank=True)
    run_data = StoredJSONField()
    created_at = models.BigIntegerField()
    updated_at = models.BigIntegerField(null=True, blank=True)

    class Meta:
        abstract = True
        verbose_name = "run"
        ordering = ["run_index", "created_at", "run_id"]

    def __str__(self) -> str:
        return self.run_id


class AgnoRun(RunColumns):
    """One row of the default source's runs table (`agno_runs`, or Agno's name for a custom session table)."""

    class Meta(RunColumns.Meta):
        managed = False
        db_table = qualified_table(settings.AGNO_RUNS_TABLE)


# The models of the other sources (AGNO_SOURCES_FILE), built at start-up by sessions_ui.sources, one
# pair per source. Their app label has no migrations: a source is configuration, not schema, so adding
# one needs no migration and `makemigrations` never sees them; their permissions are made on post_migrate.
SOURCES_APP_LABEL = "agno_sources"
_built: dict[tuple, tuple[type[models.Model], type[models.Model]]] = {}


def source_models(
    source_id: str, name: str, alias: str, schema: str, session_table: str, runs_table: str
) -> tuple[type[SessionColumns], type[RunColumns]]:
    """The unmanaged Session and Run models of one source (the same classes again for the same arguments)."""
    key = (source_id, name, alias, schema, session_table, runs_table)
    if key in _built:
        return _built[key]
    pair = []
    for base, kind, table in ((SessionColumns, "session", session_table), (RunColumns, "run", runs_table)):
        meta = type(
            "Meta",
            (base.Meta,),
            {
                "app_label": SOURCES_APP_LABEL,
                "managed": False,
                "db_table": qualified_table(table, schema),
                "verbose_name": f"{kind} ({name})",
                "verbose_name_plural": f"{kind}s ({name})",
                # Only the session model's view/change/delete guard pages (sessions_ui.sources.Source.permission).
                "default_permissions": ("view", "change", "delete") if kind == "session" else (),
            },
        )
        attributes = {"Meta": meta, "__module__": __name__, "source_alias": alias, "source_id": source_id}
        model = type(f"{kind}_{source_id}", (base,), attributes)
        globals()[model.__name__] = model  # where __module__ says it is (pickling, `manage.py shell`)
        pair.append(model)
    _built[key] = (pair[0], pair[1])
    return _built[key]


class InlineRunStats(models.Model):
    """What the list shows of one session's inline (Agno 2.x) runs, counted once per version of its row.

    The dashboard's own table, in its own database: the list reads these instead of the runs blob,
    which is megabytes for the busy sessions (sessions_ui.queries.list_runs).
    """

    source = models.CharField(max_length=255)  # sessions_ui.sources.Source.key
    session_id = models.TextField()
    updated_at = models.BigIntegerField(null=True)  # the row's updated_at when its runs were counted
    runs = models.IntegerField(null=True)  # top-level runs; None: the stored runs are malformed
    first_input = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "session_id"], name="inline_run_stats_unique")]
        verbose_name_plural = "inline run stats"

    def __str__(self) -> str:
        return f"{self.session_id} ({self.source})"


class OverviewDay(models.Model):
    """The overview's figures that need Agno's JSON, per day of creation and per filterable group of sessions.

    Tokens live in `session_data` and Agno 2.x's runs in the `runs` blob: reading them for every
    session of a range on each page view is too slow, so `queries.overview.refresh` sums them here,
    again only for the days that gained, changed or lost sessions since its last pass.
    """

    source = models.CharField(max_length=255)  # Source.key
    day = models.BigIntegerField()  # epoch seconds of the day's start in the server's time zone
    session_type = models.CharField(max_length=255)
    agent_id = models.CharField(max_length=255, null=True)
    team_id = models.CharField(max_length=255, null=True)
    workflow_id = models.CharField(max_length=255, null=True)
    user_id = models.CharField(max_length=255, null=True)
    model = models.CharField(max_length=255, null=True)  # the component's model id
    sessions = models.BigIntegerField()
    runs = models.BigIntegerField()
    errored_runs = models.BigIntegerField()
    input_tokens = models.BigIntegerField()
    output_tokens = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["source", "day"])]

    def __str__(self) -> str:
        return f"{self.source} {self.day}: {self.sessions} sessions"


class OverviewSlowRun(models.Model):
    """The slowest top-level runs (`metrics.duration`) of each day, and of each day and value of each filter
    column, SLOW_RUNS_KEPT of each (queries.overview): the slowest runs of a range with one filter or none."""

    source = models.CharField(max_length=255)
    day = models.BigIntegerField()  # of the session's created_at, as OverviewDay's
    session_type = models.CharField(max_length=255)
    agent_id = models.CharField(max_length=255, null=True)
    team_id = models.CharField(max_length=255, null=True)
    workflow_id = models.CharField(max_length=255, null=True)
    user_id = models.CharField(max_length=255, null=True)
    model = models.CharField(max_length=255, null=True)
    session_id = models.CharField(max_length=255)
    run_id = models.CharField(max_length=255)
    duration = models.FloatField()  # seconds

    class Meta:
        indexes = [models.Index(fields=["source", "day"])]

    def __str__(self) -> str:
        return f"{self.run_id}: {self.duration} s"


class OverviewRefresh(models.Model):
    """When a source's summary was last brought up to date, up to which Agno write, and which days wait."""

    source = models.CharField(max_length=255, unique=True)
    refreshed_at = models.DateTimeField()
    written_until = models.BigIntegerField()  # the newest created_at/updated_at the last pass saw
    pending_days = models.JSONField(default=list)  # stale days outside the range a page view refreshed

    def __str__(self) -> str:
        return f"{self.source} at {self.refreshed_at}"


class TextEntry(models.Model):
    """The searchable text of one stored run (or, with run_id "", of a session's summary): the opt-in text
    index (`manage.py agno_indexes --text`, sessions_ui.queries.text), in the dashboard's own database.

    Migration 0005 adds the full-text side: on PostgreSQL a generated `document` tsvector with a GIN index,
    on SQLite the FTS5 table `sessions_ui_textentry_fts` over `text`, kept in step by triggers on this table.
    """

    source = models.CharField(max_length=255)  # Source.key
    session_id = models.TextField()
    run_id = models.TextField(blank=True)  # "" for the summary
    session_created_at = models.BigIntegerField(null=True)
    text = models.TextField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "session_id", "run_id"], name="text_entry_unique")]
        # The newest matches first: a rare word's are read in this order (queries.text.indexed).
        indexes = [models.Index(fields=["source", "-session_created_at"], name="text_entry_newest")]
        verbose_name_plural = "text entries"

    def __str__(self) -> str:
        return f"{self.session_id} {self.run_id} ({self.source})"


class TextIndexState(models.Model):
    """A source whose text index is on, and up to which Agno write it has indexed (its watermarks)."""

    source = models.CharField(max_length=255, unique=True)
    built_at = models.DateTimeField()
    refreshed_at = models.DateTimeField()  # when a pass last indexed something
    created_until = models.BigIntegerField(default=0)  # the newest session created_at indexed
    sessions_until = models.BigIntegerField(default=0)  # the newest session updated_at indexed
    runs_until = models.BigIntegerField(default=0)  # the newest runs-table created_at indexed

    def __str__(self) -> str:
        return f"{self.source} at {self.refreshed_at}"
