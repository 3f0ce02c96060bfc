"""Ids that are path segments ("..", "a/../b", "x/.") and very long ids: every URL built from an id is one that
browsers keep as it is (they resolve "." and ".." segments, even percent-encoded as %2E), and that
resolves back to that id; the pages, fragments and writes behind those URLs work for such ids.
"""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import unquote

import pytest
from django.urls import resolve

from sessions_ui.converters import ROUTE_SUFFIXES, id_from_path, id_to_path
from sessions_ui.models import AgnoSession
from sessions_ui.sources import reverse
from tests.factories import create_session, make_agent_run
from tests.hostile.support import HTMX

pytestmark = pytest.mark.django_db

HOSTILE_IDS = [
    "..",
    ".",
    "a/../b",
    "x/.",
    "./x",
    "../../accounts/password_change",
    "users/x/..",
    "x/../edit",
    "delete/..",
    "..~",
    ".~",
    "a/..~~/b",
    "...",
    "%2e%2e",
    ".%2E",
    "a//b",
    "x/",
    "/",
    "~",
]
LONG_ID = "é/" + "ü" * 5_000 + "/../" + "x" * 4_994  # 10,000 characters, some 20 KB once percent-encoded
DOT_SEGMENT = re.compile(r"(\.|%2e){1,2}", re.IGNORECASE)


def browser_path(path: str) -> str:
    """What a browser requests for `path`: the URL standard's dot-segment removal (%2E counts as a dot)."""
    output: list[str] = []
    segments = path.split("/")[1:]
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if DOT_SEGMENT.fullmatch(segment):
            if len(re.sub("%2e", ".", segment, flags=re.IGNORECASE)) == 2 and output:
                output.pop()
            if last:
                output.append("")
        else:
            output.append(segment)
    return "/" + "/".join(output)


def run_id(session_id: str) -> str:
    """A run id as hostile as its session's (one ending in a route's name, "/edit", would be that route's)."""
    return f"{session_id}/r"


def urls_of(session_id: str, run_id: str) -> dict[str, str]:
    return {
        "detail": reverse("sessions_ui:detail", args=[session_id]),
        "edit": reverse("sessions_ui:edit", args=[session_id]),
        "delete": reverse("sessions_ui:delete", args=[session_id]),
        "export": reverse("sessions_ui:export", args=[session_id]),
        "runs": reverse("sessions_ui:runs", args=[session_id]),
        "preview": reverse("sessions_ui:preview", args=[session_id]),
        "run": reverse("sessions_ui:run", args=[session_id, run_id]),
        "user": reverse("sessions_ui:user", args=[session_id]),
    }


@pytest.mark.parametrize("hostile", [*HOSTILE_IDS, LONG_ID], ids=lambda value: value[:30])
def test_every_url_of_an_id_is_kept_by_browsers_and_resolves_to_it(hostile):
    assert id_from_path(id_to_path(hostile)) == hostile
    for name, url in urls_of(hostile, run_id(hostile)).items():
        assert browser_path(url) == url, (name, url)
        match = resolve(unquote(url))  # what the server hands Django: the path, percent-decoded
        wanted = {"user_id": hostile} if name == "user" else {"session_id": hostile}
        if name == "run":
            wanted["run_id"] = run_id(hostile)
        if name == "detail":
            continue  # "x/../edit/" reads as the edit route unless that session exists: test_the_pages_...
        if name == "user" and hostile.rpartition("/")[2] in ROUTE_SUFFIXES:
            # /sessions/users/x/../edit/ is the edit form of the session "users/x/..": the routes share
            # /sessions/ (converters.py), whatever the dots.
            assert match.url_name == "edit"
            continue
        assert match.url_name == name, (url, match)
        assert match.kwargs == wanted, (name, url)


def test_ordinary_ids_keep_the_urls_they_always_had():
    assert reverse("sessions_ui:detail", args=["a/b c ✓"]) == "/sessions/a/b%20c%20%E2%9C%93/"
    assert reverse("sessions_ui:run", args=["s", "r.1"]) == "/sessions/s/runs/r.1/"
    assert reverse("sessions_ui:detail", args=["..."]) == "/sessions/.../"
    assert reverse("sessions_ui:detail", args=[".."]) == "/sessions/..~/"


@pytest.fixture
def hostile_sessions():
    for number, session_id in enumerate([*HOSTILE_IDS, LONG_ID]):
        run = make_agent_run(session_id, run_id=run_id(session_id), seed=number + 1)
        create_session(
            session_id=session_id, user_id=session_id, runs=[run], session_data={"session_name": f"H{number}"}
        )


def shown_id(html: str) -> str:
    return unescape(re.search(r"<code data-copy-source>(.*?)</code>", html, re.S).group(1))


