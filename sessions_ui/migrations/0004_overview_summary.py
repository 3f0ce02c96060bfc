"""The overview's summary of Agno's JSON per day and its slowest runs (queries.overview), in the dashboard's own database."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sessions_ui", "0003_inline_run_stats"),
    ]

    operations = [
        migrations.CreateModel(
            name="OverviewRefresh",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("source", models.CharField(max_length=255, unique=True)),
                ("refreshed_at", models.DateTimeField()),
                ("written_until", models.BigIntegerField()),
                ("pending_days", models.JSONField(default=list)),
            ],
        ),
        migrations.CreateModel(
            name="OverviewDay",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("source", models.CharField(max_length=255)),
                ("day", models.BigIntegerField()),
                ("session_type", models.CharField(max_length=255)),
                ("agent_id", models.CharField(max_length=255, null=True)),
                ("team_id", models.CharField(max_length=255, null=True)),
                ("workflow_id", models.CharField(max_length=255, null=True)),
                ("user_id", models.CharField(max_length=255, null=True)),
                ("model", models.CharField(max_length=255, null=True)),
                ("sessions", models.BigIntegerField()),
                ("runs", models.BigIntegerField()),
                ("errored_runs", models.BigIntegerField()),
                ("input_tokens", models.BigIntegerField()),
                ("output_tokens", models.BigIntegerField()),
            ],
            options={
                "indexes": [models.Index(fields=["source", "day"], name="sessions_ui_source_a08425_idx")],
            },
        ),
        migrations.CreateModel(
            name="OverviewSlowRun",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("source", models.CharField(max_length=255)),
                ("day", models.BigIntegerField()),
                ("session_type", models.CharField(max_length=255)),
                ("agent_id", models.CharField(max_length=255, null=True)),
                ("team_id", models.CharField(max_length=255, null=True)),
                ("workflow_id", models.CharField(max_length=255, null=True)),
                ("user_id", models.CharField(max_length=255, null=True)),
                ("model", models.CharField(max_length=255, null=True)),
                ("session_id", models.CharField(max_length=255)),
                ("run_id", models.CharField(max_length=255)),
                ("duration", models.FloatField()),
            ],
            options={
                "indexes": [models.Index(fields=["source", "day"], name="sessions_ui_source_f4a6f6_idx")],
            },
        ),
    ]
