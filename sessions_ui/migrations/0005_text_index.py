"""The opt-in text index (queries.text): the searchable text per stored run, and its full-text side per database."""

from django.db import migrations, models

FTS = "sessions_ui_textentry_fts"
# Words are runs of letters and digits, as SQLite's unicode61 tokenizer and agno.text see them (PostgreSQL's
# parser alone would keep "user@example.com" or "a.b" as one word); queries.text splits the query alike.
POSTGRES = (
    "ALTER TABLE sessions_ui_textentry ADD COLUMN document tsvector"
    " GENERATED ALWAYS AS (to_tsvector('simple', regexp_replace(text, '[^[:alnum:]]+', ' ', 'g'))) STORED",
    "CREATE INDEX sessions_ui_textentry_document ON sessions_ui_textentry USING gin (document)",
)
# FTS5 over the table's `text` (external content), kept in step by triggers on the dashboard's own table.
SQLITE = (
    f"CREATE VIRTUAL TABLE {FTS} USING fts5(text, content='sessions_ui_textentry', content_rowid='id',"
    " tokenize='unicode61')",
    f"CREATE TRIGGER {FTS}_insert AFTER INSERT ON sessions_ui_textentry BEGIN"
    f" INSERT INTO {FTS}(rowid, text) VALUES (new.id, new.text); END",
    f"CREATE TRIGGER {FTS}_delete AFTER DELETE ON sessions_ui_textentry BEGIN"
    f" INSERT INTO {FTS}({FTS}, rowid, text) VALUES ('delete', old.id, old.text); END",
    f"CREATE TRIGGER {FTS}_update AFTER UPDATE ON sessions_ui_textentry BEGIN"
    f" INSERT INTO {FTS}({FTS}, rowid, text) VALUES ('delete', old.id, old.text);"
    f" INSERT INTO {FTS}(rowid, text) VALUES (new.id, new.text); END",
)


def add_full_text(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT sqlite_compileoption_used('ENABLE_FTS5')")
            if not cursor.fetchone()[0]:
                return  # a Python whose SQLite lacks FTS5: no text index (agno_indexes --text says so)
    for statement in {"postgresql": POSTGRES, "sqlite": SQLITE}.get(connection.vendor, ()):
        schema_editor.execute(statement)


def drop_full_text(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(f"DROP TABLE IF EXISTS {FTS}")  # its triggers go with sessions_ui_textentry


class Migration(migrations.Migration):
    dependencies = [
        ("sessions_ui", "0004_overview_summary"),
    ]

    operations = [
        migrations.CreateModel(
            name="TextIndexState",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("source", models.CharField(max_length=255, unique=True)),
                ("built_at", models.DateTimeField()),
                ("refreshed_at", models.DateTimeField()),
                ("created_until", models.BigIntegerField(default=0)),
                ("sessions_until", models.BigIntegerField(default=0)),
                ("runs_until", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name="TextEntry",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("source", models.CharField(max_length=255)),
                ("session_id", models.TextField()),
                ("run_id", models.TextField(blank=True)),
                ("session_created_at", models.BigIntegerField(null=True)),
                ("text", models.TextField()),
            ],
            options={
                "verbose_name_plural": "text entries",
                "constraints": [
                    models.UniqueConstraint(fields=("source", "session_id", "run_id"), name="text_entry_unique")
                ],
                "indexes": [models.Index(fields=["source", "-session_created_at"], name="text_entry_newest")],
            },
        ),
        migrations.RunPython(add_full_text, drop_full_text),
    ]
