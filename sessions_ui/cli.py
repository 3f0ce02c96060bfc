"""`sessions-ui`: the dashboard as an installed tool, pointed at an Agno database that exists (README "Install as a tool").

The dashboard's own tables (logins, audit log, cache) and its secret key live in a state directory of
their own, never in the Agno database: the commands set the environment that config/settings.py reads
(DATABASE_URL for the state, AGNO_DATABASE_URL for Agno's) before Django starts. Bad input is one line on
stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import ipaddress
import os
import secrets
import socket
import sys
import webbrowser
from importlib.util import find_spec
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

SQLITE_HEADER = b"SQLite format 3\x00"
SQLITE_SCHEMES = {"sqlite"}
POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql"}
STATE_DATABASE = "dashboard.sqlite3"
SECRET_KEY_FILE = "secret_key"
LOCAL_LOGIN = "local"  # --no-auth's login, a viewer
FIRST_LOGIN = "admin"
POSIX = os.name == "posix"  # where gunicorn runs
# The settings' variable behind each option that names Agno's tables.
TABLE_OPTIONS = {"AGNO_SESSION_TABLE": "session_table", "AGNO_RUNS_TABLE": "runs_table", "AGNO_DB_SCHEMA": "schema"}


class UsageError(Exception):
    """What was given, and what to pass instead: printed as one line, exit status 2."""


def user_data_dir() -> Path:
    """The per-user data directory, where platformdirs' user_data_dir("sessions-ui") is."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        xdg = os.environ.get("XDG_DATA_HOME", "")
        base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"
    return base / "sessions-ui"


def agno_database_url(database: str | None) -> str:
    """DATABASE as given (an SQLite file or a URL), checked, as the URL config/settings.py reads."""
    database = database or os.environ.get("AGNO_DATABASE_URL", "")
    if not database:
        raise UsageError("no database given: pass the SQLite file Agno writes (agent.db) or a database URL")
    scheme, separator, rest = database.partition("://")
    if not separator:
        return "sqlite:///" + quote(str(_sqlite_file(Path(database).expanduser())))
    if scheme in POSTGRES_SCHEMES:
        return database
    if scheme in SQLITE_SCHEMES:
        return "sqlite:///" + quote(str(_sqlite_file(_sqlite_path(database))))
    raise UsageError(
        f"{scheme}:// is not a database this dashboard reads: pass an SQLite file or a postgresql://user@host:5432/db URL"
    )


def _sqlite_path(url: str) -> Path:
    """The file of an sqlite:/// URL, as dj-database-url reads it (sqlite:////abs/path, sqlite:///relative)."""
    return Path(unquote(urlsplit(url).path[1:]))


def _sqlite_file(path: Path) -> Path:
    if not path.exists():
        raise UsageError(
            f"there is no file {path}: pass the SQLite file Agno's SqliteDb(db_file=...) writes,"
            " or a database URL (postgresql://user@host:5432/db)"
        )
    if path.is_dir():
        raise UsageError(
            f"{path} is a directory: pass the SQLite file in it that Agno writes (e.g. {path / 'agent.db'})"
        )
    with path.open("rb") as file:
        header = file.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        raise UsageError(
            f"{path} is not an SQLite database ({'empty' if not header else 'it does not start like one'}):"
            " pass the file Agno's SqliteDb(db_file=...) writes, or a database URL"
        )
    return path.resolve()


def shown_url(url: str) -> str:
    """A database URL without its password (an SQLite file as its path), for messages."""
    parts = urlsplit(url)
    if parts.scheme in SQLITE_SCHEMES:
        return str(_sqlite_path(url))
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def secret_key(state: Path) -> str:
    """The state directory's secret key, generated on first use: login cookies stay valid across restarts."""
    path = state / SECRET_KEY_FILE
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


def state_directory(option: str | None) -> Path:
    state = Path(option).expanduser() if option else user_data_dir()
    try:
        state.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as error:
        raise UsageError(
            f"cannot use {state} as the state directory ({error.strerror}): pass another with --state-dir"
        ) from None
    return state.resolve()


