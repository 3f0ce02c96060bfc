"""The `sessions-ui` command's options and errors (sessions_ui/cli.py), read-only mode and --no-auth's login.

The command configures Django from the environment before it starts, so the tests that run it as a
whole start it in a subprocess (`python -m sessions_ui`); tests/test_package.py runs the installed wheel.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psycopg
import pytest
from django.test import override_settings

from sessions_ui import cli, read_only
from tests.conftest import make_user
from tests.factories import create_session

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGNO_", "DJANGO_", "TEST_DATABASE"))}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "sessions_ui", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def assert_one_line_error(completed: subprocess.CompletedProcess, *fragments: str) -> None:
    assert completed.returncode == 2, completed.stderr
    assert "Traceback" not in completed.stderr
    [line] = completed.stderr.strip().splitlines()
    assert line.startswith("sessions-ui: error: ")
    for fragment in fragments:
        assert fragment in line


def sqlite_file(path: Path, *statements: str) -> Path:
    connection = sqlite3.connect(path)
    for statement in statements:
        connection.execute(statement)
    connection.commit()
    connection.close()
    return path


def test_a_path_that_does_not_exist(tmp_path):
    with pytest.raises(cli.UsageError, match="there is no file .*missing.db: pass the SQLite file"):
        cli.agno_database_url(str(tmp_path / "missing.db"))


def test_a_directory(tmp_path):
    with pytest.raises(cli.UsageError, match="is a directory"):
        cli.agno_database_url(str(tmp_path))


@pytest.mark.parametrize("content, said", [(b"", "empty"), (b"name,value\n1,2\n", "it does not start like one")])
def test_a_file_that_is_not_sqlite(tmp_path, content, said):
    path = tmp_path / "agent.db"
    path.write_bytes(content)
    with pytest.raises(cli.UsageError, match=f"is not an SQLite database \\({said}\\)"):
        cli.agno_database_url(str(path))


def test_an_unsupported_url():
    with pytest.raises(cli.UsageError, match="mysql:// is not a database this dashboard reads"):
        cli.agno_database_url("mysql://root@localhost/agno")


def test_urls_and_paths_become_the_url_settings_read(tmp_path):
    path = sqlite_file(tmp_path / "my agent?.db", "CREATE TABLE t (x)")
    assert cli.agno_database_url(str(path)) == "sqlite:///" + str(path).replace(" ", "%20").replace("?", "%3F")
    assert cli.agno_database_url(f"sqlite:///{path}".replace(" ", "%20").replace("?", "%3F")) == cli.agno_database_url(
        str(path)
    )
    assert cli.agno_database_url("postgresql://agno:pw@db:5432/agno") == "postgresql://agno:pw@db:5432/agno"


def test_no_database_at_all(monkeypatch):
    monkeypatch.delenv("AGNO_DATABASE_URL", raising=False)
    with pytest.raises(cli.UsageError, match="no database given"):
        cli.agno_database_url(None)


def test_messages_never_show_a_password():
    assert cli.shown_url("postgresql://agno:s3cret@db:5432/agno") == "postgresql://agno:***@db:5432/agno"
    assert cli.shown_url("sqlite:////home/me/agent%20one.db") == "/home/me/agent one.db"


def test_the_state_directory_defaults_to_the_user_data_directory(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert cli.user_data_dir() == tmp_path / "data" / "sessions-ui"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/is/ignored")
    assert cli.user_data_dir() == Path.home() / ".local" / "share" / "sessions-ui"


def test_the_secret_key_is_generated_once_and_private(tmp_path):
    key = cli.secret_key(tmp_path)
    assert len(key) >= 50
    assert cli.secret_key(tmp_path) == key
    assert stat.S_IMODE((tmp_path / cli.SECRET_KEY_FILE).stat().st_mode) == 0o600


def test_a_state_directory_that_cannot_be_made(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(cli.UsageError, match="cannot use .* as the state directory .*--state-dir"):
        cli.state_directory(str(blocker / "state"))


@pytest.mark.parametrize("option, value", [("--port", "0"), ("--port", "http"), ("--workers", "0")])
def test_ports_and_workers_are_checked(option, value, capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["serve", "agent.db", option, value])
    assert exited.value.code == 2
    assert f"argument {option}: '{value}': a whole number from" in capsys.readouterr().err


def test_serve_says_where_gunicorn_runs(monkeypatch, capsys):
    monkeypatch.setattr(cli, "POSIX", False)
    assert cli.main(["serve", "agent.db"]) == 2
    assert "serve runs gunicorn, which needs a POSIX system" in capsys.readouterr().err


def test_no_auth_only_on_this_machine(tmp_path, capsys):
    assert cli.main(["serve", str(tmp_path / "x.db"), "--no-auth", "--host", "0.0.0.0"]) == 2
    assert "--no-auth serves without logins, so only on this machine" in capsys.readouterr().err


def test_a_port_in_use(tmp_path):
    path = sqlite_file(tmp_path / "agent.db", "CREATE TABLE t (x)")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        completed = run_cli("serve", str(path), "--port", str(port), "--state-dir", str(tmp_path / "s"), cwd=tmp_path)
    assert_one_line_error(completed, f"cannot listen on 127.0.0.1:{port}", "--port")


def test_serve_on_a_database_without_agno_tables_stops_and_writes_nothing(tmp_path):
    path = sqlite_file(tmp_path / "app.db", "CREATE TABLE orders (id INTEGER)")
    before = path.read_bytes()
    completed = run_cli(
        "serve", str(path), "--state-dir", str(tmp_path / "state"), "--port", str(free_port()), cwd=tmp_path
    )
    assert_one_line_error(completed, "there is no table agno_sessions in this database", "found 1 other table")
    assert path.read_bytes() == before


def test_check_names_the_session_tables_it_finds_instead(tmp_path):
    path = sqlite_file(
        tmp_path / "agent.db",
        "CREATE TABLE my_sessions (session_id VARCHAR PRIMARY KEY, session_type VARCHAR, session_data JSON)",
    )
    completed = run_cli("check", str(path), cwd=tmp_path)
    assert completed.returncode == 2
    assert "Agno session tables found: my_sessions: pass --session-table my_sessions" in completed.stdout
    assert "result        the dashboard cannot show this" in completed.stdout


def test_check_on_a_table_that_is_not_agno_s(tmp_path):
    path = sqlite_file(tmp_path / "agent.db", "CREATE TABLE agno_sessions (session_id VARCHAR, session_type VARCHAR)")
    completed = run_cli("check", str(path), cwd=tmp_path)
    assert completed.returncode == 2
    assert "agno_sessions is not an Agno session table: it has no agent_id, team_id" in completed.stdout


def test_check_on_a_server_that_does_not_answer(tmp_path):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    completed = run_cli("check", f"postgresql://agno:s3cret@127.0.0.1:{port}/agno", cwd=tmp_path)
    assert completed.returncode == 2
    assert f"problem       cannot connect to postgresql://agno:***@127.0.0.1:{port}/agno" in completed.stdout
    assert "s3cret" not in completed.stdout + completed.stderr
    assert "Traceback" not in completed.stderr


@pytest.mark.postgresql
def test_check_finds_agno_s_tables_in_another_schema(tmp_path, db):
    from django.db import connection

    from tests.agno import postgres_url

    url = postgres_url(connection.settings_dict).replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(url, autocommit=True) as pg:
        pg.execute("DROP SCHEMA IF EXISTS cli_elsewhere CASCADE")
        pg.execute("CREATE SCHEMA cli_elsewhere")
        pg.execute("CREATE TABLE cli_elsewhere.agno_sessions (session_id VARCHAR PRIMARY KEY, session_type VARCHAR)")
        try:
            completed = run_cli("check", url, "--schema", "cli_nothing_here", cwd=tmp_path)
        finally:
            pg.execute("DROP SCHEMA cli_elsewhere CASCADE")
    assert completed.returncode == 2
    assert "there is no table agno_sessions in schema cli_nothing_here" in completed.stdout
    assert "cli_elsewhere.agno_sessions" in completed.stdout
    assert "--schema cli_elsewhere --session-table agno_sessions" in completed.stdout


def test_user_creates_logins_in_the_state_directory_only(tmp_path):
    state = tmp_path / "state"
    created = run_cli("user", "alice", "--role", "editor", "--state-dir", str(state), cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    assert "Created editor login: username alice  password " in created.stdout
    kept = run_cli("user", "alice", "--role", "admin", "--if-missing", "--state-dir", str(state), cwd=tmp_path)
    assert "Kept the existing login alice" in kept.stdout
    with sqlite3.connect(state / cli.STATE_DATABASE) as connection:
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        [(superuser,)] = connection.execute("SELECT is_superuser FROM auth_user WHERE username = 'alice'")
    assert "auth_user" in tables and "sessions_ui_cache" in tables
    assert not {"agno_sessions", "agno_runs"} & tables  # Agno's tables never go into the dashboard's state
    assert superuser == 0


@pytest.fixture
def session(db):
    return create_session(session_id="read-only-1", session_data={"session_name": "before"})


@override_settings(READ_ONLY=True)
def test_read_only_refuses_edits_and_deletes_to_an_admin(client, session):
    client.force_login(make_user("boss", superuser=True))
    edit = client.post(
        f"/sessions/{session.session_id}/edit/", {"session_name": "after", "updated_at": session.updated_at}
    )
    delete = client.post(f"/sessions/{session.session_id}/delete/", {"confirm": "yes"})
    assert edit.status_code == delete.status_code == 403
    assert read_only.REFUSAL in edit.content.decode()
    session.refresh_from_db()
    assert '"before"' in session.session_data
    detail = client.get(f"/sessions/{session.session_id}/").content.decode()
    assert "Read-only: nothing can be edited or deleted here." in detail
    assert f"/sessions/{session.session_id}/edit/" not in detail
    assert f"/sessions/{session.session_id}/delete/" not in detail
    listing = client.get("/sessions/").content.decode()
    assert 'name="session_ids"' not in listing  # no bulk delete


def test_without_read_only_the_same_admin_edits(client, session):
    client.force_login(make_user("boss", superuser=True))
    detail = client.get(f"/sessions/{session.session_id}/").content.decode()
    assert f"/sessions/{session.session_id}/edit/" in detail
    assert "Read-only" not in detail


def test_no_auth_is_the_local_login_and_answers_this_machine_only(client, session):
    from django.conf import settings

    make_user("local", "view_agnosession")
    middleware = list(settings.MIDDLEWARE)
    middleware.insert(
        middleware.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
        "sessions_ui.accounts.LocalAutoLogin",
    )
    with override_settings(AUTO_LOGIN_USER="local", MIDDLEWARE=middleware):
        page = client.get("/sessions/", REMOTE_ADDR="127.0.0.1")
        elsewhere = client.get("/sessions/", REMOTE_ADDR="192.0.2.7")
        edit = client.get(f"/sessions/{session.session_id}/edit/", REMOTE_ADDR="127.0.0.1")
    assert page.status_code == 200 and "read-only-1" in page.content.decode()
    assert elsewhere.status_code == 403
    assert edit.status_code == 403  # a viewer


AGNO_SESSIONS_DDL = (
    "CREATE TABLE agno_sessions (session_id VARCHAR PRIMARY KEY, session_type VARCHAR NOT NULL, agent_id VARCHAR,"
    " team_id VARCHAR, workflow_id VARCHAR, user_id VARCHAR, session_data JSON, agent_data JSON, team_data JSON,"
    " workflow_data JSON, metadata JSON, runs JSON, summary JSON, created_at BIGINT NOT NULL, updated_at BIGINT)"
)
A_SESSION = (
    "INSERT INTO agno_sessions (session_id, session_type, session_data, runs, created_at)"
    " VALUES ('cli-session-1', 'agent', '{\"session_name\": \"from the cli test\"}', '[]', 1700000000)"
)


def test_indexes_prints_then_applies(tmp_path):
    path = sqlite_file(tmp_path / "agent.db", AGNO_SESSIONS_DDL)
    printed = run_cli("indexes", str(path), cwd=tmp_path)
    assert printed.returncode == 0, printed.stderr
    assert "missing CREATE INDEX IF NOT EXISTS" in printed.stdout and "Run with --apply" in printed.stdout
    applied = run_cli("indexes", str(path), "--apply", cwd=tmp_path)
    assert "Created idx_agno_sessions_user_id_created_at." in applied.stdout
    checked = run_cli("check", str(path), cwd=tmp_path)
    assert "indexes       exists: idx_agno_sessions_created_at_session_id" in checked.stdout
    assert "missing" not in checked.stdout


def serve_until_ready(*args: str, cwd: Path, env_extra: dict | None = None) -> tuple[subprocess.Popen, list[str], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGNO_", "DJANGO_", "TEST_DATABASE"))}
    env.update(PYTHONPATH=str(ROOT), **(env_extra or {}))
    process = subprocess.Popen(
        [sys.executable, "-m", "sessions_ui", "serve", *args, "--port", str(port)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    banner = []
    for line in process.stdout:
        banner.append(line)
        if line.lstrip().startswith("dashboard state"):
            break
    return process, banner, f"http://127.0.0.1:{port}"


def test_no_auth_serves_without_a_login_and_says_so(tmp_path):
    path = sqlite_file(tmp_path / "agent.db", AGNO_SESSIONS_DDL, A_SESSION)
    process, banner, base = serve_until_ready(str(path), "--no-auth", "--state-dir", str(tmp_path / "s"), cwd=tmp_path)
    try:
        assert "NO LOGIN (--no-auth)" in "".join(banner) and "password" not in "".join(banner)
        with urllib.request.urlopen(base + "/sessions/", timeout=30) as response:
            assert response.url == base + "/sessions/"  # not sent to the login page
            assert "from the cli test" in response.read().decode()
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_open_opens_the_browser_once_ready(tmp_path):
    path = sqlite_file(tmp_path / "agent.db", AGNO_SESSIONS_DDL)
    opened = tmp_path / "opened"
    browser = tmp_path / "browser"
    browser.write_text(f'#!/bin/sh\necho "$1" > {opened}\n')
    browser.chmod(0o755)
    process, banner, base = serve_until_ready(
        str(path), "--open", "--state-dir", str(tmp_path / "s"), cwd=tmp_path, env_extra={"BROWSER": str(browser)}
    )
    try:
        for _ in range(100):
            if opened.exists():
                break
            time.sleep(0.1)
        assert opened.read_text().strip() == base + "/sessions/"
    finally:
        process.terminate()
        process.wait(timeout=30)