@pytest.mark.parametrize("hostile", [*HOSTILE_IDS, LONG_ID], ids=lambda value: value[:30])
def test_the_pages_of_an_id_open_edit_and_delete_it(admin_client, hostile_sessions, hostile):
    urls = urls_of(hostile, run_id(hostile))
    detail = admin_client.get(urls["detail"])
    assert detail.status_code == 200 and shown_id(detail.content.decode()) == hostile
    # The links the detail page builds are the ones reverse() builds.
    html = detail.content.decode()
    for name in ("edit", "export", "run"):
        assert f'"{urls[name]}"' in html, name
    assert admin_client.get(urls["run"], **HTMX).status_code == 200
    assert admin_client.get(urls["preview"], **HTMX).status_code == 200
    assert admin_client.get(urls["runs"], **HTMX).status_code == 200
    assert admin_client.get(urls["user"]).status_code == 200
    assert admin_client.get(urls["export"]).json()["session_id"] == hostile
    row = AgnoSession.objects.get(pk=hostile)
    edit = admin_client.post(urls["edit"], {"session_name": "renamed", "updated_at": row.updated_at})
    assert edit.status_code == 302 and edit["Location"] == urls["detail"]
    assert "renamed" in AgnoSession.objects.get(pk=hostile).session_data
    assert admin_client.post(urls["delete"], {"confirm": "yes"}).status_code == 302
    assert not AgnoSession.objects.filter(pk=hostile).exists()
    assert AgnoSession.objects.count() == len(HOSTILE_IDS)  # the others are all there


def test_the_list_links_to_every_hostile_id(admin_client, hostile_sessions):
    html = admin_client.get("/sessions/").content.decode()
    hrefs = set(re.findall(r'href="(/sessions/[^"?]*)"', html))
    for session_id in [*HOSTILE_IDS, LONG_ID]:
        detail = reverse("sessions_ui:detail", args=[session_id])
        assert detail in hrefs, session_id[:30]


@pytest.mark.sqlite  # its own SQLite file and gunicorn, whatever the leg: once is enough
def test_a_10000_character_id_opens_edits_and_deletes_under_gunicorn(tmp_path):
    """gunicorn (with the project's gunicorn.conf.py) serves URLs and headers as long as such an id makes them."""
    import http.cookiejar
    import os
    import sqlite3
    import subprocess
    import sys
    import time
    import urllib.parse

    from tests.test_shared_cache import ROOT, Instance, wait_for

    database = tmp_path / "long.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGNO_", "TEST_DATABASE", "DJANGO_SETTINGS"))}
    env.update(
        DATABASE_URL=f"sqlite:///{database}",
        CACHE_URL="locmem://",
        SECRET_KEY="long-ids-" + "k" * 50,
        DEBUG="0",
        ALLOWED_HOSTS="127.0.0.1",
    )
    for command in (
        ["migrate", "--no-input", "-v0"],
        ["dashboard_user", "root", "--role", "admin", "--password", "pw-root-1"],
    ):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True)
    with sqlite3.connect(database) as db:
        db.execute(
            "INSERT INTO agno_sessions (session_id, session_type, session_data, created_at, updated_at)"
            " VALUES (?, 'agent', '{\"session_name\": \"Long\"}', ?, ?)",
            [LONG_ID, int(time.time()), int(time.time())],
        )
    server = Instance(env, http.cookiejar.CookieJar())
    try:
        wait_for(server.ready, f"gunicorn on {server.url}")
        server.login("root", "pw-root-1")
        detail = reverse("sessions_ui:detail", args=[LONG_ID])
        assert len(detail) > 20_000
        assert shown_id(server.get(detail)) == LONG_ID
        htmx = {"HX-Request": "true", "HX-Current-URL": server.url + detail}
        assert "Open the session" in server.get(reverse("sessions_ui:preview", args=[LONG_ID]), htmx)
        form = server.get(reverse("sessions_ui:edit", args=[LONG_ID]))
        fields = {
            name: unescape(re.search(rf'name="{name}" value="([^"]*)"', form).group(1))
            for name in ("csrfmiddlewaretoken", "updated_at", "version")
        }

        def post(url: str, data: dict) -> str:
            body = urllib.parse.urlencode(data).encode()
            with server.opener.open(server.url + url, body, timeout=20) as response:
                return response.read().decode()

        assert "Renamed" in post(reverse("sessions_ui:edit", args=[LONG_ID]), fields | {"session_name": "Renamed"})
        token = {"csrfmiddlewaretoken": fields["csrfmiddlewaretoken"], "confirm": "yes"}
        assert "Deleted session" in post(reverse("sessions_ui:delete", args=[LONG_ID]), token)
    finally:
        server.stop()
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT COUNT(*) FROM agno_sessions").fetchone() == (0,)