def configure(args: argparse.Namespace, *, agno_url: str | None, state: Path | None) -> None:
    """Set the environment config/settings.py reads, then start Django.

    `state` None: a throwaway in-memory state (check, indexes write nothing of their own). No Agno
    database (user): an in-memory one, so that `migrate` on the state never creates Agno's tables there.
    """
    env = {
        "DJANGO_SETTINGS_MODULE": "sessions_ui.config.settings"
        if find_spec("sessions_ui.config")
        else "config.settings",
        "DEBUG": "0",
        "DATABASE_URL": f"sqlite:///{quote(str(state / STATE_DATABASE))}" if state else "sqlite://:memory:",
        "AGNO_DATABASE_URL": agno_url or "sqlite://:memory:",
        "SECRET_KEY": secret_key(state) if state else secrets.token_urlsafe(50),
        "CACHE_URL": "db://" if state else "locmem://",
        "READ_ONLY": "1" if getattr(args, "read_only", False) else "0",
        "AUTO_LOGIN_USER": LOCAL_LOGIN if getattr(args, "no_auth", False) else "",
    }
    for variable, option in TABLE_OPTIONS.items():
        value = getattr(args, option, None)
        if value is None:
            os.environ.pop(variable, None)  # settings' default (Agno's own rules), not the shell's
        else:
            env[variable] = value
    # One state directory may serve several databases in turn: their cache entries stay apart.
    identity = "|".join((agno_url or "", env.get("AGNO_DB_SCHEMA", ""), env.get("AGNO_SESSION_TABLE", "")))
    env["CACHE_KEY_PREFIX"] = hashlib.sha256(identity.encode()).hexdigest()[:12]
    os.environ.update(env)
    import django

    django.setup()


def diagnose(args: argparse.Namespace, agno_url: str):
    from sessions_ui import doctor
    from sessions_ui.sources import default_source

    options = [
        f"--{option.replace('_', '-')} {getattr(args, option)}"
        for option in TABLE_OPTIONS.values()
        if getattr(args, option)
    ]
    command = " ".join(["sessions-ui indexes", shown_url(args.database or "$AGNO_DATABASE_URL"), *options, "--apply"])
    return doctor.diagnose(default_source(), database=shown_url(agno_url), indexes_command=command)


def serve(args: argparse.Namespace) -> int:
    if not POSIX:
        raise UsageError("serve runs gunicorn, which needs a POSIX system (Linux, macOS; on Windows, WSL)")
    loopback = _is_loopback(args.host)
    if args.no_auth and not loopback:
        raise UsageError(
            f"--no-auth serves without logins, so only on this machine: drop --host {args.host} (or --no-auth)"
        )
    agno_url = agno_database_url(args.database)
    state = state_directory(args.state_dir)
    if "ALLOWED_HOSTS" not in os.environ or args.no_auth:
        hosts = ["localhost", "127.0.0.1", "[::1]"]
        if not loopback and args.host not in ("0.0.0.0", "::"):
            hosts.append(f"[{args.host}]" if ":" in args.host else args.host)
        os.environ["ALLOWED_HOSTS"] = ",".join(hosts)
    _check_port_free(args.host, args.port)
    configure(args, agno_url=agno_url, state=state)
    report = diagnose(args, agno_url)
    if not report.usable:
        raise UsageError(report.problems[0])

    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", database="default", interactive=False, verbosity=0)
    login = _login(args)
    connections.close_all()  # the workers open their own
    url = f"http://{_url_host(args.host)}:{args.port}/sessions/"
    lines = [f"sessions-ui is serving {shown_url(agno_url)} at {url}"]
    lines += [f"  {line}" for line in login]
    if args.read_only:
        lines.append("  read-only: nobody can edit or delete, and the database is opened read-only")
    if args.host in ("0.0.0.0", "::"):
        lines.append(
            "  listening on every address: set ALLOWED_HOSTS (and CSRF_TRUSTED_ORIGINS) to the name people use"
        )
    lines.append(f"  dashboard state (logins, audit log, cache, secret key): {state}")
    _run_gunicorn(args, url, lines)
    return 0


def _login(args: argparse.Namespace) -> list[str]:
    """The login to use: --no-auth's, the first one (created on first start, its password printed once), or the existing ones."""
    from django.contrib.auth.models import User
    from django.core.management import call_command

    if args.no_auth:
        call_command("dashboard_user", LOCAL_LOGIN, role="viewer", if_missing=True, stdout=io.StringIO())
        return [
            "NO LOGIN (--no-auth): anyone on this machine may look at these sessions, as a viewer;",
            f"  it listens on {args.host} only. Drop --no-auth to require a login.",
        ]
    if User.objects.exists():
        return [
            "log in with your login (sessions-ui user NAME --role viewer|editor|admin adds one, or sets a new password)"
        ]
    output = io.StringIO()
    call_command("dashboard_user", FIRST_LOGIN, role="admin", if_missing=True, stdout=output)
    return [output.getvalue().strip(), "  (shown once: the next start keeps this login and its password)"]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _check_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise UsageError(
                f"cannot listen on {host}:{port} ({error.strerror}): pass another --port or --host"
            ) from None


