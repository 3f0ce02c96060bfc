"""Several sources in one dashboard (issue 14): every page per source, through its own URLs.

The sources are real agno's (tests/agno/fixtures.py, agno_sources_written): `support` (agno 3.1.10, a
custom session table beside the default source's), `archive` (agno 2.9.0, a second SQLite file) and,
on PostgreSQL, `lab` (agno 3.1.10, a custom table in schema `lab`). The default source stays at /sessions/.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import pytest
from django.contrib.admin.models import LogEntry

from sessions_ui.schema import has_runs_table
from sessions_ui.sources import get_source, using_source
from tests.conftest import make_user
from tests.factories import create_session

pytestmark = [pytest.mark.agno, pytest.mark.django_db(databases="__all__")]


def source_ids(several_sources) -> list[str]:
    return [config["id"] for config in several_sources.configs]


def base(source_id: str) -> str:
    return f"/sources/{source_id}/sessions/"


def stored(source_id: str, session_id: str):
    with using_source(get_source(source_id)):
        return get_source(source_id).Session.objects.filter(pk=session_id).first()


def test_each_source_lists_its_own_sessions_and_the_default_keeps_its_urls(several_sources, admin_client):
    default_row = create_session(session_id="default-only")
    for source_id in source_ids(several_sources):
        html = admin_client.get(base(source_id)).content.decode()
        expected = several_sources.written[source_id].session_ids
        for session_id in expected:
            assert quote(session_id, safe="/") in html or session_id in html
        for other in source_ids(several_sources):
            if other != source_id:
                assert f"{other}-agent-weather" not in html
        assert default_row.session_id not in html
        # Links stay in the source: its detail pages, its own list.
        assert f'href="{base(source_id)}{source_id}-agent-weather/"' in html
    html = admin_client.get("/sessions/").content.decode()
    assert "default-only" in html and "support-agent-weather" not in html


def test_filters_choices_search_and_user_pages_per_source(several_sources, admin_client):
    for source_id in source_ids(several_sources):
        url = base(source_id)
        html = admin_client.get(url, {"agent_id": f"{source_id}-weather-agent"}).content.decode()
        assert f"{source_id}-agent-weather" in html and f"{source_id}-team-travel" not in html
        choices = admin_client.get(url, headers={"HX-Request": "true", "HX-Target": "filter-choices"}).content.decode()
        assert f"{source_id}-travel-team" in choices
        assert all(f"{other}-travel-team" not in choices for other in source_ids(several_sources) if other != source_id)
        html = admin_client.get(url, {"q": "Lisbon weather"}).content.decode()
        assert f"{source_id}-agent-weather" in html and f"{source_id}-workflow-blog" not in html
        html = admin_client.get(f"{url}users/ada@example.com/").content.decode()
        assert f"{source_id}-agent-weather" in html and f"{source_id}-workflow-report" in html
        assert f"{source_id}-team-travel" not in html


def test_detail_runs_and_export_per_source(several_sources, admin_client):
    for source_id in source_ids(several_sources):
        entry = several_sources.written[source_id].session("agent-weather")
        detail = f"{base(source_id)}{entry['session_id']}/"
        html = admin_client.get(detail).content.decode()
        assert "Lisbon weather" in html
        assert f'href="{detail}export/"' in html
        exported = json.loads(admin_client.get(f"{detail}export/").content)
        assert exported["session_id"] == entry["session_id"]
        assert len(exported["runs"]) == len(entry["runs"]) == 3
        # The awkward id works in every source too.
        awkward = several_sources.written[source_id].session("sql session/ü 1")["session_id"]
        assert admin_client.get(f"{base(source_id)}{quote(awkward)}/").status_code == 200
        # The same id in another source is another session: 404 there.
        assert admin_client.get(f"/sessions/{entry['session_id']}/").status_code == 404


def test_edit_per_source_writes_its_table_and_the_audit_names_the_source(several_sources, admin_client):
    for source_id in source_ids(several_sources):
        session_id = f"{source_id}-agent-weather"
        row = stored(source_id, session_id)
        response = admin_client.post(
            f"{base(source_id)}{session_id}/edit/",
            {"session_name": f"Renamed in {source_id}", "updated_at": row.updated_at},
        )
        assert response.status_code == 302 and response["Location"] == f"{base(source_id)}{session_id}/"
        assert f"Renamed in {source_id}" in stored(source_id, session_id).session_data
        audit = admin_client.get(f"{base(source_id)}audit/").content.decode()
        assert session_id in audit and get_source(source_id).name in audit
        assert f'href="{base(source_id)}{session_id}/"' in audit
    default_audit = admin_client.get("/sessions/audit/").content.decode()
    assert "agent-weather" not in default_audit
    entry = LogEntry.objects.get(object_id="support-agent-weather")
    assert str(entry.content_type) == "Agno sources | session (Support agent)"


def test_delete_and_bulk_delete_per_source(several_sources, admin_client):
    for source_id in source_ids(several_sources):
        session_id = f"{source_id}-team-travel"
        source = get_source(source_id)
        runs_table = has_runs_table(source)
        if runs_table:  # agno 3.x: the runs rows go with the session
            assert source.Run.objects.filter(session_id=session_id).count() == 3
        url = f"{base(source_id)}{session_id}/delete/"
        confirmation = admin_client.post(url).content.decode()
        assert session_id in confirmation and f'action="{url}"' in confirmation
        response = admin_client.post(url, {"confirm": "yes"})
        assert response.status_code == 302 and response["Location"] == base(source_id)
        assert stored(source_id, session_id) is None
        assert runs_table == (several_sources.written[source_id].version != "2.9.0")
        if runs_table:
            assert not source.Run.objects.filter(session_id=session_id).exists()
        doomed = [f"{source_id}-workflow-blog", f"{source_id}-workflow-report"]
        response = admin_client.post(f"{base(source_id)}delete/", {"session_ids": doomed, "confirm": "yes"})
        assert response.status_code == 302
        assert all(stored(source_id, session_id) is None for session_id in doomed)
        assert stored(source_id, f"{source_id}-agent-weather") is not None
        assert LogEntry.objects.filter(object_id__in=doomed).count() == 2


def test_an_unknown_source_is_a_404_and_anonymous_requests_log_in_first(several_sources, client, admin_client):
    assert admin_client.get("/sources/nope/sessions/").status_code == 404
    assert admin_client.get("/sources/nope/").status_code == 404
    for path in ("/sources/support/sessions/", "/sources/nope/sessions/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")
        # htmx: the whole page goes to the login, the login form is not swapped into the results.
        response = client.get(path, headers={"HX-Request": "true"})
        assert response.status_code == 200 and response["HX-Redirect"].startswith("/accounts/login/?next=")


def test_a_viewer_of_one_source_cannot_reach_the_others(several_sources, client):
    user = make_user("support-viewer")
    support = get_source("support")
    from django.contrib.auth.models import Permission

    user.user_permissions.set(
        [Permission.objects.get(content_type__app_label="agno_sources", codename="view_session_support")]
    )
    client.force_login(user)
    assert client.get(base("support")).status_code == 200
    assert client.get(f"{base('support')}support-agent-weather/").status_code == 200
    for source_id in source_ids(several_sources):
        if source_id != "support":
            for path in ("", "support-agent-weather/", f"{source_id}-agent-weather/", "audit/"):
                assert client.get(base(source_id) + path).status_code == 404
    assert client.get("/sessions/").status_code == 403  # the default source's URLs are no secret
    # Viewing is not editing: 403 on the source it may see.
    row = stored("support", "support-agent-weather")
    response = client.post(
        f"{base('support')}support-agent-weather/edit/", {"session_name": "x", "updated_at": row.updated_at}
    )
    assert response.status_code == 403
    assert support.visible_to(user) and not get_source("archive").visible_to(user)


def menu_links(html: str) -> list[tuple[str, str]]:
    """(href, source name) of each entry of the header's source menu."""
    menu = html.split('<details class="source-menu">', 1)[1].split("</details>", 1)[0]
    return re.findall(r'<a href="([^"]*)"[^>]*>\s*<span class="source-name">([^<]*)</span>', menu)


