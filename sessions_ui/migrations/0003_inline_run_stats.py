"""The list's run counts of Agno 2.x sessions (sessions_ui.queries.list_runs), in the dashboard's database."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("sessions_ui", "0002_cache_table")]

    operations = [
        migrations.CreateModel(
            name="InlineRunStats",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("source", models.CharField(max_length=255)),
                ("session_id", models.TextField()),
                ("updated_at", models.BigIntegerField(null=True)),
                ("runs", models.IntegerField(null=True)),
                ("first_input", models.TextField(blank=True)),
            ],
            options={
                "verbose_name_plural": "inline run stats",
                "constraints": [
                    models.UniqueConstraint(fields=("source", "session_id"), name="inline_run_stats_unique")
                ],
            },
        ),
    ]
