"""Who may do what, for every URL of the app: anonymous, viewer, editor, deleter and superuser."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import URLPattern, reverse

from sessions_ui import urls
from sessions_ui.models import AgnoSession
from tests.conftest import make_user
from tests.factories import create_session, make_agent_run

pytestmark = pytest.mark.django_db

SESSION_ID = "perm/session ✓"
RUN_ID = "perm-run"
ROLES = ("anonymous", "viewer", "editor", "deleter", "superuser")
VIEW, CHANGE, DELETE = "view", "change", "delete"
NEEDS = {
    VIEW: {"viewer", "editor", "deleter", "superuser"},
    CHANGE: {"editor", "superuser"},
    DELETE: {"deleter", "superuser"},
}


@dataclass(frozen=True)
class Case:
    name: str  # the URL pattern's name in sessions_ui/urls.py
    method: str
    needs: str
    allowed_status: int
    args: tuple = ()
    data: dict = field(default_factory=dict)
    htmx: bool = False

    def url(self) -> str:
        return reverse(f"sessions_ui:{self.name}", args=self.args)

    def __str__(self) -> str:
        return f"{self.method} {self.name}{' (htmx)' if self.htmx else ''}"


CASES = [
    Case("list", "GET", VIEW, 200),
    Case("list", "GET", VIEW, 200, htmx=True),
    Case("detail", "GET", VIEW, 200, args=(SESSION_ID,)),
    Case("export", "GET", VIEW, 200, args=(SESSION_ID,)),
    Case("runs", "GET", VIEW, 200, args=(SESSION_ID,), htmx=True),
    Case("run", "GET", VIEW, 200, args=(SESSION_ID, RUN_ID), htmx=True),
    Case("compaction", "GET", VIEW, 302, args=(SESSION_ID, "perm-fold")),  # to the detail page that opens it
    Case("tool_result", "GET", VIEW, 404, args=(SESSION_ID, "res_0")),  # no offloaded results here
    Case("transcripts", "GET", VIEW, 200, args=(SESSION_ID,), htmx=True),
    Case("trace", "GET", VIEW, 200, args=(SESSION_ID, RUN_ID), htmx=True),  # "No trace recorded"
    Case("preview", "GET", VIEW, 200, args=(SESSION_ID,), htmx=True),
    Case("user", "GET", VIEW, 200, args=("ada@example.com",)),
    Case("audit", "GET", VIEW, 200),
    Case("list_export_csv", "GET", VIEW, 200),
    Case("list_export_jsonl", "GET", VIEW, 200),
    Case("edit", "GET", CHANGE, 200, args=(SESSION_ID,)),
    Case("edit", "GET", CHANGE, 200, args=(SESSION_ID,), htmx=True),
    Case("edit", "POST", CHANGE, 302, args=(SESSION_ID,), data={"session_name": "Renamed"}),
    Case("delete", "POST", DELETE, 200, args=(SESSION_ID,)),
    Case("delete", "POST", DELETE, 200, args=(SESSION_ID,), htmx=True),
    Case("bulk_delete", "POST", DELETE, 200, data={"session_ids": [SESSION_ID]}),
    Case("bulk_delete", "POST", DELETE, 200, data={"session_ids": [SESSION_ID]}, htmx=True),
]


@pytest.fixture
def session():
    return create_session(
        session_id=SESSION_ID,
        user_id="ada@example.com",
        runs=[make_agent_run(SESSION_ID, seed=3, run_id=RUN_ID)],
    )


def client_for(role: str) -> Client:
    client = Client()
    codenames = {
        "viewer": ["view_agnosession"],
        "editor": ["view_agnosession", "change_agnosession"],
        "deleter": ["view_agnosession", "delete_agnosession"],
    }
    if role == "superuser":
        client.force_login(make_user("root", superuser=True))
    elif role != "anonymous":
        client.force_login(make_user(role, *codenames[role]))
    return client


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_permission_matrix(role, case, session):
    data = dict(case.data)
    if case.name == "edit" and case.method == "POST":
        data["updated_at"] = session.updated_at
    headers = {"HX-Request": "true"} if case.htmx else {}
    client = client_for(role)
    before = AgnoSession.objects.filter(pk=SESSION_ID).values_list("session_data", "updated_at").first()

    response = getattr(client, case.method.lower())(case.url(), data, headers=headers)
    if response.streaming:  # read to its end, which closes its database cursor (the list's export)
        assert b"".join(response.streaming_content).startswith(b"session_id" if "csv" in case.name else b"{")

    if role == "anonymous" and case.htmx:
        assert response.status_code == 200  # the whole page goes to the login (HX-Redirect), nothing is swapped
        assert response["HX-Redirect"].startswith(reverse("login") + "?next=")
    elif role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login") + "?next=")
    elif role in NEEDS[case.needs]:
        assert response.status_code == case.allowed_status, response.content.decode()[:500]
    else:
        assert response.status_code == 403
    if role not in NEEDS[case.needs]:
        assert AgnoSession.objects.filter(pk=SESSION_ID).values_list("session_data", "updated_at").first() == before


def test_every_url_of_the_app_is_in_the_matrix():
    named = {pattern.name for pattern in urls.urlpatterns if isinstance(pattern, URLPattern) and pattern.name}
    assert named == {case.name for case in CASES}
    # The unnamed first pattern is the detail page again (for ids that read like another route).
    assert [pattern.callback for pattern in urls.urlpatterns if not pattern.name] == [urls.views.session_detail]


@pytest.mark.parametrize("path", ["/sessions/delete/", f"/sessions/{SESSION_ID}/delete/"])
@pytest.mark.parametrize("role", ROLES)
def test_get_on_post_only_urls_is_405_for_everyone(role, path, session):
    assert client_for(role).get(path).status_code == 405


def test_denied_deletes_and_edits_write_nothing(session):
    viewer = client_for("viewer")
    assert viewer.post(reverse("sessions_ui:delete", args=[SESSION_ID]), {"confirm": "yes"}).status_code == 403
    assert viewer.post(reverse("sessions_ui:bulk_delete"), {"all_matching": "1", "confirm": "yes"}).status_code == 403
    editor = client_for("editor")
    assert editor.post(reverse("sessions_ui:delete", args=[SESSION_ID]), {"confirm": "yes"}).status_code == 403
    assert AgnoSession.objects.filter(pk=SESSION_ID).exists()


BUTTONS = {
    "edit": f'href="{reverse("sessions_ui:edit", args=[SESSION_ID])}"',
    "delete": f'action="{reverse("sessions_ui:delete", args=[SESSION_ID])}"',
}


@pytest.mark.parametrize(
    ("role", "shown"),
    [("viewer", set()), ("editor", {"edit"}), ("deleter", {"delete"}), ("superuser", {"edit", "delete"})],
)
def test_detail_page_shows_only_the_buttons_the_user_may_use(role, shown, session):
    html = client_for(role).get(reverse("sessions_ui:detail", args=[SESSION_ID])).content.decode()
    assert {name for name, marker in BUTTONS.items() if marker in html} == shown


@pytest.mark.parametrize(
    ("role", "shown"), [("viewer", False), ("editor", False), ("deleter", True), ("superuser", True)]
)
def test_list_shows_the_bulk_delete_controls_only_to_deleters(role, shown, session):
    client = client_for(role)
    for url in (reverse("sessions_ui:list"), reverse("sessions_ui:user", args=["ada@example.com"])):
        html = client.get(url).content.decode()
        assert ('id="bulk-delete"' in html) is shown
        assert ('name="session_ids"' in html) is shown
        assert 'id="dialog-slot"' in html


def test_audit_link_is_shown_to_viewers(session):
    html = client_for("viewer").get(reverse("sessions_ui:list")).content.decode()
    assert f'href="{reverse("sessions_ui:audit")}"' in html


def test_login_page_and_logout(session):
    client = Client()
    response = client.post(reverse("login"), {"username": "nobody", "password": "wrong"})
    assert "did not match" in response.content.decode()
    make_user("ada", "view_agnosession")
    response = client.post(reverse("login"), {"username": "ada", "password": "pw"})
    assert response.status_code == 302
    assert client.get(reverse("sessions_ui:list")).status_code == 200
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("sessions_ui:list")).status_code == 302


def test_an_expired_login_during_htmx_sends_the_page_to_the_login_and_back_to_the_page(session):
    page = "/sessions/?q=Lisbon&live=1"
    response = Client().get(
        "/sessions/?q=Lisbon&live=1", headers={"HX-Request": "true", "HX-Current-URL": f"http://testserver{page}"}
    )
    assert response.status_code == 200 and response.content == b""
    assert response["HX-Redirect"] == f"{reverse('login')}?next={quote(page, safe='/')}"
    # A current URL of another origin is not followed: back to the fragment's own URL then.
    response = Client().post(
        f"/sessions/{SESSION_ID}/delete/", headers={"HX-Request": "true", "HX-Current-URL": "https://evil.example/x"}
    )
    fragment = f"/sessions/{quote(SESSION_ID)}/delete/"
    assert response["HX-Redirect"] == f"{reverse('login')}?next={quote(fragment)}"