def test_the_menu_lists_every_source_with_its_count_and_keeps_the_page_kind(several_sources, admin_client, settings):
    create_session(session_id="default-only")
    html = admin_client.get(base("support"), {"user_id": "ada@example.com", "sort": "created_at"}).content.decode()
    expected = [("/sessions/", settings.AGNO_SESSION_TABLE)] + [
        (base(config["id"]), config["name"]) for config in several_sources.configs
    ]
    assert menu_links(html) == expected  # the list of each source, without this list's filters
    assert '<summary title="Which Agno session table is shown">Support agent</summary>' in html
    assert 'href="/sources/support/sessions/" aria-current="page"' in html
    menu = html.split('<details class="source-menu">', 1)[1].split("</details>", 1)[0]
    assert menu.count('<span class="muted">6</span>') == len(several_sources.configs)  # agno wrote six in each
    assert menu.count('<span class="muted">1</span>') == 1  # the default source's one
    audit = admin_client.get(f"{base('archive')}audit/").content.decode()
    assert [href for href, _ in menu_links(audit)] == ["/sessions/audit/"] + [
        f"{base(config['id'])}audit/" for config in several_sources.configs
    ]


def test_dashboard_user_grants_a_role_per_source(several_sources, client):
    from django.contrib.auth.models import User
    from django.core.management import CommandError, call_command

    call_command("dashboard_user", "ana", "--role", "editor", "--source", "support", "--password", "pw-ana-1")
    call_command("dashboard_user", "ana", "--role", "viewer", "--source", "archive", "--keep-password")
    ana = User.objects.get(username="ana")
    assert not ana.is_superuser and not ana.is_staff
    assert ana.get_all_permissions() == {
        "agno_sources.view_session_support",
        "agno_sources.change_session_support",
        "agno_sources.view_session_archive",
    }
    client.force_login(ana)
    html = client.get(base("archive")).content.decode()
    assert [name for _, name in menu_links(html)] == ["Support agent", "Archive (2.x)"]  # not the others
    assert client.get("/sessions/").status_code == 403
    row = stored("support", "support-agent-weather")
    edit = {"session_name": "By ana", "updated_at": row.updated_at}
    assert client.post(f"{base('support')}support-agent-weather/edit/", edit).status_code == 302
    row = stored("archive", "archive-agent-weather")
    edit = {"session_name": "By ana", "updated_at": row.updated_at}
    assert client.post(f"{base('archive')}archive-agent-weather/edit/", edit).status_code == 403
    # Again with another role: that source's permissions are replaced, the others kept.
    call_command("dashboard_user", "ana", "--role", "admin", "--source", "archive", "--keep-password")
    ana = User.objects.get(username="ana")
    assert {p for p in ana.get_all_permissions() if "archive" in p} == {
        "agno_sources.view_session_archive",
        "agno_sources.change_session_archive",
        "agno_sources.delete_session_archive",
    }
    assert "agno_sources.change_session_support" in ana.get_all_permissions() and not ana.is_superuser
    with pytest.raises(CommandError, match=r"There is no source 'nope' \(known: default, support, archive"):
        call_command("dashboard_user", "ana", "--source", "nope")