def _run_gunicorn(args: argparse.Namespace, url: str, banner: list[str]) -> None:
    from django.core.wsgi import get_wsgi_application
    from gunicorn.app.base import BaseApplication

    application = get_wsgi_application()

    def when_ready(server) -> None:
        print("\n".join(banner), flush=True)
        if args.open:
            webbrowser.open(url)

    options = {
        "bind": f"[{args.host}]:{args.port}" if ":" in args.host else f"{args.host}:{args.port}",
        "workers": args.workers,
        "worker_class": "gthread",
        "threads": 4,
        "proc_name": "sessions-ui",
        "loglevel": "warning",
        "when_ready": when_ready,
    }

    class Server(BaseApplication):
        def load_config(self) -> None:
            for name, value in options.items():
                self.cfg.set(name, value)

        def load(self):
            return application

    Server().run()


def check(args: argparse.Namespace) -> int:
    from sessions_ui import doctor

    agno_url = agno_database_url(args.database)
    configure(args, agno_url=agno_url, state=None)
    report = diagnose(args, agno_url)
    print("\n".join(doctor.render(report)))
    return 0 if report.usable else 2


def user(args: argparse.Namespace) -> int:
    from django.core.management import call_command

    configure(args, agno_url=None, state=state_directory(args.state_dir))
    call_command("migrate", database="default", interactive=False, verbosity=0)
    options = {"role": args.role, "if_missing": args.if_missing}
    if args.password:
        options["password"] = args.password
    call_command("dashboard_user", args.username, **options)
    return 0


def indexes(args: argparse.Namespace) -> int:
    from django.core.management import call_command

    agno_url = agno_database_url(args.database)
    configure(args, agno_url=agno_url, state=None)
    report = diagnose(args, agno_url)
    if not report.usable:
        raise UsageError(report.problems[0])
    call_command("agno_indexes", database="agno", apply=args.apply)
    return 0


def _number(low: int, high: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text!r}: a whole number from {low} to {high}")
        return value

    return parse


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="sessions-ui", description="A dashboard for the sessions Agno stores in SQL.")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def database_options(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "database",
            nargs="?",
            metavar="DATABASE",
            help="an SQLite file (agent.db) or a database URL (postgresql://user@host:5432/db); default: $AGNO_DATABASE_URL",
        )
        command.add_argument("--session-table", help="Agno's session_table= (default: agno_sessions)")
        command.add_argument(
            "--runs-table", help="Agno 3.x's runs table (default: Agno's rule, agno_runs or <session table>_runs)"
        )
        command.add_argument("--schema", help="Agno's db_schema= on PostgreSQL (default: ai)")

    def state_option(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--state-dir",
            help=f"the dashboard's own logins, audit log, cache and secret key (default: {user_data_dir()})",
        )

    command = commands.add_parser("serve", help="serve the dashboard on an Agno database")
    database_options(command)
    state_option(command)
    command.add_argument("--host", default="127.0.0.1", help="the address to listen on (default: %(default)s)")
    command.add_argument("--port", type=_number(1, 65535), default=8000, help="(default: %(default)s)")
    command.add_argument(
        "--workers", type=_number(1, 64), default=2, help="gunicorn worker processes (default: %(default)s)"
    )
    command.add_argument(
        "--read-only", action="store_true", help="nobody edits or deletes; the database is opened read-only"
    )
    command.add_argument(
        "--no-auth", action="store_true", help="no login, on 127.0.0.1 only: everyone on this machine is a viewer"
    )
    command.add_argument("--open", action="store_true", help="open the dashboard in a browser once it is ready")
    command.set_defaults(run=serve)

    command = commands.add_parser("check", help="what the database holds, and whether the dashboard can show it")
    database_options(command)
    command.set_defaults(run=check)

    command = commands.add_parser("user", help="create a login, or set a new password for one")
    command.add_argument("username")
    command.add_argument("--role", choices=("viewer", "editor", "admin"), default="viewer")
    command.add_argument("--password", help="default: a random one, printed")
    command.add_argument("--if-missing", action="store_true", help="leave an existing login as it is")
    state_option(command)
    command.set_defaults(run=user)

    command = commands.add_parser(
        "indexes", help="the indexes that make the list's filters fast (--apply creates them)"
    )
    database_options(command)
    command.add_argument("--apply", action="store_true", help="create the missing indexes (never drops anything)")
    command.set_defaults(run=indexes)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except UsageError as error:
        print(f"sessions-ui: error: {error}", file=sys.stderr)
        return 2
