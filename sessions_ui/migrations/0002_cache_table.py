"""The table of Django's database cache (CACHE_URL's default): filter choices and the table layout,
shared by every instance of the dashboard. In the dashboard's database, never in Agno's."""

from django.core.management import call_command
from django.db import migrations

CACHE_TABLE = "sessions_ui_cache"  # config.settings.CACHE_TABLE


def create_cache_table(apps, schema_editor):
    # createcachetable's own table layout; it skips a table that exists.
    call_command("createcachetable", CACHE_TABLE, database=schema_editor.connection.alias, verbosity=0)


def drop_cache_table(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(CACHE_TABLE)}")


class Migration(migrations.Migration):
    dependencies = [("sessions_ui", "0001_agno_tables")]

    operations = [migrations.RunPython(create_cache_table, drop_cache_table)]