def test_per_source_permissions_are_managed_in_the_django_admin(several_sources, admin_client):
    from django.contrib.auth.models import User

    ana = make_user("ana")
    html = admin_client.get(f"/admin/auth/user/{ana.pk}/change/").content.decode()
    for config in several_sources.configs:
        for action in ("view", "change", "delete"):
            assert f"Agno sources | session ({config['name']}) | Can {action} session ({config['name']})" in html
    permission = get_source("archive").permission("view")
    assert not User.objects.get(pk=ana.pk).has_perm(permission)


def database_url(connection) -> str:
    """The dj-database-url URL of a Django connection (the test database)."""
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings_dict['NAME']}"
    auth = settings_dict["USER"] + (f":{settings_dict['PASSWORD']}" if settings_dict["PASSWORD"] else "")
    return f"postgres://{auth}@{settings_dict['HOST'] or 'localhost'}:{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"


def discover(url: str) -> tuple[list[str], str]:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("agno_sources", "discover", url, stdout=out)
    report, toml = out.getvalue().split("\nFor the sources file (AGNO_SOURCES_FILE):\n")
    return report.splitlines(), toml


def test_discover_finds_exactly_the_agno_session_tables_and_prints_their_toml(several_sources):
    from django.db import connections

    from sessions_ui.source_config import parse_sources

    archive_file = connections["agno-archive"].settings_dict["NAME"]
    report, toml = discover(f"sqlite:///{archive_file}")
    assert report == ["agno_sessions  layout 2.x  no runs table  6 sessions"]  # agno 2.9.0 keeps runs inline
    [spec] = parse_sources(toml, {})
    assert (spec.url, spec.schema, spec.session_table, spec.runs_table) == (
        f"sqlite:///{archive_file}",
        None,
        "agno_sessions",
        "agno_runs",
    )

    connection = connections["default"]
    report, toml = discover(database_url(connection))
    support_schema = several_sources.configs[0]["schema"]  # the default source's: "ai" on PostgreSQL
    schema = f"{support_schema}." if support_schema else ""
    assert f"{schema}support_sessions  layout 3.x  runs table support_sessions_runs  6 sessions" in report
    assert any(line.startswith(f"{schema}agno_sessions  ") for line in report)  # the default source's, made by migrate
    if connection.vendor == "postgresql":
        assert "lab.lab_sessions  layout 3.x  runs table lab_sessions_runs  6 sessions" in report
    tables = [line.split()[0] for line in report]
    assert all(table.endswith("sessions") for table in tables), tables  # no runs, auth or cache table
    specs = parse_sources(toml, {"AGNO_DISCOVERED_URL": database_url(connection)})
    assert {spec.session_table for spec in specs} >= {"support_sessions", "agno_sessions"}
    [support] = [spec for spec in specs if spec.session_table == "support_sessions"]
    assert support.runs_table == "support_sessions_runs" and (support.schema or "") == schema.rstrip(".")


