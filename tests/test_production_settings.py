"""Production settings, checked in real processes: a missing secret stops the start (issue 12, item 2)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What the test run itself sets (tests/settings.py; the browser tests' conftest sets DJANGO_ALLOW_ASYNC_UNSAFE
# for Playwright) or a developer may have exported: each test starts clean.
OURS = (
    "SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "CACHE_URL",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)  # fmt: skip


def clean_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in OURS and not k.startswith(("SECURE_", "SESSION_", "CSRF_"))}
    return {**env, **values}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_without_a_secret_key_and_debug_off_nothing_starts():
    for env in (clean_env(), clean_env(DEBUG="0", SECRET_KEY=""), clean_env(DEBUG="false")):
        completed = manage("check", env=env)
        assert completed.returncode != 0, completed.stdout
        last_line = completed.stderr.strip().splitlines()[-1]
        assert last_line.startswith("django.core.exceptions.ImproperlyConfigured: SECRET_KEY is not set."), last_line
        assert "export SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')" in last_line


def test_the_command_the_message_gives_sets_a_key_that_works():
    message = manage("check", env=clean_env()).stderr.strip().splitlines()[-1]
    command = re.search(r"export SECRET_KEY=(\$\(.*\))", message).group(1)
    key = subprocess.run(["bash", "-c", f"echo {command}"], capture_output=True, text=True, check=True).stdout.strip()
    assert len(key) >= 50
    completed = manage("check", env=clean_env(SECRET_KEY=key))
    assert completed.returncode == 0, completed.stderr
    assert "System check identified no issues" in completed.stdout


def test_the_wsgi_application_refuses_to_load_without_a_secret_key():
    completed = subprocess.run(
        [sys.executable, "-c", "import config.wsgi"], cwd=ROOT, env=clean_env(), capture_output=True, text=True
    )
    assert completed.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY is not set." in completed.stderr


def test_debug_on_a_development_machine_still_starts_without_a_key():
    completed = manage("check", env=clean_env(DEBUG="1"))
    assert completed.returncode == 0, completed.stderr


# --- README "Production": `manage.py check --deploy` is clean with the variables it documents ----------------


def readme_production_exports() -> str:
    """The `export` statements of the README's production commands, as a shell script."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Production\n", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    statements, current = [], ""
    for line in block.splitlines():
        if current or line.startswith("export "):
            current += line + "\n"
            if not line.endswith("\\"):
                statements.append(current)
                current = ""
    assert len(statements) >= 2, block
    return "".join(statements)


def test_check_deploy_prints_no_warning_with_the_readme_production_variables():
    exports = readme_production_exports()
    for name in ("SECRET_KEY", "ALLOWED_HOSTS", "SECURE_PROXY_SSL_HEADER", "SECURE_HSTS_SECONDS", "CSRF_COOKIE_SECURE"):
        assert name in exports
    env = clean_env(PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    script = f"set -eu\n{exports}exec python manage.py check --deploy --fail-level WARNING\n"
    completed = subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.strip() == "System check identified no issues (0 silenced).", completed.stdout
    assert "WARNINGS" not in completed.stderr


def test_check_deploy_does_warn_without_them():
    """The check above proves something: the same command without the HTTPS variables reports them."""
    completed = manage("check", "--deploy", env=clean_env(SECRET_KEY="x" * 60 + "-a-long-enough-key-1234"))
    output = completed.stdout + completed.stderr
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in output, output


def test_the_proxy_header_is_read_as_django_expects():
    env = clean_env(SECRET_KEY="k" * 60, SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto: https")
    code = "from django.conf import settings; print(settings.SECURE_PROXY_SSL_HEADER)"
    completed = manage("shell", "-c", code, env=env)
    assert completed.stdout.strip().splitlines()[-1] == "('HTTP_X_FORWARDED_PROTO', 'https')", completed.stderr
    completed = manage("check", env={**env, "SECURE_PROXY_SSL_HEADER": "https"})
    assert completed.returncode != 0
    assert "write it as 'X-Forwarded-Proto: https'" in completed.stderr


def test_gunicorn_starts_two_workers_per_core_and_one_unless_told(monkeypatch):
    import runpy

    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    assert runpy.run_path(str(ROOT / "gunicorn.conf.py"))["workers"] == 2 * (os.cpu_count() or 1) + 1
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    assert runpy.run_path(str(ROOT / "gunicorn.conf.py"))["workers"] == 3
