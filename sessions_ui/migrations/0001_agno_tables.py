from django.db import migrations, models

import sessions_ui.models


def create_agno_tables(apps, schema_editor):
    from sessions_ui.schema import create_agno_tables

    create_agno_tables(schema_editor.connection, forget=False)  # the cache table comes in 0002


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        migrations.CreateModel(
            name="AgnoSession",
            fields=[
                ("session_id", models.CharField(max_length=255, primary_key=True, serialize=False)),
                ("session_type", models.CharField(db_index=True, max_length=255)),
                ("agent_id", models.CharField(blank=True, max_length=255, null=True)),
                ("team_id", models.CharField(blank=True, max_length=255, null=True)),
                ("workflow_id", models.CharField(blank=True, max_length=255, null=True)),
                ("user_id", models.CharField(blank=True, max_length=255, null=True)),
                ("session_data", sessions_ui.models.StoredJSONField(blank=True, null=True)),
                ("agent_data", sessions_ui.models.StoredJSONField(blank=True, null=True)),
                ("team_data", sessions_ui.models.StoredJSONField(blank=True, null=True)),
                ("workflow_data", sessions_ui.models.StoredJSONField(blank=True, null=True)),
                ("metadata", sessions_ui.models.StoredJSONField(blank=True, null=True)),
                ("runs", sessions_ui.models.StoredJSONField(blank=True, null=True)),
                ("summary", sessions_ui.models.StoredJSONField(blank=True, null=True)),
                ("created_at", models.BigIntegerField(db_index=True)),
                ("updated_at", models.BigIntegerField(blank=True, null=True)),
            ],
            options={"verbose_name": "session", "ordering": ["-created_at", "session_id"], "managed": False},
        ),
        migrations.CreateModel(
            name="AgnoRun",
            fields=[
                ("run_id", models.CharField(max_length=255, primary_key=True, serialize=False)),
                ("session_id", models.CharField(db_index=True, max_length=255)),
                ("run_type", models.CharField(max_length=255)),
                ("agent_id", models.CharField(blank=True, max_length=255, null=True)),
                ("team_id", models.CharField(blank=True, max_length=255, null=True)),
                ("workflow_id", models.CharField(blank=True, max_length=255, null=True)),
                ("user_id", models.CharField(blank=True, max_length=255, null=True)),
                ("parent_run_id", models.CharField(blank=True, max_length=255, null=True)),
                ("status", models.CharField(blank=True, max_length=255, null=True)),
                ("run_index", models.BigIntegerField(blank=True, null=True)),
                ("run_data", sessions_ui.models.StoredJSONField()),
                ("created_at", models.BigIntegerField()),
                ("updated_at", models.BigIntegerField(blank=True, null=True)),
            ],
            options={"verbose_name": "run", "ordering": ["run_index", "created_at", "run_id"], "managed": False},
        ),
        migrations.RunPython(create_agno_tables, migrations.RunPython.noop, hints={"agno_tables": True}),
    ]