def test_discover_tells_a_mixed_layout(several_sources, fake_openai_url, tmp_path):
    from tests.agno import AGNO_VERSIONS, AgnoDb, write_with_agno

    mixed = tmp_path / "mixed.db"
    db = AgnoDb(f"sqlite:///{mixed}", None, "agno_sessions", "agno_runs")
    for version in AGNO_VERSIONS:  # 2.x writes a run inline, then 3.x adds one in agno_runs
        write_with_agno(version, db, fake_openai_url, "agent", "both", "weather-agent", "ada@example.com", "Weather?")
    report, _ = discover(f"sqlite:///{mixed}")
    assert report == ["agno_sessions  layout mixed  runs table agno_runs  1 sessions"]


def test_discover_refuses_an_unreadable_url(several_sources):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="Cannot read"):
        discover("postgres://nobody@127.0.0.1:1/nothing")


def test_agno_sources_list_and_agno_indexes_per_source(several_sources):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("agno_sources", "list", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("default  ") and lines[0].endswith("/sessions/")
    assert any(
        line.startswith(
            "archive  'Archive (2.x)'  database agno-archive  table agno_sessions  runs agno_runs  sessions 6"
        )
        for line in lines
    )
    out = StringIO()
    call_command("agno_indexes", "--source", "archive", "--apply", stdout=out)
    with get_source("archive").connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'agno_sessions'")
        indexes = {row[0] for row in cursor.fetchall()}
    assert any("user_id" in name for name in indexes), indexes


@contextmanager
def database_added(alias: str, database: dict) -> Iterator[None]:
    """A connection under `alias` for the test's body only, outside its transaction (it may be down).

    Not in connections.settings: Django's TestCase refuses connections to configured aliases that the
    test did not declare, and declaring a down database would fail the test's set-up.
    """
    from django.db import connections
    from django.db.utils import load_backend

    settings_dict = connections.configure_settings({"default": database})["default"]
    connection = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, alias)
    setattr(connections._connections, alias, connection)
    try:
        yield
    finally:
        connection.close()
        delattr(connections._connections, alias)


def test_a_source_whose_database_is_down_says_so_and_the_others_work(agno_sources_written, admin_client):
    from tests.agno.fixtures import sources_configured

    nobody_listens = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "agno",
        "USER": "agno",
        "HOST": "127.0.0.1",
        "PORT": "1",
    }
    down = {"id": "down", "name": "Staging", "alias": "agno-down", "schema": "ai",
            "session_table": "agno_sessions", "runs_table": "agno_runs"}  # fmt: skip
    with database_added("agno-down", nobody_listens), sources_configured([*agno_sources_written.configs, down]):
        for path in ("", "some-session/", "some-session/edit/", "users/ada@example.com/", "some-session/export/"):
            response = admin_client.get(f"{base('down')}{path}")
            assert response.status_code == 503, path
            html = response.content.decode()
            assert "<h1>Staging is unavailable</h1>" in html and response["Retry-After"] == "30"
            assert f'href="{base("down")}"' in html  # try again
        response = admin_client.post(f"{base('down')}some-session/delete/", {"confirm": "yes"})
        assert response.status_code == 503
        # A fragment of its pages: the fault fragment (static/js/app.js shows it in place), naming the source.
        response = admin_client.get(base("down"), headers={"HX-Request": "true"})
        assert response.status_code == 503 and response["X-Dashboard-Fault"] == "unreachable"
        assert "url of source “down” (AGNO_SOURCES_FILE)" in response.content.decode()
        # Its audit log is in the dashboard's database: still there.
        assert admin_client.get(f"{base('down')}audit/").status_code == 200
        for url in ("/sessions/", base("support"), base("archive")):
            html = admin_client.get(url).content.decode()
            assert menu_links(html)[-1] == (base("down"), "Staging")
            menu = html.split('<details class="source-menu">', 1)[1].split("</details>", 1)[0]
            assert menu.count('<span class="badge error">down</span>') == 1
            assert menu.count('<span class="muted">6</span>') == len(agno_sources_written.configs)


