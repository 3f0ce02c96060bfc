"""Browser tests: Playwright drives Debian's chromium against pytest-django's live server."""

import os

import pytest
from django.core.cache import cache

from tests.conftest import make_user

# Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test body are safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(autouse=True)
def _empty_cache():
    """The live server shares this process's cache: choices cached by an earlier test would show rows it deleted."""
    cache.clear()


# Every browser test reports what the Content-Security-Policy blocked, and what htmx refused to eval.
WATCH_SCRIPT = """
document.addEventListener("securitypolicyviolation", (event) => window.__reportBlocked(
  `${event.effectiveDirective} blocked ${event.blockedURI || "inline"} at ${event.sourceFile}:${event.lineNumber}`
  + ` ${event.sample || ""}`), true);
for (const name of ["htmx:evalDisallowedError", "htmx:syntax:error"]) {
  document.addEventListener(name, (event) => window.__reportBlocked(`${name} on ${event.target.outerHTML.slice(0, 200)}`));
}
"""


class Blocked:
    """What the page's Content-Security-Policy blocked (securitypolicyviolation events and console reports),
    and every console error, of every document the page opened."""

    def __init__(self):
        self.violations: list[str] = []
        self.console_errors: list[str] = []

    def report(self, text: str) -> None:
        self.violations.append(text)

    def on_console(self, message) -> None:
        if message.type == "error":
            self.console_errors.append(f"{message.text} ({message.location.get('url')})")
            if "Content Security Policy" in message.text:
                self.violations.append(f"console: {message.text}")

    def clear(self) -> None:
        self.violations.clear()
        self.console_errors.clear()


@pytest.fixture(autouse=True)
def csp_report(page):
    """Fails any browser test during which the Content-Security-Policy blocked something (issue 12, item 3)."""
    blocked = Blocked()
    page.expose_function("__reportBlocked", blocked.report)
    page.add_init_script(WATCH_SCRIPT)
    page.on("console", blocked.on_console)
    yield blocked
    assert blocked.violations == [], "blocked by the Content-Security-Policy:\n" + "\n".join(blocked.violations)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1400, "height": 900}}


def login(page, live_server, username: str, password: str = "pw") -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/sessions/**")


@pytest.fixture
def admin_page(page, live_server, transactional_db):
    make_user("admin", superuser=True)
    login(page, live_server, "admin")
    return page


@pytest.fixture
def viewer_page(page, live_server, transactional_db):
    make_user("viewer", "view_agnosession")
    login(page, live_server, "viewer")
    return page
