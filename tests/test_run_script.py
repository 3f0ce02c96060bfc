"""`./run` itself, in a subprocess, on a database of its own: it never resets a password (issue 12, item 1).

Pointed at an existing database, ./run used to set the `admin` and `viewer` passwords back to
`admin`/`viewer` and to serve with DEBUG on. Each run here goes as far as the banner and the
server answering, then is stopped.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.contrib.auth.hashers import check_password

ROOT = Path(__file__).resolve().parent.parent
KNOWN = "a-known-password-4711"
SETTINGS = (
    "SECRET_KEY",
    "DEBUG",
    "DJANGO_SETTINGS_MODULE",
    "ADMIN_PASSWORD",
    "VIEWER_PASSWORD",
    "CREATE_LOGINS",
    "CACHE_URL",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def env_for(database: Path, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS and not k.startswith(("AGNO_", "TEST_DATABASE"))}
    return {**env, "DATABASE_URL": f"sqlite:///{database}", **values}


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def run_script(env: dict[str, str]) -> tuple[str, str]:
    """./run until its banner is printed and the server answers; returns (banner, the 404 page's body)."""
    port = free_port()
    process = subprocess.Popen(
        ["./run"],
        cwd=ROOT,
        env={**env, "ADDR": f"127.0.0.1:{port}"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # runserver's autoreloader starts a child: stop the whole group
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 180
        for line in process.stdout:
            lines.append(line)
            if "is running at" in line:
                break
            assert time.monotonic() < deadline, "".join(lines)
        else:
            pytest.fail(f"./run exited ({process.wait()}) before its banner:\n{''.join(lines)}")
        for line in process.stdout:  # the rest of the banner, up to its blank line
            lines.append(line)
            if not line.strip():
                break
        banner = "".join(lines)
        while True:
            try:
                status, body = get(f"http://127.0.0.1:{port}/no/such/page/")
                break
            except OSError:
                assert time.monotonic() < deadline and process.poll() is None, banner
                time.sleep(0.2)
        assert status == 404
        return banner, body
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        process.stdout.close()


def stored_password(database: Path, username: str) -> str | None:
    with sqlite3.connect(database) as connection:
        row = connection.execute("SELECT password FROM auth_user WHERE username = ?", [username]).fetchone()
    return row[0] if row else None


def test_run_on_an_existing_database_never_resets_a_password_and_creates_logins_only_when_asked(tmp_path):
    database, key_file = tmp_path / "existing.sqlite3", tmp_path / "secret_key"
    setup = env_for(database, SECRET_KEY="only-for-the-setup")
    for command in (
        ["migrate", "--no-input", "-v0"],
        ["dashboard_user", "admin", "--role", "viewer", "--password", KNOWN],
    ):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=setup, check=True, capture_output=True)
    before = stored_password(database, "admin")

    # Your database, nothing asked: no login is created, the existing one is untouched, DEBUG stays off.
    banner, not_found = run_script(env_for(database, SECRET_KEY_FILE=str(key_file)))
    assert "No login was created" in banner
    assert "CREATE_LOGINS=1 ./run" in banner and "manage.py dashboard_user NAME" in banner
    assert "DEBUG is on" not in banner
    assert "URLconf" not in not_found and "Django tried these URL patterns" not in not_found  # no DEBUG page
    assert stored_password(database, "admin") == before and check_password(KNOWN, before)
    assert stored_password(database, "viewer") is None
    key = key_file.read_text()
    assert len(key.strip()) >= 50 and key_file.stat().st_mode & 0o777 == 0o600

    # Asked: the missing login is created with a random password that works; the existing one is kept.
    banner, _ = run_script(env_for(database, SECRET_KEY_FILE=str(key_file), CREATE_LOGINS="1"))
    assert "Kept the existing login admin (password and permissions unchanged)" in banner
    viewer_password = re.search(r"Created viewer login: username viewer {2}password (\S+)", banner).group(1)
    assert viewer_password not in {"viewer", "admin", ""}
    assert check_password(viewer_password, stored_password(database, "viewer"))
    assert stored_password(database, "admin") == before  # not even rehashed
    with sqlite3.connect(database) as connection:  # nor made a superuser: its role is its owner's business
        assert connection.execute("SELECT is_superuser FROM auth_user WHERE username = 'admin'").fetchone() == (0,)
    assert key_file.read_text() == key  # the same key on every run: logins survive a restart

    # A chosen password for an existing login changes nothing either.
    banner, _ = run_script(env_for(database, SECRET_KEY_FILE=str(key_file), ADMIN_PASSWORD="chosen-but-ignored"))
    assert "Kept the existing login admin" in banner and "viewer" not in banner
    assert stored_password(database, "admin") == before
