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
        " (known: name, url, url_env, schema, session_table, runs_table)"
    )
