"""The installed tool (issue 17): the wheel built once per test run, installed into a fresh virtualenv outside
the repository, and `sessions-ui serve` run on databases that the real agno 2.x and 3.x wrote, over HTTP.

The virtualenv gets the versions requirements.txt pins (as constraints), from pip's usual indexes and cache.
"""

from __future__ import annotations

import hashlib
import http.cookiejar
import queue
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from packaging.requirements import Requirement

from tests.agno import AGNO_VERSIONS, AgnoDb, postgres_url, write_with_agno

ROOT = Path(__file__).resolve().parent.parent
STARTS_WITHIN = 10  # seconds, the acceptance


@dataclass(frozen=True)
class Package:
    wheel: Path
    bin: Path  # of the fresh virtualenv it is installed in
    outside: Path  # a directory outside the repository, where the commands run


@pytest.fixture(scope="session")
def package(tmp_path_factory) -> Package:
    where = tmp_path_factory.mktemp("package")
    quiet = {"check": True, "cwd": where, "capture_output": True, "text": True, "timeout": 600}
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-w", str(where / "dist")], **quiet)
    [wheel] = (where / "dist").glob("sessions_ui-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(where / "venv")], **quiet)
    constraints = where / "constraints.txt"
    # pip takes no extras in a constraint: psycopg[binary]==x is psycopg==x there.
    constraints.write_text(re.sub(r"\[[^\]]*\]", "", (ROOT / "requirements.txt").read_text()))
    pip = where / "venv" / "bin" / "pip"
    subprocess.run([str(pip), "install", "--quiet", "-c", str(constraints), str(wheel)], **quiet)
    return Package(wheel, where / "venv" / "bin", where)


def checksum(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def agno_files(tmp_path_factory, fake_openai_url) -> dict[str, tuple[Path, list[dict]]]:
    """An SQLite file each agno version wrote with its own SqliteDb defaults (agno_sessions, agno_runs), and its manifest."""
    files = {}
    for version in AGNO_VERSIONS:
        path = tmp_path_factory.mktemp(f"agno-{version}") / "agent.db"
        db = AgnoDb(url=f"sqlite:///{path}", schema=None, session_table="agno_sessions", runs_table="agno_runs")
        files[version] = (path, write_with_agno(version, db, fake_openai_url, "full", ""))
    return files


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Served:
    """`sessions-ui serve ...` from the installed package, until its banner is printed; a browser's cookie jar."""

    def __init__(self, package: Package, *args: str):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.started = started = time.monotonic()
        self.process = subprocess.Popen(
            [str(package.bin / "sessions-ui"), "serve", *args, "--port", str(self.port)],
            cwd=package.outside,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in self.process.stdout], daemon=True).start()
        self.banner = []
        while not any(line.lstrip().startswith("dashboard state") for line in self.banner):
            try:
                self.banner.append(lines.get(timeout=max(0.1, STARTS_WITHIN - (time.monotonic() - started))))
            except queue.Empty:
                self.stop()
                raise AssertionError(f"no banner within {STARTS_WITHIN} s: {''.join(self.banner)}") from None
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    @property
    def password(self) -> str | None:
        found = re.search(r"username admin  password (\S+)", "".join(self.banner))
        return found[1] if found else None

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=30) as response:
            return response.read().decode()

    def post(self, path: str, fields: dict) -> tuple[int, str]:
        token = re.search(
            r'name="csrfmiddlewaretoken" value="([^"]+)"', self.get(path if "login" in path else "/sessions/")
        )
        data = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": token[1] if token else ""}).encode()
        request = urllib.request.Request(self.base + path, data=data, headers={"Referer": self.base + path})
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def log_in(self, password: str) -> str:
        status, page = self.post("/accounts/login/", {"username": "admin", "password": password})
        assert status == 200 and "Log out" in page, page[:2000]
        return page

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def assert_lists(page: str, manifest: list[dict]) -> None:
    for entry in manifest:
        session_id = entry["session_id"]
        assert (
            session_id in page or urllib.parse.quote(session_id) in page or session_id.replace("/", "&#x2F;") in page
        ), session_id


def test_the_wheel_holds_the_app_its_settings_templates_static_and_migrations(package):
    names = set(zipfile.ZipFile(package.wheel).namelist())
    for name in (
        "sessions_ui/config/settings.py",
        "sessions_ui/config/wsgi.py",
        "sessions_ui/templates/base.html",
        "sessions_ui/templates/jinja2/sessions_ui/list_table.html",
        "sessions_ui/static/css/app.css",
        "sessions_ui/static/js/app.js",
        "sessions_ui/migrations/0001_agno_tables.py",
        "sessions_ui/cli.py",
    ):
        assert name in names, name
    assert not [name for name in names if name.startswith(("config/", "templates/", "static/", "tests/"))]
    assert not [name for name in names if "__pycache__" in name]
    [entry_points] = [name for name in names if name.endswith("entry_points.txt")]
    assert "sessions-ui = sessions_ui.cli:main" in zipfile.ZipFile(package.wheel).read(entry_points).decode()


def test_every_pin_of_requirements_lies_in_the_package_s_range():
    ranges = {
        Requirement(line).name.lower(): Requirement(line)
        for line in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    }
    pins = [Requirement(line) for line in (ROOT / "requirements.txt").read_text().splitlines() if line.strip()]
    assert {pin.name.lower() for pin in pins} == set(ranges)
    for pin in pins:
        [version] = [spec.version for spec in pin.specifier]
        assert ranges[pin.name.lower()].specifier.contains(version), (pin, ranges[pin.name.lower()])
        assert pin.extras == ranges[pin.name.lower()].extras