def test_the_django_admin_shows_each_sources_sessions_read_only(several_sources, admin_client):
    for source_id in source_ids(several_sources):
        changelist = admin_client.get(f"/admin/agno_sources/session_{source_id}/").content.decode()
        assert f"{source_id}-agent-weather" in changelist and "6 sessions" in changelist
        assert "default-only" not in changelist
        row = stored(source_id, f"{source_id}-agent-weather")
        change = admin_client.get(f"/admin/agno_sources/session_{source_id}/{quote(row.pk)}/change/").content.decode()
        assert f'href="{base(source_id)}{source_id}-agent-weather/"' in change  # its dashboard page
        assert "Lisbon weather" in change
        runs_link = f"/admin/agno_sources/run_{source_id}/?session_id={source_id}-agent-weather"
        assert (runs_link in change) == has_runs_table(get_source(source_id))
    index = admin_client.get("/admin/").content.decode()
    assert "Agno sources" in index and "Sessions (Archive (2.x))" in index


def test_the_checks_accept_agnos_tables_and_warn_of_a_down_source(agno_sources_written):
    from sessions_ui.schema import check_source_tables
    from tests.agno.fixtures import sources_configured

    with sources_configured(agno_sources_written.configs):
        assert check_source_tables(databases=["default"]) == []
    nobody_listens = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "agno",
        "USER": "agno",
        "HOST": "127.0.0.1",
        "PORT": "1",
    }
    down = {"id": "down", "name": "Staging", "alias": "agno-down", "schema": "ai",
            "session_table": "agno_sessions", "runs_table": "agno_runs"}  # fmt: skip
    missing = {**agno_sources_written.configs[0], "id": "gone", "session_table": "no_such_table"}
    with database_added("agno-down", nobody_listens), sources_configured([down, missing]):
        warning, error = check_source_tables(databases=["default"])
    assert warning.id == "sessions_ui.W001" and warning.msg.startswith("sources.down: its database does not answer")
    assert error.id == "sessions_ui.E001" and "sources.gone.session_table: " in error.msg
    assert error.msg.endswith("no_such_table does not exist: not an Agno session table")


def test_fragments_and_a_filtered_bulk_delete_per_source(several_sources, admin_client):
    htmx = {"HX-Request": "true"}
    for source_id in source_ids(several_sources):
        session_id = f"{source_id}-agent-weather"
        preview = admin_client.get(f"{base(source_id)}{session_id}/preview/", headers=htmx).content.decode()
        assert "get_weather" in preview or "Lisbon" in preview
        assert f'href="{base(source_id)}{session_id}/' in preview
        runs = admin_client.get(f"{base(source_id)}{session_id}/runs/", {"page": 1}, headers=htmx)
        assert runs.status_code == 200 and "Lisbon" in runs.content.decode()
        run_id = several_sources.written[source_id].session("agent-weather")["runs"][0]["run_id"]
        run = admin_client.get(f"{base(source_id)}{session_id}/runs/{run_id}/", headers=htmx)
        assert run.status_code == 200 and "get_weather" in run.content.decode()

        filters = {"all_matching": "1", "user_id": "ada@example.com"}
        confirmation = admin_client.post(f"{base(source_id)}delete/", filters).content.decode()
        assert "Delete 2 sessions?" in confirmation and 'name="expected" value="2"' in confirmation
        fingerprint = re.search(r'name="fingerprint" value="([0-9a-f]+)"', confirmation).group(1)  # what it showed
        response = admin_client.post(
            f"{base(source_id)}delete/", filters | {"confirm": "yes", "fingerprint": fingerprint}
        )
        assert response.status_code == 302 and response["Location"].startswith(base(source_id))
        for suffix in ("agent-weather", "workflow-report"):
            assert stored(source_id, f"{source_id}-{suffix}") is None
        assert stored(source_id, f"{source_id}-team-travel") is not None


def test_after_login_a_user_of_one_source_lands_on_its_list(several_sources, client):
    from django.contrib.auth.models import Permission

    user = make_user("archivist")
    user.user_permissions.set([Permission.objects.get(codename="view_session_archive")])
    response = client.post("/accounts/login/", {"username": "archivist", "password": "pw"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/")["Location"] == base("archive")
    client.logout()
    assert client.get("/")["Location"] == "/sessions/"  # anyone else: the default source's (then the login)
