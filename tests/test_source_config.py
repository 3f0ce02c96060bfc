"""The sources file (AGNO_SOURCES_FILE): what it defines, and the start it refuses with a message naming the line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sessions_ui.source_config import (
    SourceConfigError,
    SourceSpec,
    database_aliases,
    env_source,
    parse_sources,
    traces_aliases,
)

ROOT = Path(__file__).resolve().parent.parent

THREE = """\
# Production, staging and one agent's own table
[sources.prod]
name = "Production"
url_env = "PROD_URL"

[sources.staging]
name = "Staging"
url = "postgres://agno@db:5432/staging"
schema = "agents"

[sources.support]
url_env = "PROD_URL"
session_table = "support_sessions"
"""


def test_a_file_defines_sources_in_order_with_agnos_runs_table_rule():
    prod, staging, support = parse_sources(THREE, {"PROD_URL": "postgres://agno:secret@db:5432/prod"})
    assert prod == SourceSpec(
        "prod", "Production", "postgres://agno:secret@db:5432/prod", None, "agno_sessions", "agno_runs"
    )
    assert staging == SourceSpec(
        "staging", "Staging", "postgres://agno@db:5432/staging", "agents", "agno_sessions", "agno_runs"
    )
    # No name: the id; a custom session table and no runs_table: agno's "<session table>_runs".
    assert (support.name, support.session_table, support.runs_table) == (
        "support",
        "support_sessions",
        "support_sessions_runs",
    )


def test_one_database_alias_per_distinct_url():
    specs = parse_sources(THREE, {"PROD_URL": "postgres://agno:secret@db:5432/prod"})
    assert database_aliases(specs) == {"prod": "agno", "staging": "agno-staging", "support": "agno"}
    no_url = parse_sources('[sources.a]\nsession_table = "x"\n[sources.b]\nurl = "sqlite:////tmp/b.db"\n', {})
    assert database_aliases(no_url) == {"a": "default", "b": "agno-b"}


def test_an_explicit_runs_table_wins():
    [spec] = parse_sources('[sources.a]\nsession_table = "s"\nruns_table = "r"\n', {})
    assert spec.runs_table == "r"


def test_without_a_file_the_environment_defines_the_default_source():
    spec = env_source({"AGNO_DATABASE_URL": "sqlite:////x.db", "AGNO_SESSION_TABLE": "support"})
    assert spec == SourceSpec("default", "", "sqlite:////x.db", None, "support", "support_runs")
    assert env_source({}) == SourceSpec("default", "", None, None, "agno_sessions", "agno_runs")


@pytest.mark.parametrize(
    ("text", "environ", "message"),
    [
        ('[sources.a]\nname = "A"\nname = "B"\n', {}, "line 3"),
        ("[sources.a]\n[sources.b]\n[sources.a]\n", {}, "an id given twice?"),
        ('[sources.a]\nname = "A"\n\n[sources.b]\ntable = "x"\n', {}, "line 5: sources.b: unknown key 'table'"),
        ('[sources.a]\nname = "A"\n[other]\nx = 1\n', {}, "line 3: unknown key 'other'"),
        ('title = "x"\n[sources.a]\n', {}, "line 1: unknown key 'title'"),
        ('[sources."Prod DB"]\nname = "A"\n', {}, "line 1: bad source id 'Prod DB'"),
        (
            '[sources.a]\nurl_env = "MISSING_URL"\n',
            {},
            "line 2: sources.a.url_env: the variable MISSING_URL is not set",
        ),
        ('[sources.a]\nurl = "sqlite:////x"\nurl_env = "X"\n', {"X": "y"}, "line 3: sources.a: give url or url_env"),
        (
            '[sources.a]\nurl = "sqlite:////x.db"\nschema = "ai"\n',
            {},
            "line 3: sources.a.schema: SQLite has no schemas",
        ),
        ("[sources.a]\nname = 3\n", {}, "line 2: sources.a.name must be a non-empty string"),
        ('[sources.a]\n[sources.b]\nurl = ""\n', {}, "line 3: sources.b.url must be a non-empty string"),
        ("", {}, "no sources"),
        (
            '[sources.a]\nsession_table = "t"\n[sources.b]\nsession_table = "t"\n',
            {},
            "line 3: sources.b: the same table as sources.a",
        ),
    ],
)
def test_a_bad_file_is_refused_with_its_line(text, environ, message):
    with pytest.raises(SourceConfigError) as raised:
        parse_sources(text, environ, "sources.toml")
    assert str(raised.value).startswith("sources.toml")
    assert message in str(raised.value)


def test_the_dashboard_refuses_to_start_with_a_bad_file(tmp_path):
    bad = tmp_path / "sources.toml"
    bad.write_text('[sources.prod]\nname = "Production"\npassword = "x"\n')
    env = {**os.environ, "AGNO_SOURCES_FILE": str(bad), "DJANGO_SETTINGS_MODULE": "config.settings"}
    completed = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert completed.returncode != 0
    last_line = completed.stderr.strip().splitlines()[-1]
    assert last_line == (
        f"django.core.exceptions.ImproperlyConfigured: {bad}, line 3: sources.prod: unknown key 'password'"
        " (known: name, url, url_env, schema, session_table, runs_table, traces_url, traces_url_env, traces_schema)"
    )


def test_a_source_on_a_table_without_agnos_columns_stops_migrate_and_check(tmp_path):
    import sqlite3

    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, session_id TEXT)")
    sources = tmp_path / "sources.toml"
    sources.write_text(f'[sources.main]\n\n[sources.notes]\nurl = "sqlite:///{other}"\nsession_table = "notes"\n')
    env = {
        **os.environ,
        "AGNO_SOURCES_FILE": str(sources),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'dashboard.db'}",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    for command in (["check", "--database", "default"], ["migrate"]):
        completed = subprocess.run(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert completed.returncode != 0, completed.stdout
        assert "sources.notes.session_table: notes has no column session_type, agent_id" in completed.stderr
        assert "not an Agno session table" in completed.stderr


def test_a_sources_file_at_start_up_gives_urls_models_permissions_and_commands(tmp_path):
    import sqlite3

    from sessions_ui.schema import SESSION_COLUMNS

    second = tmp_path / "second.db"
    with sqlite3.connect(second) as connection:
        columns = ", ".join(f"{column} TEXT" for column in SESSION_COLUMNS)
        connection.execute(f"CREATE TABLE support_sessions ({columns})")
        connection.execute(
            "INSERT INTO support_sessions (session_id, session_type, created_at) VALUES ('s1', 'agent', 1)"
        )
    sources = tmp_path / "sources.toml"
    sources.write_text(
        '[sources.main]\nname = "Main"\n\n'
        '[sources.support]\nname = "Support"\nurl_env = "SUPPORT_URL"\nsession_table = "support_sessions"\n'
    )
    env = {
        **os.environ,
        "AGNO_SOURCES_FILE": str(sources),
        "SUPPORT_URL": f"sqlite:///{second}",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'dashboard.db'}",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }

    def manage(*args: str) -> str:
        completed = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert completed.returncode == 0, completed.stderr
        return completed.stdout

    manage("migrate")
    assert "Created viewer login on source support" in manage("dashboard_user", "ana", "--source", "support")
    listed = manage("agno_sources", "list").splitlines()
    assert listed[0].startswith("main  'Main'  database default  table agno_sessions  runs agno_runs  sessions 0")
    assert listed[1] == (
        "support  'Support'  database agno-support  table support_sessions  runs support_sessions_runs  sessions 1"
        "  /sources/support/sessions/"
    )
    shown = manage(
        "shell",
        "--verbosity=0",
        "-c",
        "from django.contrib.auth.models import User; from django.urls import reverse;"
        " from sessions_ui.sources import get_source;"
        " print(reverse('sessions_ui:list'), reverse('sessions_ui:list', current_app='source-support'),"
        " get_source('support').Session.objects.get().pk, sorted(User.objects.get(username='ana').get_all_permissions()))",
    )
    assert shown.strip() == "/sessions/ /sources/support/sessions/ s1 ['agno_sources.view_session_support']"


def test_a_source_on_another_postgresql_server_gives_up_connecting_after_a_few_seconds(tmp_path):
    sources = tmp_path / "sources.toml"
    sources.write_text('[sources.main]\n\n[sources.far]\nurl = "postgres://agno@db.invalid:5432/agno"\n')
    env = {**os.environ, "AGNO_SOURCES_FILE": str(sources), "DJANGO_SETTINGS_MODULE": "config.settings"}
    code = "from django.conf import settings; print(settings.DATABASES['agno-far']['OPTIONS'])"
    completed = subprocess.run(
        [sys.executable, "manage.py", "shell", "--verbosity=0", "-c", code],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert completed.stdout.strip() == "{'options': '-c search_path=public', 'connect_timeout': 3}", completed.stderr


def test_a_sources_traces_in_another_database_get_an_alias_of_their_own_or_their_sources():
    text = (
        '[sources.main]\ntraces_url_env = "TRACES_URL"\ntraces_schema = "tracing"\n'
        '[sources.support]\nurl = "sqlite:////srv/support.db"\n'
        '[sources.lab]\nurl = "sqlite:////srv/lab.db"\ntraces_url = "sqlite:////srv/support.db"\n'
    )
    main, support, lab = parse_sources(text, {"TRACES_URL": "postgres://agno@db:5432/tracing"})
    assert (main.traces_url, main.traces_schema) == ("postgres://agno@db:5432/tracing", "tracing")
    assert (support.traces_url, support.traces_schema) == (None, None)
    specs = [main, support, lab]
    # lab's traces are in support's database: that database's alias.
    assert traces_aliases(specs, database_aliases(specs)) == {"main": "traces-main", "lab": "agno-support"}
    spec = env_source({"AGNO_TRACES_DATABASE_URL": "sqlite:////t.db", "AGNO_TRACES_DB_SCHEMA": ""})
    assert (spec.traces_url, spec.traces_schema) == ("sqlite:////t.db", None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[sources.a]\ntraces_url = "sqlite:////x"\ntraces_url_env = "X"\n', "line 3: sources.a: give traces_url or"),
        ('[sources.a]\ntraces_url_env = "NOPE"\n', "line 2: sources.a.traces_url_env: the variable NOPE is not set"),
        ('[sources.a]\ntraces_url = "sqlite:////t.db"\ntraces_schema = "ai"\n', "line 3: sources.a.traces_schema"),
    ],
)
def test_bad_traces_settings_are_refused_with_their_line(text, message):
    with pytest.raises(SourceConfigError, match=message):
        parse_sources(text, {"X": "y"})


def test_the_traces_database_of_the_environment_is_a_database_of_the_settings(tmp_path):
    env = {
        **os.environ,
        "AGNO_TRACES_DATABASE_URL": "postgres://agno@db.invalid:5432/tracing",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    code = (
        "from django.conf import settings; from sessions_ui.sources import default_source; source = default_source();"
        " print(settings.DATABASES['traces-default']['NAME'], source.traces_alias, source.traces_db_schema,"
        " source.traces_elsewhere)"
    )
    completed = subprocess.run(
        [sys.executable, "manage.py", "shell", "--verbosity=0", "-c", code],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert completed.stdout.strip() == "tracing traces-default ai True", completed.stderr
