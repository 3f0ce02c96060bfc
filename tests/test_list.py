"""The sessions list (issue 3): filters, search, sort, pagination, fragments, query counts, bad input,
the user page and the inline expansion."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from html import unescape
from urllib.parse import quote, unquote, urlencode

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sessions_ui import queries
from sessions_ui.bulk_write import write_sessions
from sessions_ui.converters import id_from_path
from sessions_ui.demo import make_session
from sessions_ui.models import AgnoSession
from sessions_ui.schema import agno_connection, has_inline_runs, has_runs_table, has_trace_tables, layout
from tests.factories import create_session, make_agent_run

pytestmark = pytest.mark.django_db

NOW = int(time.time())
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "results"}


@pytest.fixture(autouse=True)
def _no_cached_choices():
    cache.clear()
    yield
    cache.clear()


def shown(response) -> list[str]:
    """Session ids of the rows, in order (from the HTML: fragments carry no test-client context)."""
    return [
        id_from_path(unquote(unescape(href)))  # dot segments come tilded (sessions_ui/converters.py)
        for href in re.findall(r'<tbody class="session-row" data-href="/sessions/(.*?)/">', response.text)
    ]


def rows_by_id(response) -> dict:
    return {row.session.session_id: row for row in response.context["page"].rows}


def epoch(day: str) -> int:
    return int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp())


@pytest.fixture
def variety():
    """Sessions of each type, owner and user, with distinct names and creation days."""
    create_session(
        session_id="a1",
        user_id="ada@example.com",
        agent_id="weather-agent",
        session_data={"session_name": "Rain in Lisbon"},
        created_at=epoch("2026-01-10T12:00:00"),
    )
    create_session(
        session_id="a2",
        user_id="grace@example.org",
        agent_id="research-agent",
        session_data={"session_name": "Battery research"},
        created_at=epoch("2026-01-11T08:00:00"),
    )
    create_session(
        session_id="t1",
        session_type="team",
        agent_id=None,
        team_id="travel-team",
        user_id="ada@example.com",
        session_data={"session_name": "Kyoto trip"},
        team_data={"name": "Travel Planner", "team_id": "travel-team"},
        created_at=epoch("2026-01-12T23:59:59"),
    )
    create_session(
        session_id="w1",
        session_type="workflow",
        agent_id=None,
        workflow_id="blog-post-workflow",
        user_id="grace@example.org",
        session_data={"session_name": "Blog about HTMX"},
        workflow_data={"name": "Blog Post Generator", "workflow_id": "blog-post-workflow"},
        created_at=epoch("2026-01-13T00:00:00"),
    )


# --- columns ---------------------------------------------------------------------------------


def test_row_shows_every_column(admin_client):
    run = make_agent_run("full", question="Will it rain?")
    create_session(
        session_id="full",
        user_id="ada@example.com",
        session_data={"session_name": "Weather chat", "session_metrics": {"total_tokens": 12345}},
        summary={"summary": "Talked about rain.", "topics": ["weather"]},
        runs=[run],
    )
    response = admin_client.get("/sessions/")
    assert response.status_code == 200
    html = response.text
    row = rows_by_id(response)["full"]
    assert row.session.name == "Weather chat"
    assert row.component_name == "Research Assistant"
    assert row.runs == 1
    for text in ("Weather chat", "full", "badge agent", "Research Assistant", "research-agent", "ada@example.com"):
        assert text in html
    assert "12,345" in html
    assert "✓ summary" in html
    assert 'href="/sessions/full/"' in html
    assert 'href="/sessions/users/ada@example.com/"' in html
    assert re.search(
        r'<time datetime="[^"]+" title="\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC">(\d{4}-)?\d\d-\d\d \d\d:\d\d UTC</time>'
        r' <span class="ago">1\shour ago</span>',
        html,
    )


@pytest.mark.parametrize("run_layout", ["2", "3"])
def test_unnamed_session_is_named_after_its_first_user_message(admin_client, run_layout):
    first = make_agent_run("unnamed", question="First question", created_at=NOW - 500, seed=1)
    second = make_agent_run("unnamed", question="Second question", created_at=NOW - 400, seed=2)
    create_session(session_id="unnamed", session_data={"session_state": {}}, runs=[first, second], layout=run_layout)
    row = rows_by_id(admin_client.get("/sessions/"))["unnamed"]
    assert row.session.name == "First question"
    assert row.runs == 2


@pytest.mark.parametrize("run_layout", ["2", "3"])
def test_team_member_runs_are_not_counted_nor_used_as_name(admin_client, run_layout):
    demo = make_session(3, now=NOW, runs=2)  # a team session: each team run has two member runs stored flat
    demo.row["session_data"].pop("session_name", None)
    write_sessions(agno_connection(), [demo], layout=run_layout)
    row = rows_by_id(admin_client.get("/sessions/"))[demo.row["session_id"]]
    team_runs = [run for run in demo.runs if not run.get("parent_run_id")]
    assert row.runs == 2
    assert row.session.name == team_runs[0]["input"]["input_content"]


def test_mixed_layouts_add_up(admin_client):
    old = make_agent_run("mixed", question="Old", created_at=NOW - 900, seed=3)
    create_session(session_id="mixed", runs=[old], layout="2")
    new = make_agent_run("mixed", question="New", created_at=NOW - 100, seed=4)
    write_sessions(agno_connection(), [], layout="3")
    with agno_connection().cursor() as cursor:
        from sessions_ui.bulk_write import RUN_COLUMNS
        from sessions_ui.schema import quoted_table

        cursor.execute(
            f"INSERT INTO {quoted_table('agno_runs')} ({', '.join(RUN_COLUMNS)}) VALUES ({', '.join(['%s'] * 13)})",
            [new["run_id"], "mixed", "agent", None, None, None, None, None, "COMPLETED", 1, json.dumps(new), NOW, NOW],
        )
    assert rows_by_id(admin_client.get("/sessions/"))["mixed"].runs == 2


def test_list_never_reads_runs_or_component_json(admin_client):
    create_session(runs=[make_agent_run("x")], layout="2")
    with CaptureQueriesContext(connection) as captured:
        admin_client.get("/sessions/")
    page_query = next(q["sql"] for q in captured.captured_queries if "LIMIT 51" in q["sql"])
    # The inline runs' stored size, which parses nothing (the big ones are counted apart: test_list_runs.py).
    assert re.search(r'(pg_column_size|length)\((\S+\.)?"runs"\) AS "inline_runs_size"', page_query)
    for column in ("runs", "agent_data", "team_data", "workflow_data", "metadata"):
        # Selected as a column of its own: only the component's name is read from these, in SQL.
        assert not re.search(rf'(SELECT|,)\s*(\S+\.)?"{column}"\s*(,|FROM)', page_query)
    assert "->> 'name'" in page_query or "'$.name'" in page_query


# --- filters -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("type=agent", ["a2", "a1"]),
        ("type=team", ["t1"]),
        ("type=workflow", ["w1"]),
        ("agent_id=weather-agent", ["a1"]),
        ("team_id=travel-team", ["t1"]),
        ("workflow_id=blog-post-workflow", ["w1"]),
        ("user_id=ada%40example.com", ["t1", "a1"]),
        ("q=lisbon", ["a1"]),
        ("q=KYOTO", ["t1"]),
        ("q=w1", ["w1"]),
        ("created_after=2026-01-12", ["w1", "t1"]),
        ("created_before=2026-01-12", ["t1", "a2", "a1"]),
        ("created_after=2026-01-11&created_before=2026-01-12", ["t1", "a2"]),
    ],
)
def test_each_filter_alone(admin_client, variety, query, expected):
    response = admin_client.get(f"/sessions/?{query}")
    assert response.status_code == 200
    assert shown(response) == expected
    assert not response.context["notices"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("type=agent&user_id=ada%40example.com", ["a1"]),
        ("user_id=grace%40example.org&q=blog", ["w1"]),
        ("type=team&team_id=travel-team&user_id=ada%40example.com&created_after=2026-01-12", ["t1"]),
        ("type=agent&team_id=travel-team", []),
        ("user_id=ada%40example.com&sort=created_at", ["a1", "t1"]),
        ("q=r", ["t1", "a2", "a1"]),
        ("q=r&sort=created_at", ["a1", "a2", "t1"]),
    ],
)
def test_filters_combine(admin_client, variety, query, expected):
    assert shown(admin_client.get(f"/sessions/?{query}")) == expected


def test_no_match_says_why_and_offers_a_reset(admin_client, variety):
    html = admin_client.get("/sessions/?user_id=nobody").text
    assert "No sessions match these filters." in html
    assert 'href="/sessions/">Reset filters' in html


def test_empty_database_says_no_sessions_yet(admin_client):
    html = admin_client.get("/sessions/").text
    assert "No sessions yet." in html
    assert "seed_demo" in html


def test_search_escapes_like_wildcards(admin_client):
    create_session(session_id="pct", session_data={"session_name": "100% done"})
    create_session(session_id="under", session_data={"session_name": "snake_case"})
    create_session(session_id="plain", session_data={"session_name": "nothing special"})
    assert shown(admin_client.get("/sessions/?q=%25")) == ["pct"]
    assert shown(admin_client.get("/sessions/?q=_")) == ["under"]


@pytest.mark.parametrize("run_layout", ["2", "3"])
def test_search_reads_names_in_both_encodings(admin_client, run_layout):
    # layout "2" stores every JSON column double-encoded on SQLite, as Agno 2.x does.
    create_session(session_id="enc", session_data={"session_name": "Café in Zürich"}, layout=run_layout)
    assert shown(admin_client.get("/sessions/?q=zürich")) == ["enc"]
    assert shown(admin_client.get("/sessions/?q=Café")) == ["enc"]


def test_active_filters_show_as_removable_chips(admin_client, variety):
    response = admin_client.get("/sessions/?type=agent&user_id=ada%40example.com&page=1&sort=created_at")
    chips = {chip.param: chip for chip in response.context["chips"]}
    assert set(chips) == {"type", "user_id"}
    assert chips["type"].remove_query == "?user_id=ada%40example.com&sort=created_at"
    assert chips["user_id"].remove_query == "?type=agent&sort=created_at"
    assert 'aria-label="Remove filter type agent"' in response.text
    assert "Clear all" in response.text


def test_row_links_filter_by_their_value_keeping_other_filters(admin_client, variety):
    html = admin_client.get("/sessions/?type=agent&page=1").text
    assert 'href="/sessions/?type=agent&amp;agent_id=weather-agent"' in html
    assert 'hx-get="?type=agent&amp;user_id=ada%40example.com"' in html


def test_filter_choices_come_from_the_data_with_counts_and_are_cached(admin_client, variety, django_assert_num_queries):
    headers = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "filter-choices"}
    response = admin_client.get("/sessions/", **headers)
    assert "<html" not in response.text
    assert '<datalist id="choices-user_id">' in response.text
    assert '<option value="ada@example.com" label="2 sessions">' in response.text
    assert (
        '<option value="travel-team" label="Travel Planner · 1 session" data-label="Travel Planner (travel-team)">'
        in response.text
    )
    assert "choices-agent_id" in admin_client.get("/sessions/").text  # full page: the cached choices inline
    with django_assert_num_queries(2):  # the login session and user, no GROUP BY
        admin_client.get("/sessions/", **headers)


def test_full_page_does_not_count_choices(admin_client, variety):
    assert '<datalist id="choices-user_id">' not in admin_client.get("/sessions/").text


# --- sort --------------------------------------------------------------------------------------


@pytest.fixture
def timeline():
    create_session(session_id="b", created_at=100, updated_at=400)
    create_session(session_id="a", created_at=100, updated_at=None)
    create_session(session_id="c", created_at=200, updated_at=300)
    create_session(session_id="d", created_at=50, updated_at=400)


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("", ["c", "a", "b", "d"]),
        ("-created_at", ["c", "a", "b", "d"]),
        ("created_at", ["d", "a", "b", "c"]),
        ("-updated_at", ["b", "d", "c", "a"]),
        ("updated_at", ["c", "b", "d", "a"]),
    ],
)
def test_sort_is_deterministic_with_ties_on_session_id(admin_client, timeline, sort, expected):
    response = admin_client.get(f"/sessions/?sort={sort}")
    assert shown(response) == expected
    assert response.context["sort"] == (sort or "-created_at")


def test_sort_header_links_toggle_direction(admin_client, timeline):
    html = admin_client.get("/sessions/?sort=-created_at&page=2&type=agent").text
    assert 'href="?sort=created_at&amp;type=agent" hx-get="?sort=created_at&amp;type=agent">Created ↓' in html
    html = admin_client.get("/sessions/?sort=created_at").text
    assert 'href="?sort=-created_at" hx-get="?sort=-created_at">Created ↑' in html
    assert 'href="?sort=-updated_at" hx-get="?sort=-updated_at">Updated</a>' in html


# --- pagination --------------------------------------------------------------------------------


def seed(count: int, run_layout: str = "3", runs: int | None = 1) -> list[str]:
    sessions = [make_session(index, now=NOW, runs=runs) for index in range(count)]
    write_sessions(agno_connection(), sessions, layout=run_layout)
    return [s.row["session_id"] for s in sorted(sessions, key=lambda s: (-s.row["created_at"], s.row["session_id"]))]


def test_exactly_one_page_has_no_pager(admin_client):
    expected = seed(50)
    response = admin_client.get("/sessions/")
    assert shown(response) == expected
    page = response.context["page"]
    assert (page.has_next, page.total, page.total_is) == (False, 50, "exact")
    assert 'class="pager"' not in response.text


def test_pages_split_the_rows_without_overlap_and_keep_filters(admin_client):
    expected = seed(51)
    first = admin_client.get("/sessions/?sort=-created_at")
    assert shown(first) == expected[:50]
    assert '1–50</strong> of <span id="result-count">51 sessions</span>' in first.text
    # Next continues from the last row's place (keyset: test_keyset.py); the offset page is the same.
    after = urlencode({"after": first.context["page"].last})
    assert f'href="?sort=-created_at&amp;page=2&amp;{after}" hx-get="?sort=-created_at&amp;page=2&amp;{after}" rel="next"' in first.text
    assert shown(admin_client.get(f"/sessions/?sort=-created_at&page=2&{after}")) == expected[50:]
    second = admin_client.get("/sessions/?sort=-created_at&page=2")
    assert shown(second) == expected[50:]
    page = second.context["page"]
    assert (page.number, page.has_next, page.has_previous, page.last_number) == (2, False, True, 2)
    assert 'href="?sort=-created_at&amp;page=1" hx-get="?sort=-created_at&amp;page=1" rel="prev"' in second.text


def test_page_past_the_end_shows_the_last_page_with_a_message(admin_client):
    expected = seed(51)
    response = admin_client.get("/sessions/?page=9")
    assert response.status_code == 200
    assert shown(response) == expected[50:]
    assert "There is no page 9: showing the last page." in response.text


def test_page_past_the_end_of_an_empty_result(admin_client, variety):
    response = admin_client.get("/sessions/?page=3&user_id=nobody")
    assert response.status_code == 200
    assert "There is no page 3" in response.text
    assert "No sessions match these filters." in response.text


COUNT = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "result-count"}


def test_filtered_count_comes_after_the_rows(admin_client, monkeypatch, django_assert_num_queries):
    monkeypatch.setattr(queries.pages, "LIST_PAGE_SIZE", 2)
    seed(5)
    url = "/sessions/?created_after=2000-01-01&page=2"
    layout()
    has_trace_tables()
    # login session + user, the page's keys and then its rows, the run counts and the runs' stored size (in the
    # 3.x runs table): no count
    with django_assert_num_queries(6):
        response = admin_client.get(url)
    page = response.context["page"]
    assert (page.total, page.total_is, page.last_number) == (4, "pending", None)
    assert (
        f'<span id="result-count" hx-get="{url.replace("&", "&amp;")}" hx-trigger="load" hx-target="this"'
        in response.text
    )
    assert ">4+ sessions</span>" in response.text  # what a page without JavaScript keeps
    assert "Last »" not in response.text
    with django_assert_num_queries(3):  # login session + user, the count
        counted = admin_client.get(url, **COUNT)
    assert counted.text.startswith('<span id="result-count">5 sessions</span>')
    # The last page is known now: the pager's place and its Last link come along to replace the ones without it.
    assert '<span class="muted" id="pager-place" hx-swap-oob="true">Page 2 of 3</span>' in counted.text
    assert '<span id="pager-last" hx-swap-oob="true">' in counted.text
    assert 'hx-get="?created_after=2000-01-01&amp;page=3">Last »' in counted.text


def test_count_is_capped(admin_client, monkeypatch):
    monkeypatch.setattr(queries.pages, "COUNT_CAP", 3)
    monkeypatch.setattr(queries.pages, "LIST_PAGE_SIZE", 2)
    seed(5)
    url = "/sessions/?created_after=2000-01-01"  # filtered: never the estimate
    assert admin_client.get(url).context["page"].total_is == "pending"
    response = admin_client.get(url, **COUNT)
    assert response.text.strip() == (
        '<span id="result-count"><span title="Counting stops at 3">3+</span> sessions</span>'
    )  # and no pager: the last page is still unknown


def test_user_page_counts_after_the_rows_too(admin_client, monkeypatch):
    monkeypatch.setattr(queries.pages, "LIST_PAGE_SIZE", 2)
    for index in range(3):
        create_session(session_id=f"s{index}", user_id="odd/user ü", created_at=1000 + index)
    url = "/sessions/users/odd/user%20%C3%BC/"
    assert 'hx-get="/sessions/users/odd/user%20%C3%BC/" hx-trigger="load"' in admin_client.get(url).text
    assert admin_client.get(url, **COUNT).text.startswith('<span id="result-count">3 sessions</span>')


def test_last_page_is_counted_by_its_rows(admin_client, monkeypatch):
    monkeypatch.setattr(queries.pages, "LIST_PAGE_SIZE", 2)
    seed(5)
    page = admin_client.get("/sessions/?type=agent&page=2").context["page"]
    assert (page.total, page.total_is, page.last_number, page.has_next) == (3, "exact", 2, False)


@pytest.mark.parametrize(
    "query", ["", "sort=created_at", "sort=-updated_at", "sort=updated_at", "q=s", "q=s&sort=updated_at"]
)
def test_deep_pages_read_from_the_nearer_end_and_match_the_plain_order(admin_client, monkeypatch, query):
    monkeypatch.setattr(queries.pages, "LIST_PAGE_SIZE", 2)
    # Ties in created_at and updated_at, and missing updated_at: the reversed order must undo all three.
    for index in range(9):
        updated = None if index % 4 == 0 else 2000 + index % 3
        create_session(session_id=f"s{index}", created_at=1000 + index // 3, updated_at=updated)
    plain = [shown(admin_client.get(f"/sessions/?{query}&page={number}")) for number in range(1, 6)]
    listed = [row for rows in plain for row in rows]
    assert len(listed) == len(set(listed)) == 9
    monkeypatch.setattr(queries.pages, "DEEP_OFFSET", 2)  # every page from the second on is read as a deep page
    for number in range(1, 7):  # and one past the end, which shows the last page
        with CaptureQueriesContext(connection) as captured:
            response = admin_client.get(f"/sessions/?{query}&page={number}")
        page = response.context["page"]
        assert shown(response) == plain[min(number, 5) - 1]
        assert (page.number, page.has_next, page.past_end) == (min(number, 5), number < 5, number > 5)
        if number > 1:
            assert (page.total, page.total_is, page.last_number) == (9, "exact", 5)
        skipped = [int(offset) for q in captured.captured_queries for offset in re.findall(r"OFFSET (\d+)", q["sql"])]
        # From page 3 on, the end is nearer: read backwards, pages 3-5 skip 3, 1 and 0 rows instead of 4, 6 and 8.
        expected_skip = {1: 0, 2: 2, 3: 3, 4: 1, 5: 0}[min(number, 5)]
        assert (skipped or [0]) == [expected_skip], captured.captured_queries


@pytest.mark.postgresql
def test_unfiltered_count_on_postgresql_is_the_planners_estimate(admin_client, monkeypatch):
    monkeypatch.setattr(queries.pages, "COUNT_CAP", 3)
    monkeypatch.setattr(queries.pages, "LIST_PAGE_SIZE", 2)
    seed(6)
    with agno_connection().cursor() as cursor:
        cursor.execute("ANALYZE ai.agno_sessions")
    page = admin_client.get("/sessions/").context["page"]
    assert (page.total, page.total_is) == (6, "about")
    assert "≈ 6" in admin_client.get("/sessions/").text


@pytest.mark.parametrize("query", ["", "?type=team", "?user_id=ada%40example.com&agent_id=x", "?sort=created_at"])
@pytest.mark.sqlite
def test_sqlite_walks_the_created_at_index_when_filtering(admin_client, query):
    seed(3)
    with CaptureQueriesContext(connection) as captured:
        admin_client.get(f"/sessions/{query}")
    page_query = next(q["sql"] for q in captured.captured_queries if "LIMIT 51" in q["sql"])
    with connection.cursor() as cursor:
        plan = " / ".join(row[-1] for row in cursor.execute(f"EXPLAIN QUERY PLAN {page_query}").fetchall())
    assert "USING INDEX idx_agno_sessions_created_at" in plan, plan
    assert "TEMP B-TREE FOR ORDER BY" not in plan, plan  # only for the tie-break: "RIGHT PART OF ORDER BY"


@pytest.mark.parametrize("run_layout", ["2", "3"])
def test_query_count_does_not_grow_with_the_page(admin_client, django_assert_num_queries, run_layout):
    layout()  # which tables exist is cached: not part of a request's cost
    has_trace_tables()
    seed(3, run_layout, runs=2)
    # login session + user, the page, run counts per layout stored: the inline column (where the
    # page's rows hold runs in it, not NULL as Agno 3.x leaves it) and the runs table (its counts, its sizes)
    expected = 3 + (run_layout == "2") + 2 * has_runs_table()
    with django_assert_num_queries(expected):
        admin_client.get("/sessions/")
    seed_more = [make_session(index, now=NOW, runs=3) for index in range(3, 50)]
    write_sessions(agno_connection(), seed_more, layout=run_layout)
    with django_assert_num_queries(expected):
        response = admin_client.get("/sessions/")
    assert len(shown(response)) == 50
    write_sessions(agno_connection(), [make_session(50, now=NOW)], layout=run_layout)
    # A next page exists: a capped count (after PostgreSQL's estimate, too small here to be used).
    with django_assert_num_queries(expected + 1 + (connection.vendor == "postgresql")):
        admin_client.get("/sessions/")


# --- fragments ---------------------------------------------------------------------------------


def test_htmx_request_gets_only_the_results(admin_client, variety):
    response = admin_client.get("/sessions/?type=team", **HTMX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="results"')
    assert "<html" not in response.text and 'id="filters"' not in response.text
    assert "Kyoto trip" in response.text
    assert "HX-Request" in response.headers["Vary"]


def test_direct_load_and_history_restore_get_the_full_page(admin_client, variety):
    for headers in ({}, {"HTTP_HX_REQUEST": "true", "HTTP_HX_HISTORY_RESTORE_REQUEST": "true"}):
        response = admin_client.get("/sessions/?type=team", **headers)
        assert "<html" in response.text
        assert 'id="filters"' in response.text
        assert '<option value="team" selected>' in response.text


def test_form_works_without_javascript(admin_client, variety):
    html = admin_client.get("/sessions/").text
    assert '<form id="filters" class="filters" method="get" action="/sessions/"' in html
    assert 'hx-push-url="true"' in html
    assert '<button type="submit" class="apply">' in html


def test_live_refresh_is_opt_in_and_keeps_the_url(admin_client, variety):
    assert "every 10s" not in admin_client.get("/sessions/?type=agent").text
    html = admin_client.get("/sessions/?type=agent&live=1", **HTMX).text
    # Each beat asks static/js/app.js first (htmx:confirm): the CSP allows no eval'd trigger filter.
    assert 'hx-get="/sessions/?type=agent&amp;live=1" hx-trigger="every 10s" data-live-refresh' in html
    assert 'hx-push-url="false"' in html
    full = admin_client.get("/sessions/?type=agent&live=1").text
    assert 'name="live" value="1" checked' in full


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("type=robot", "“robot” is not a session type"),
        ("sort=name", "“name” is not a sort order"),
        ("sort=-created_at;DROP TABLE x", "is not a sort order"),
        ("created_after=2026-13-45", "“2026-13-45” is not a date"),
        ("created_before=yesterday", "“yesterday” is not a date"),
        ("page=abc", "“abc” is not a page number"),
        ("page=0", "“0” is not a page number"),
        ("page=-3", "“-3” is not a page number"),
        ("page=99999999999999999999999", "is not a page number"),
        ("q=%00", "search filter"),
    ],
)
def test_bad_input_renders_with_a_message_and_defaults(admin_client, variety, query, message):
    response = admin_client.get(f"/sessions/?{query}")
    assert response.status_code == 200
    assert message in response.text
    assert 'class="notice warning"' in response.text
    assert len(shown(response)) == 4
    assert admin_client.get(f"/sessions/?{query}", **HTMX).status_code == 200


def test_bad_value_is_ignored_while_good_filters_apply(admin_client, variety):
    response = admin_client.get("/sessions/?type=robot&user_id=ada%40example.com&sort=sideways")
    assert shown(response) == ["t1", "a1"]
    assert [chip.param for chip in response.context["chips"]] == ["user_id"]


@pytest.mark.parametrize(
    "value",
    ["' OR 1=1 --", '"; DROP TABLE agno_sessions; --', "%' UNION SELECT * FROM auth_user --", "\\", "ä" * 3000],
)
def test_quotes_and_sql_in_filters_are_just_text(admin_client, variety, value):
    for param in ("q", "user_id", "agent_id"):
        response = admin_client.get("/sessions/", {param: value})
        assert response.status_code == 200
        assert shown(response) == []
    assert len(shown(admin_client.get("/sessions/"))) == 4


def test_stored_html_is_escaped(admin_client):
    create_session(
        session_id="<b>x</b>", user_id="<script>alert(1)</script>", session_data={"session_name": "<img src=x>"}
    )
    html = admin_client.get("/sessions/").text
    assert "<script>alert(1)</script>" not in html and "<img src=x>" not in html
    assert "&lt;img src=x&gt;" in html


def test_malformed_json_shows_a_marker_in_its_cell(admin_client):
    # A JSON string where Agno writes an object: valid JSON on both databases, but not a session_data.
    create_session(session_id="bad", raw=True, session_data='"not an object"', summary='["not", "a summary"]')
    create_session(session_id="good", session_data={"session_name": "Fine"})
    response = admin_client.get("/sessions/")
    assert response.status_code == 200
    bad = rows_by_id(response)["bad"]
    assert bad.malformed_data and bad.malformed_summary
    assert response.text.count('class="malformed"') == 3  # name, tokens, summary
    assert "Fine" in response.text


def test_unreadable_inline_runs_show_a_dash(admin_client):
    assert has_inline_runs()  # the test database's table has Agno 2.x's runs column
    create_session(session_id="odd-runs", raw=True, runs=None, layout="2")
    with agno_connection().cursor() as cursor:
        from sessions_ui.schema import quoted_table

        cursor.execute(
            f"UPDATE {quoted_table('agno_sessions')} SET runs = %s WHERE session_id = 'odd-runs'", ['{"not": "a list"}']
        )
    response = admin_client.get("/sessions/")
    assert rows_by_id(response)["odd-runs"].runs is None
    assert 'title="The stored runs could not be read">—' in response.text


@pytest.mark.sqlite  # PostgreSQL's jsonb cannot hold malformed JSON
def test_garbage_json_text_on_sqlite(admin_client):
    create_session(session_id="garbage", raw=True, session_data="{not json", agent_data="{nope", layout="2")
    with agno_connection().cursor() as cursor:
        cursor.execute("UPDATE agno_sessions SET runs = '[{broken' WHERE session_id = 'garbage'")
    response = admin_client.get("/sessions/?q=garb")
    assert response.status_code == 200
    row = rows_by_id(response)["garbage"]
    assert row.malformed_data and row.runs is None and row.component_name == ""
    preview = admin_client.get("/sessions/garbage/preview/", HTTP_HX_REQUEST="true")
    assert preview.status_code == 200
    assert "could not be read" in preview.text


# --- access ------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/sessions/", "/sessions/users/ada/", "/sessions/x/preview/"])
def test_pages_need_the_view_permission(client, django_user_model, url):
    assert client.get(url).status_code == 302
    client.force_login(django_user_model.objects.create_user("nobody", password="pw"))
    assert client.get(url).status_code == 403


def test_viewer_sees_the_list(viewer_client, variety):
    assert viewer_client.get("/sessions/").status_code == 200


# --- user page ---------------------------------------------------------------------------------


def test_user_page_has_totals_and_only_their_sessions(admin_client):
    user = "ada@example.com"
    create_session(
        session_id="u1",
        user_id=user,
        created_at=epoch("2026-01-01T10:00:00"),
        updated_at=epoch("2026-01-01T11:00:00"),
        session_data={"session_metrics": {"total_tokens": 100}},
        runs=[make_agent_run("u1", seed=1), make_agent_run("u1", seed=2)],
    )
    create_session(
        session_id="u2",
        user_id=user,
        created_at=epoch("2026-01-05T10:00:00"),
        updated_at=None,
        session_data={"session_metrics": {"total_tokens": 23}},
        runs=[make_agent_run("u2", seed=3)],
        layout="2",
    )
    create_session(
        session_id="other", user_id="grace@example.org", session_data={"session_metrics": {"total_tokens": 7}}
    )
    response = admin_client.get(f"/sessions/users/{user}/")
    assert response.status_code == 200
    totals = response.context["totals"]
    assert (totals.sessions, totals.runs, totals.tokens) == (2, 3, 123)
    assert totals.first_seen == datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert totals.last_seen == datetime(2026, 1, 5, 10, tzinfo=UTC)
    assert shown(response) == ["u2", "u1"]
    assert "Filter these sessions in the list" in response.text
    assert 'href="/sessions/?user_id=ada%40example.com"' in response.text
    assert 'aria-label="Remove filter user' not in response.text


def test_user_page_tokens_skip_garbage(admin_client):
    create_session(session_id="n1", user_id="u", session_data={"session_metrics": {"total_tokens": "lots"}})
    create_session(session_id="n2", user_id="u", raw=True, session_data='"a string"')
    create_session(session_id="n3", user_id="u", session_data={"session_metrics": {"total_tokens": 5}}, layout="2")
    assert admin_client.get("/sessions/users/u/").context["totals"].tokens == 5


def test_user_page_sorts_and_pages_in_place(admin_client):
    for index in range(3):
        create_session(session_id=f"s{index}", user_id="odd/user ü", created_at=1000 + index)
    response = admin_client.get("/sessions/users/odd/user%20%C3%BC/?sort=created_at", **HTMX)
    assert response.text.lstrip().startswith('<section id="results"')
    assert shown(response) == ["s0", "s1", "s2"]
    html = admin_client.get("/sessions/users/odd/user%20%C3%BC/").text
    assert "odd/user ü" in html
    assert 'href="?sort=created_at" hx-get="?sort=created_at">Created ↓' in html


def test_user_without_sessions(admin_client):
    response = admin_client.get("/sessions/users/nobody@example.com/")
    assert response.status_code == 200
    assert "No sessions for this user." in response.text
    assert response.context["totals"].sessions == 0


def test_user_page_does_not_count_huge_inline_histories(admin_client, monkeypatch):
    assert has_inline_runs()  # the test database's table has Agno 2.x's runs column
    monkeypatch.setattr(queries.totals, "USER_INLINE_RUNS_CAP", 1)
    for index in range(2):
        create_session(session_id=f"h{index}", user_id="heavy", runs=[make_agent_run(f"h{index}")], layout="2")
    response = admin_client.get("/sessions/users/heavy/")
    assert response.context["totals"].runs is None
    assert "Too many sessions" in response.text


# --- inline expansion --------------------------------------------------------------------------


@pytest.mark.parametrize("run_layout", ["2", "3"])
def test_expansion_shows_summary_and_first_runs(admin_client, run_layout, monkeypatch):
    monkeypatch.setattr(queries.runs, "PREVIEW_RUNS", 2)
    runs = [
        make_agent_run(
            "exp", question=f"Question {index}", created_at=NOW - 1000 + index, seed=index, content=f"Answer {index}"
        )
        for index in range(3)
    ]
    runs[0]["metrics"]["total_tokens"] = 4321
    create_session(
        session_id="exp",
        summary={"summary": "The user asked about the weather.", "topics": ["weather", "lisbon"]},
        runs=runs,
        layout=run_layout,
    )
    response = admin_client.get("/sessions/exp/preview/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.text
    assert "<html" not in html
    assert "The user asked about the weather." in html
    assert "<li>weather</li>" in html and "<li>lisbon</li>" in html
    assert "Question 0" in html and "Answer 0" in html and "Question 1" in html
    assert "Question 2" not in html
    assert "4,321 tokens" in html
    assert "1 more run" in html
    assert 'href="/sessions/exp/"' in html


def test_expansion_skips_team_member_runs(admin_client):
    demo = make_session(3, now=NOW, runs=1)
    write_sessions(agno_connection(), [demo], layout="3")
    response = admin_client.get(f"/sessions/{demo.row['session_id']}/preview/", HTTP_HX_REQUEST="true")
    assert response.context["run_count"] == 1
    assert [run.kind for run in response.context["runs"]] == ["team"]


def test_expansion_is_loaded_only_on_demand(admin_client, variety):
    html = admin_client.get("/sessions/").text
    assert 'hx-get="/sessions/a1/preview/" hx-trigger="click once"' in html
    assert "The user asked" not in html


def test_expansion_opened_directly_goes_to_the_detail_page(admin_client, variety):
    response = admin_client.get("/sessions/a1/preview/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sessions/a1/"


def test_expansion_of_a_deleted_session(admin_client):
    response = admin_client.get("/sessions/gone/preview/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "no longer exists" in response.text


def test_expansion_without_summary_or_runs(admin_client):
    create_session(session_id="bare")
    html = admin_client.get("/sessions/bare/preview/", HTTP_HX_REQUEST="true").text
    assert "No summary for this session." in html
    assert "No runs stored." in html


# --- a database that real agno wrote (tests/agno/README.md) ------------------------------------


@pytest.mark.agno
def test_list_of_an_agno_written_database_filters_by_each_column(agno_written, admin_client):
    entries = agno_written.sessions
    response = admin_client.get("/sessions/")
    assert sorted(shown(response)) == sorted(agno_written.session_ids)
    rows = rows_by_id(response)
    for entry in entries:
        row = rows[entry["session_id"]]
        assert row.session.session_type == entry["session_type"]
        assert row.component_name == entry["component_name"]
        assert row.runs == len(entry["runs"])
        assert row.session.name == (entry["session_name"] or entry["runs"][0]["input"])

    def expect(params: dict, chosen) -> None:
        expected = sorted(entry["session_id"] for entry in entries if chosen(entry))
        assert expected, params
        assert sorted(shown(admin_client.get("/sessions/", params))) == expected, params

    for kind in ("agent", "team", "workflow"):
        expect({"type": kind}, lambda entry, kind=kind: entry["session_type"] == kind)
    for entry in entries:
        kind, component = entry["session_type"], entry["component_id"]
        expect(
            {f"{kind}_id": component},
            lambda other, kind=kind, component=component: (
                other["session_type"] == kind and other["component_id"] == component
            ),
        )
        expect({"user_id": entry["user_id"]}, lambda other, user=entry["user_id"]: other["user_id"] == user)
    weather = agno_written.session("agent-weather")
    expect(
        {"user_id": weather["user_id"], "type": "workflow"},
        lambda e: e["user_id"] == weather["user_id"] and e["session_type"] == "workflow",
    )
    expect({"q": "lisbon weather"}, lambda e: e["session_id"] == weather["session_id"])


@pytest.mark.agno
def test_agno_written_user_page_and_expansion(agno_written, admin_client):
    weather = agno_written.session("agent-weather")
    user_sessions = [entry for entry in agno_written.sessions if entry["user_id"] == weather["user_id"]]
    totals = admin_client.get(f"/sessions/users/{weather['user_id']}/").context["totals"]
    assert totals.sessions == len(user_sessions)
    assert totals.runs == sum(len(entry["runs"]) for entry in user_sessions)
    assert totals.tokens > 0
    for entry in agno_written.sessions:
        response = admin_client.get(f"/sessions/{quote(entry['session_id'])}/preview/", HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        assert response.context["run_count"] == len(entry["runs"])
        assert response.context["runs"][0].input == entry["runs"][0]["input"]


def test_runs_agno_3_migrated_are_counted_once(admin_client):
    """Agno 3.x's migration copies inline runs into the runs table and keeps the column: count each run once."""
    from sessions_ui.bulk_write import run_type
    from sessions_ui.models import AgnoRun

    runs = [make_agent_run("migrated", seed=seed) for seed in (1, 2)]
    create_session(session_id="migrated", runs=runs, layout="2")
    for index, run in enumerate(runs):
        AgnoRun.objects.create(
            run_id=run["run_id"], session_id="migrated", run_type=run_type(run), run_index=index,
            run_data=run, created_at=run["created_at"],
        )  # fmt: skip
    assert rows_by_id(admin_client.get("/sessions/"))["migrated"].runs == 2
    assert queries.run_total(AgnoSession.objects.filter(pk="migrated")) == 2


def test_no_template_comment_shows_on_the_page(admin_client, variety):
    """Django's {# #} comments end at the line's end: one spread over two lines is printed as text."""
    for url in ("/sessions/", "/sessions/a1/", "/sessions/users/ada@example.com/", "/sessions/audit/"):
        response = admin_client.get(url)
        assert response.status_code == 200
        assert "{#" not in response.text and "#}" not in response.text, url
