"""Access: every URL of config/urls.py and sessions_ui/urls.py against anonymous, viewer and editor,
with every method; and error pages (400, 403, 404, 405, 500) with DEBUG off leak nothing.

tests/test_permissions.py covers the app's named URLs for every role; this adds the project's
other URLs, fragments opened directly, methods nobody should use, CSRF, and what error pages show.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from sessions_ui import queries
from sessions_ui.models import AgnoSession
from tests.conftest import make_user
from tests.factories import create_session, make_agent_run
from tests.hostile.support import HTMX

pytestmark = pytest.mark.django_db

CANARY = "CANARY-7c1e5d"  # in every column and run of the other session: no error page may show it
SESSION_ID = "access session ✓/x"
OTHER_ID = "other session"
RUN_ID = "access-run"
LOGIN = reverse("login")


@pytest.fixture
def sessions():
    create_session(session_id=SESSION_ID, user_id="ada@example.com", runs=[make_agent_run(SESSION_ID, run_id=RUN_ID)])
    secret = {"secret": CANARY, "session_name": f"name {CANARY}", "session_state": {"token": CANARY}}
    create_session(
        session_id=OTHER_ID,
        user_id=f"{CANARY}@example.com",
        agent_id=CANARY,
        session_data=secret,
        metadata={"api_key": CANARY},
        summary={"summary": CANARY, "topics": [CANARY]},
        runs=[make_agent_run(OTHER_ID, seed=2, question=CANARY, run_id=f"run-{CANARY}")],
        layout="2",
    )
    create_session(session_id="claimed/edit")


def client_for(role: str) -> Client:
    client = Client()
    if role == "viewer":
        client.force_login(make_user("viewer", "view_agnosession"))
    elif role == "editor":
        client.force_login(make_user("editor", "view_agnosession", "change_agnosession"))
    return client


@dataclass(frozen=True)
class Expect:
    path: str
    method: str
    anonymous: int
    viewer: int
    editor: int
    pattern: str  # the route it exercises, to check every route is here
    data: dict = field(default_factory=dict)
    htmx: bool = False

    def __str__(self) -> str:
        return f"{self.method} {self.path}{' htmx' if self.htmx else ''}"


def s(path: str) -> str:
    return f"/sessions/{path}"


SID = quote(SESSION_ID)
# 302L: to the login page; 302: elsewhere (a fragment opened directly goes to its page).
LOGIN_REDIRECT = 3020
EXPECTED = [
    Expect("/", "GET", 302, 302, 302, ""),
    Expect(LOGIN, "GET", 200, 200, 200, "accounts/login/"),
    Expect("/accounts/logout/", "GET", 405, 405, 405, "accounts/logout/"),
    Expect("/accounts/logout/", "POST", 302, 302, 302, "accounts/logout/"),
    Expect("/accounts/password_change/", "GET", LOGIN_REDIRECT, 200, 200, "accounts/password_change/"),
    Expect("/accounts/password_change/done/", "GET", LOGIN_REDIRECT, 200, 200, "accounts/password_change/done/"),
    # No password reset: anyone could have mail sent with it, and it fails without a mail server.
    Expect("/accounts/password_reset/", "GET", 404, 404, 404, "(none)"),
    Expect("/accounts/password_reset/", "POST", 404, 404, 404, "(none)", data={"email": "a@example.com"}),
    Expect("/accounts/password_reset/done/", "GET", 404, 404, 404, "(none)"),
    Expect("/accounts/reset/MQ/bad-token/", "GET", 404, 404, 404, "(none)"),
    Expect("/accounts/reset/done/", "GET", 404, 404, 404, "(none)"),
    # Not staff: the admin sends viewers and editors to its own login.
    Expect("/admin/", "GET", 302, 302, 302, "admin/"),
    Expect("/admin/sessions_ui/agnosession/", "GET", 302, 302, 302, "admin/"),
    Expect(s(""), "GET", LOGIN_REDIRECT, 200, 200, "sessions/"),
    Expect(s(""), "GET", LOGIN_REDIRECT, 200, 200, "sessions/", htmx=True),
    Expect(s(""), "POST", 405, 405, 405, "sessions/"),
    Expect(s(f"{SID}/"), "GET", LOGIN_REDIRECT, 200, 200, "sessions/<session:session_id>/"),
    Expect(s(f"{SID}/"), "DELETE", 405, 405, 405, "sessions/<session:session_id>/"),
    Expect(s("missing/"), "GET", LOGIN_REDIRECT, 404, 404, "sessions/<session:session_id>/"),
    Expect(s(f"{SID}/edit/"), "GET", LOGIN_REDIRECT, 403, 200, "sessions/<session:session_id>/edit/"),
    Expect(s(f"{SID}/edit/"), "GET", LOGIN_REDIRECT, 403, 200, "sessions/<session:session_id>/edit/", htmx=True),
    Expect(s(f"{SID}/edit/"), "POST", LOGIN_REDIRECT, 403, 400, "sessions/<session:session_id>/edit/"),
    Expect(s(f"{SID}/edit/"), "PUT", 405, 405, 405, "sessions/<session:session_id>/edit/"),
    Expect(s("missing/edit/"), "GET", LOGIN_REDIRECT, 403, 302, "sessions/<session:session_id>/edit/"),
    Expect(s(f"{SID}/delete/"), "GET", 405, 405, 405, "sessions/<session:session_id>/delete/"),
    Expect(s(f"{SID}/delete/"), "POST", LOGIN_REDIRECT, 403, 403, "sessions/<session:session_id>/delete/"),
    Expect(
        s(f"{SID}/delete/"),
        "POST",
        LOGIN_REDIRECT,
        403,
        403,
        "sessions/<session:session_id>/delete/",
        data={"confirm": "yes"},
    ),
    Expect(s("delete/"), "GET", 405, 405, 405, "sessions/delete/"),
    Expect(s("delete/"), "POST", LOGIN_REDIRECT, 403, 403, "sessions/delete/", data={"all_matching": "1"}),
    Expect(s(f"{SID}/export/"), "GET", LOGIN_REDIRECT, 200, 200, "sessions/<session:session_id>/export/"),
    Expect(s("missing/export/"), "GET", LOGIN_REDIRECT, 404, 404, "sessions/<session:session_id>/export/"),
    Expect(s(f"{SID}/runs/"), "GET", LOGIN_REDIRECT, 302, 302, "sessions/<session:session_id>/runs/"),
    Expect(s(f"{SID}/runs/"), "GET", LOGIN_REDIRECT, 200, 200, "sessions/<session:session_id>/runs/", htmx=True),
    Expect(s("missing/runs/"), "GET", LOGIN_REDIRECT, 404, 404, "sessions/<session:session_id>/runs/", htmx=True),
    Expect(s(f"{SID}/transcripts/"), "GET", LOGIN_REDIRECT, 302, 302, "sessions/<session:session_id>/transcripts/"),
    Expect(
        s(f"{SID}/transcripts/"),
        "GET",
        LOGIN_REDIRECT,
        200,
        200,
        "sessions/<session:session_id>/transcripts/",
        htmx=True,
    ),
    Expect(
        s("missing/transcripts/"),
        "GET",
        LOGIN_REDIRECT,
        404,
        404,
        "sessions/<session:session_id>/transcripts/",
        htmx=True,
    ),
    Expect(
        s(f"{SID}/tool-results/res_0/"),
        "GET",
        LOGIN_REDIRECT,
        404,
        404,
        "sessions/<session:session_id>/tool-results/<session:result_id>/",
    ),
    Expect(
        s(f"{SID}/tool-results/res_0/"),
        "GET",
        LOGIN_REDIRECT,
        404,
        404,
        "sessions/<session:session_id>/tool-results/<session:result_id>/",
        htmx=True,
    ),
    Expect(
        s(f"{SID}/compactions/no-such-fold/"),
        "GET",
        LOGIN_REDIRECT,
        302,
        302,
        "sessions/<session:session_id>/compactions/<session:compaction_id>/",
    ),
    Expect(
        s(f"{SID}/compactions/no-such-fold/"),
        "GET",
        LOGIN_REDIRECT,
        404,
        404,
        "sessions/<session:session_id>/compactions/<session:compaction_id>/",
        htmx=True,
    ),
    Expect(
        s(f"{SID}/runs/{RUN_ID}/"),
        "GET",
        LOGIN_REDIRECT,
        302,
        302,
        "sessions/<session:session_id>/runs/<session:run_id>/",
    ),
    Expect(
        s(f"{SID}/runs/{RUN_ID}/"),
        "GET",
        LOGIN_REDIRECT,
        200,
        200,
        "sessions/<session:session_id>/runs/<session:run_id>/",
        htmx=True,
    ),
    Expect(
        s(f"{SID}/runs/missing/"),
        "GET",
        LOGIN_REDIRECT,
        404,
        404,
        "sessions/<session:session_id>/runs/<session:run_id>/",
        htmx=True,
    ),
    Expect(
        s(f"{SID}/traces/{RUN_ID}/"),
        "GET",
        LOGIN_REDIRECT,
        200,
        200,
        "sessions/<session:session_id>/traces/<session:run_id>/",
    ),
    Expect(
        s(f"{SID}/traces/{RUN_ID}/"),
        "GET",
        LOGIN_REDIRECT,
        200,
        200,
        "sessions/<session:session_id>/traces/<session:run_id>/",
        htmx=True,
    ),
    Expect(
        s("missing/traces/r/"),
        "GET",
        LOGIN_REDIRECT,
        404,
        404,
        "sessions/<session:session_id>/traces/<session:run_id>/",
        htmx=True,
    ),
    Expect(s(f"{SID}/preview/"), "GET", LOGIN_REDIRECT, 302, 302, "sessions/<session:session_id>/preview/"),
    Expect(s(f"{SID}/preview/"), "GET", LOGIN_REDIRECT, 200, 200, "sessions/<session:session_id>/preview/", htmx=True),
    Expect(s("users/ada@example.com/"), "GET", LOGIN_REDIRECT, 200, 200, "sessions/users/<session:user_id>/"),
    Expect(s("users/ada@example.com/"), "POST", 405, 405, 405, "sessions/users/<session:user_id>/"),
    Expect(s("audit/"), "GET", LOGIN_REDIRECT, 200, 200, "sessions/audit/"),
    Expect(s("audit/"), "POST", 405, 405, 405, "sessions/audit/"),
    Expect(s("export.csv"), "GET", LOGIN_REDIRECT, 200, 200, "sessions/export.csv"),
    Expect(s("export.jsonl?sort=nope"), "GET", LOGIN_REDIRECT, 400, 400, "sessions/export.jsonl"),
    Expect(s("export.csv"), "POST", 405, 405, 405, "sessions/export.csv"),
    Expect("/overview/", "GET", LOGIN_REDIRECT, 200, 200, "overview/"),
    Expect("/overview/?created_after=x", "GET", LOGIN_REDIRECT, 200, 200, "overview/", htmx=True),
    Expect("/overview/", "POST", 405, 405, 405, "overview/"),
    # "x/edit" reads as the edit form of "x" unless only the session "x/edit" exists (sessions_ui/converters.py).
    Expect(s("claimed/edit/"), "GET", LOGIN_REDIRECT, 200, 200, "sessions/<claimed_session:session_id>/"),
    Expect("/no/such/page/", "GET", 404, 404, 404, "(none)"),
]


def every_route() -> set[str]:
    routes = set()

    def walk(resolver: URLResolver, prefix: str) -> None:
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                if str(pattern.pattern) == "admin/":
                    routes.add("admin/")  # Django's own: its index and one model page stand for it
                    continue
                walk(pattern, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                routes.add(prefix + str(pattern.pattern))

    walk(get_resolver(), "")
    return routes


def test_every_route_is_in_the_table():
    assert every_route() == {expect.pattern for expect in EXPECTED} - {"(none)"}


@pytest.mark.parametrize("role", ["anonymous", "viewer", "editor"])
@pytest.mark.parametrize("expect", EXPECTED, ids=str)
def test_expected_status(sessions, role, expect):
    client = client_for(role)
    before = list(AgnoSession.objects.order_by("pk").values_list("pk", "session_data", "updated_at"))
    headers = HTMX if expect.htmx else {}
    if expect.method == "POST":
        response = client.post(expect.path, expect.data, **headers)
    else:
        response = client.generic(expect.method, expect.path, **headers)
    if response.streaming:  # read to its end, which closes its database cursor (the list's export)
        b"".join(response.streaming_content)
    wanted = getattr(expect, role)
    if wanted == LOGIN_REDIRECT and expect.htmx:
        # htmx is told to load the login as the whole page (HX-Redirect), not to swap it in.
        assert response.status_code == 200, (role, response.status_code)
        assert response["HX-Redirect"].startswith(f"{LOGIN}?next="), response.headers
    elif wanted == LOGIN_REDIRECT:
        assert response.status_code == 302, (role, response.status_code)
        assert response["Location"].startswith(f"{LOGIN}?next="), response["Location"]
    else:
        assert response.status_code == wanted, (role, response.status_code, response.content[:300])
    if expect.method != "POST" or role != "editor":
        assert list(AgnoSession.objects.order_by("pk").values_list("pk", "session_data", "updated_at")) == before


def test_posts_need_the_csrf_token(sessions):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("root", superuser=True))
    updated_at = AgnoSession.objects.get(pk=SESSION_ID).updated_at
    for url, data in (
        (s(f"{SID}/edit/"), {"session_name": "csrf", "updated_at": updated_at}),
        (s(f"{SID}/delete/"), {"confirm": "yes"}),
        (s("delete/"), {"all_matching": "1", "confirm": "yes"}),
        ("/accounts/logout/", {}),
    ):
        assert client.post(url, data).status_code == 403, url
        assert client.post(url, data, **HTMX).status_code == 403, url
    assert AgnoSession.objects.count() == 3
    assert client.get(s("")).status_code == 200  # still logged in


def test_login_never_redirects_off_site(sessions):
    make_user("ada", "view_agnosession")
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"):
        response = Client().post(f"{LOGIN}?next={quote(target)}", {"username": "ada", "password": "pw"})
        assert response.status_code == 302
        assert response["Location"] == reverse(settings.LOGIN_REDIRECT_URL), target


# --- Error pages with DEBUG off --------------------------------------------------------------------

LEAKS = [
    CANARY,
    "Traceback",
    "SELECT",
    "agno_sessions",
    "agno_runs",
    "psycopg",
    "sqlite3",
    "django.db",
    "settings.py",
    "DATABASES",
    "SECRET_KEY",
    str(settings.BASE_DIR),
    "site-packages",
]


def assert_no_leak(label: str, response) -> None:
    body = response.content.decode(errors="replace")
    found = [leak for leak in LEAKS if leak in body]
    if settings.SECRET_KEY in body:
        found.append("the secret key")
    assert not found, f"{label} ({response.status_code}) shows {found}"


@override_settings(DEBUG=False)
def test_error_pages_show_no_data(sessions):
    viewer = client_for("viewer")
    editor = client_for("editor")
    anonymous = Client()
    errors = [
        ("404 session", viewer.get(s("no such session/")), 404),
        ("404 session fragment", viewer.get(s("no such session/"), **HTMX), 404),
        ("404 export", viewer.get(s("no such session/export/")), 404),
        ("404 run", viewer.get(s(f"{SID}/runs/no-such-run/"), **HTMX), 404),
        ("404 runs", viewer.get(s("nothing/runs/"), **HTMX), 404),
        ("404 page", viewer.get("/nothing/here/"), 404),
        ("404 static", viewer.get("/static/nothing.css"), 404),
        ("404 anonymous", anonymous.get("/nothing/here/"), 404),
        ("403 edit", viewer.get(s(f"{quote(OTHER_ID)}/edit/")), 403),
        ("403 edit post", viewer.post(s(f"{quote(OTHER_ID)}/edit/"), {"session_name": "x"}), 403),
        ("403 delete", editor.post(s(f"{quote(OTHER_ID)}/delete/")), 403),
        ("403 bulk delete", viewer.post(s("delete/"), {"session_ids": [OTHER_ID], "confirm": "yes"}), 403),
        ("400 host", viewer.get(s(""), HTTP_HOST="evil.example"), 400),
        ("400 host anonymous", anonymous.get(s(f"{quote(OTHER_ID)}/"), HTTP_HOST="evil.example"), 400),
        ("405", viewer.get(s(f"{quote(OTHER_ID)}/delete/")), 405),
        ("405 put", viewer.put(s(f"{quote(OTHER_ID)}/")), 405),
    ]
    csrf = Client(enforce_csrf_checks=True)
    csrf.force_login(make_user("root", superuser=True))
    errors.append(("403 csrf", csrf.post(s(f"{quote(OTHER_ID)}/delete/"), {"confirm": "yes"}), 403))
    for label, response, status in errors:
        assert response.status_code == status, (label, response.status_code)
        assert_no_leak(label, response)
    assert AgnoSession.objects.count() == 3


@override_settings(DEBUG=False)
def test_a_server_error_shows_nothing_either(sessions, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError(f"SELECT session_data FROM agno_sessions WHERE x = '{CANARY}'")

    monkeypatch.setattr(queries, "list_page", explode)
    monkeypatch.setattr(queries, "run_timeline", explode)
    client = client_for("viewer")
    client.raise_request_exception = False
    for url in (s(""), s(f"{quote(OTHER_ID)}/")):
        response = client.get(url)
        assert response.status_code == 500
        assert_no_leak(f"500 {url}", response)


def test_a_404_names_only_what_was_asked_for(sessions):
    """The 404 of one session says which id was not found, and nothing of any other session."""
    response = client_for("viewer").get(s(quote("other session!") + "/"))
    assert response.status_code == 404
    body = response.content.decode()
    assert "other session!" in body
    assert CANARY not in body
    assert "api_key" not in body