@pytest.mark.sqlite
@pytest.mark.parametrize("version", AGNO_VERSIONS)
def test_serve_a_file_agno_wrote_with_the_printed_login_and_write_nothing_into_it(
    package, agno_files, version, tmp_path
):
    path, manifest = agno_files[version]
    before, neighbours = checksum(path), sorted(path.parent.iterdir())
    state = tmp_path / "state"
    served = Served(package, str(path), "--state-dir", str(state))
    try:
        assert served.password, served.banner
        assert f"sessions-ui is serving {path} at {served.base}/sessions/" in served.banner[0]
        assert_lists(served.log_in(served.password), manifest)
        assert time.monotonic() - served.started < STARTS_WITHIN  # from the command to its sessions, logged in
    finally:
        served.stop()
    again = Served(package, str(path), "--state-dir", str(state))
    try:
        assert again.password is None and "log in with your login" in "".join(again.banner)
        again.log_in(served.password)  # the first start's password: never changed
    finally:
        again.stop()
    assert checksum(path) == before and sorted(path.parent.iterdir()) == neighbours
    assert {file.name for file in state.iterdir()} == {"dashboard.sqlite3", "secret_key"}
    with sqlite3.connect(state / "dashboard.sqlite3") as dashboard:  # what the dashboard wrote: here
        assert dashboard.execute("SELECT COUNT(*) FROM django_session").fetchone()[0] == 2
        assert dashboard.execute("SELECT username FROM auth_user").fetchall() == [("admin",)]
    checked = subprocess.run(
        [str(package.bin / "sessions-ui"), "check", str(path)], cwd=package.outside, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    layout = "Agno 3.x: runs in agno_runs" if version.startswith("3") else "Agno 2.x: runs inline"
    assert layout in checked.stdout
    assert f"agno_sessions ({len(manifest)} rows)" in checked.stdout
    assert "the dashboard can show these sessions" in checked.stdout
    assert f"sessions-ui indexes {path} --apply" in checked.stdout
    assert checksum(path) == before


@pytest.mark.sqlite
def test_read_only_refuses_an_edit_and_leaves_the_file_unchanged(package, agno_files, tmp_path):
    path, manifest = agno_files[AGNO_VERSIONS[-1]]
    before = checksum(path)
    served = Served(package, str(path), "--state-dir", str(tmp_path / "state"), "--read-only")
    try:
        assert "read-only" in "".join(served.banner)
        served.log_in(served.password)
        session_id = manifest[0]["session_id"]
        detail_path = f"/sessions/{urllib.parse.quote(session_id, safe='')}/"
        detail = served.get(detail_path)
        assert "Read-only: nothing can be edited or deleted here." in detail
        status, page = served.post(detail_path + "edit/", {"session_name": "changed", "updated_at": "0"})
        assert status == 403 and "read-only" in page
    finally:
        served.stop()
    assert checksum(path) == before


def table_digest(url: str, table: str) -> str:
    with psycopg.connect(url) as connection:
        return connection.execute(
            f"SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM ai.{table} t"
        ).fetchone()[0]


@pytest.fixture
def agno_postgres(db, fake_openai_url):
    """A PostgreSQL database of its own in which agno 2.x wrote agno2_sessions and agno 3.x agno3_sessions (schema ai)."""
    from django.db import connection

    name = f"{connection.settings_dict['NAME']}_package"[:63]
    admin = postgres_url(connection.settings_dict).replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(admin, autocommit=True) as pg:
        pg.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        pg.execute(f'CREATE DATABASE "{name}"')
    url = postgres_url(connection.settings_dict, name)
    manifests = {}
    for version in AGNO_VERSIONS:
        table = f"agno{version[0]}_sessions"
        agno = AgnoDb(
            url=url, schema="ai", session_table=table, runs_table=f"{table}_runs"
        )  # Agno's own runs-table rule
        manifests[table] = write_with_agno(version, agno, fake_openai_url, "full", "")
    try:
        yield url.replace("postgresql+psycopg", "postgresql"), manifests
    finally:
        with psycopg.connect(admin, autocommit=True) as pg:
            pg.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgresql
def test_serve_a_postgresql_database_agno_wrote(package, agno_postgres, tmp_path):
    url, manifests = agno_postgres
    state = tmp_path / "state"
    password = None
    for table, manifest in manifests.items():
        before = table_digest(url, table)
        served = Served(package, url, "--session-table", table, "--state-dir", str(state), "--read-only")
        try:
            password = password or served.password
            page = served.log_in(password)
            assert_lists(page, manifest)
            session_id = manifest[0]["session_id"]
            status, refused = served.post(
                f"/sessions/{urllib.parse.quote(session_id, safe='')}/edit/", {"session_name": "x"}
            )
            assert status == 403 and "read-only" in refused
        finally:
            served.stop()
        assert table_digest(url, table) == before
        checked = subprocess.run(
            [str(package.bin / "sessions-ui"), "check", url, "--session-table", table],
            cwd=package.outside,
            capture_output=True,
            text=True,
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert f"session table ai.{table}" in checked.stdout
        assert f"{table} ({len(manifest)} rows)" in checked.stdout
        assert f"sessions-ui indexes {url} --session-table {table} --apply" in checked.stdout
