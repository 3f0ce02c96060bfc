"""`manage.py agno_indexes`: opt-in indexes for the list's filters and search on Agno's session table.

Printed by default, created only with --apply, idempotent, and nothing is ever dropped. CREATE INDEX
CONCURRENTLY cannot run in a transaction, so these tests commit, and drop what they created after.
"""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command

from sessions_ui.management.commands.agno_indexes import FILTER_COLUMNS, ORDER_INDEX, Command, index_name
from sessions_ui.queries import searched_texts
from sessions_ui.queries.pages import SORT_INDEXES
from sessions_ui.schema import agno_connection, quoted_table
from tests.factories import create_session

pytestmark = pytest.mark.django_db(transaction=True)

BTREE_INDEXES = (
    {index_name("agno_sessions", f"{column}_created_at") for column in FILTER_COLUMNS}
    | {index_name("agno_sessions", ORDER_INDEX)}
    | {index_name("agno_sessions", suffix) for suffix in SORT_INDEXES.values()}
)
SEARCH_INDEXES = {index_name("agno_sessions", f"{text}_trgm") for text in searched_texts()}


def indexes() -> set[str]:
    connection = agno_connection()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'ai' AND tablename = 'agno_sessions'")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'agno_sessions'")
        return {name for (name,) in cursor.fetchall()}


def trigram_installed() -> bool:
    with agno_connection().cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'")
        return bool(cursor.fetchone()[0])


@pytest.fixture(autouse=True)
def _drop_what_the_test_created():
    """The command never drops anything: the tests do, so that other tests see Agno's indexes only."""
    before = indexes()
    trigram_before = agno_connection().vendor == "postgresql" and trigram_installed()
    yield
    connection = agno_connection()
    with connection.cursor() as cursor:
        for name in indexes() - before:
            qualified = f'"ai"."{name}"' if connection.vendor == "postgresql" else f'"{name}"'
            cursor.execute(f"DROP INDEX {qualified}")
        if connection.vendor == "postgresql" and trigram_installed() and not trigram_before:
            cursor.execute("DROP EXTENSION pg_trgm")


def run(*args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("agno_indexes", *args, stdout=out, stderr=err)
    assert not err.getvalue(), err.getvalue()
    return out.getvalue()


def expected_indexes() -> set[str]:
    """What --apply creates here: trigram indexes only where PostgreSQL has pg_trgm."""
    if agno_connection().vendor == "sqlite" or Command()._trigram_extension(agno_connection()) is None:
        return BTREE_INDEXES
    return BTREE_INDEXES | SEARCH_INDEXES


def test_by_default_it_only_prints_the_statements():
    before = indexes()
    output = run()
    assert indexes() == before
    assert "Nothing was changed. Run with --apply" in output
    for column in FILTER_COLUMNS:
        assert re.search(
            rf'missing CREATE INDEX( CONCURRENTLY)? IF NOT EXISTS "idx_agno_sessions_{column}_created_at" ON '
            rf'(\"ai\"\.)?"agno_sessions" \("{column}", "created_at" DESC, "session_id"\);',
            output,
        ), output
    assert re.search(
        r'missing CREATE INDEX( CONCURRENTLY)? IF NOT EXISTS "idx_agno_sessions_created_at_session_id" ON '
        r'(\"ai\"\.)?"agno_sessions" \("created_at" DESC, "session_id"\);',
        output,
    ), output
    assert re.search(
        r'missing CREATE INDEX( CONCURRENTLY)? IF NOT EXISTS "idx_agno_sessions_updated_at_desc_session_id" ON '
        r'(\"ai\"\.)?"agno_sessions" \("updated_at" DESC( NULLS LAST)?, "session_id"\);',
        output,
    ), output
    assert re.search(
        r'missing CREATE INDEX( CONCURRENTLY)? IF NOT EXISTS "idx_agno_sessions_updated_at_session_id" ON '
        r'(\"ai\"\.)?"agno_sessions" \("updated_at", "session_id"\);',
        output,
    ), output


def test_apply_creates_the_missing_indexes_and_is_idempotent():
    agno_indexes = {"idx_agno_sessions_created_at", "idx_agno_sessions_session_type"}
    before = indexes()
    assert agno_indexes <= before
    output = run("--apply")
    created = indexes() - before
    assert created == expected_indexes()
    for name in created:
        assert f"Created {name}." in output
    again = run("--apply")
    assert indexes() == before | created  # nothing created twice, nothing dropped
    assert "Creating" not in again and "missing" not in again
    for name in created:
        assert f"exists  {name}" in again


def test_the_list_reads_the_same_rows_with_the_indexes(admin_client):
    for index, user in enumerate(["ada@example.com", "grace@example.org", "ada@example.com"]):
        create_session(session_id=f"s{index}", user_id=user, session_data={"session_name": f"Trip {index} to Kyoto"})
    queries = ["user_id=ada%40example.com", "agent_id=research-agent", "q=kyoto", "q=S1", "user_id=nobody"]
    before = {query: admin_client.get(f"/sessions/?{query}").text.count("session-row") for query in queries}
    run("--apply")
    after = {query: admin_client.get(f"/sessions/?{query}").text.count("session-row") for query in queries}
    assert after == before == {queries[0]: 2, queries[1]: 3, queries[2]: 3, queries[3]: 1, queries[4]: 0}


@pytest.mark.sqlite
def test_sqlite_uses_the_index_of_the_filtered_column(admin_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    create_session(user_id="ada@example.com")
    run("--apply")
    with CaptureQueriesContext(connection) as captured:
        admin_client.get("/sessions/?user_id=ada%40example.com")
    page_query = next(q["sql"] for q in captured.captured_queries if "LIMIT 51" in q["sql"])
    with connection.cursor() as cursor:
        plan = " / ".join(row[-1] for row in cursor.execute(f"EXPLAIN QUERY PLAN {page_query}").fetchall())
    assert "idx_agno_sessions_user_id_created_at" in plan, plan
    assert "TEMP B-TREE" not in plan, plan


def test_a_deep_page_finds_its_keys_in_the_order_index(admin_client, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from sessions_ui import queries

    monkeypatch.setattr(queries.pages, "LIST_PAGE_SIZE", 1)
    monkeypatch.setattr(queries.pages, "DEEP_OFFSET", 1)
    for index in range(5):
        create_session(session_id=f"s{index}", created_at=1000 + index // 2)
    run("--apply")
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get("/sessions/?page=2")
    assert response.context["page"].rows[0].session.session_id == "s2"  # s4, then s2 before s3 (same time)
    keys_query = next(q["sql"] for q in captured.captured_queries if "OFFSET" in q["sql"])
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Five rows: left to itself the planner may scan and sort; what matters is that the index
            # gives the order, so the sort is what is discouraged (a plan that needs one keeps it).
            for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
                cursor.execute(f"SET {setting} = off")
            cursor.execute(f"EXPLAIN {keys_query}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
            for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
                cursor.execute(f"RESET {setting}")
            assert "Sort" not in plan, plan
        else:
            plan = " / ".join(row[-1] for row in cursor.execute(f"EXPLAIN QUERY PLAN {keys_query}").fetchall())
            assert "TEMP B-TREE" not in plan, plan
    assert index_name("agno_sessions", ORDER_INDEX) in plan, plan


WINDOW_NOTICE = "Sorted by last update among the 3 newest sessions only"


@pytest.fixture
def updated_window(monkeypatch):
    """Five sessions and a window of the three newest: s0 and s1, the oldest, were updated last."""
    from django.core.cache import cache

    from sessions_ui import queries

    cache.clear()  # the window's bound is cached
    monkeypatch.setattr(queries.pages, "NEWEST_WINDOW", 3)
    updated = [900, 800, 300, None, 100]
    for index, when in enumerate(updated):
        create_session(session_id=f"s{index}", created_at=1000 + index, updated_at=when)


@pytest.mark.parametrize(
    ("sort", "windowed", "everything"),
    [
        ("-updated_at", ["s2", "s4", "s3"], ["s0", "s1", "s2", "s4", "s3"]),
        ("updated_at", ["s4", "s2", "s3"], ["s4", "s2", "s1", "s0", "s3"]),
    ],
)
def test_without_the_index_updated_at_sorts_the_newest_window_and_says_so(
    admin_client, updated_window, sort, windowed, everything
):
    response = admin_client.get(f"/sessions/?sort={sort}")
    assert [row.session.session_id for row in response.context["page"].rows] == windowed
    assert WINDOW_NOTICE in response.text
    assert "manage.py agno_indexes --apply adds one" in response.text
    run("--apply")  # forgets the cached list of indexes: the next page sees them
    response = admin_client.get(f"/sessions/?sort={sort}")
    assert [row.session.session_id for row in response.context["page"].rows] == everything
    assert WINDOW_NOTICE not in response.text


def test_the_default_order_is_never_windowed(admin_client, updated_window):
    response = admin_client.get("/sessions/")
    assert len(response.context["page"].rows) == 5
    assert "newest sessions only" not in response.text


@pytest.mark.parametrize("sort", ["-updated_at", "updated_at"])
def test_the_updated_at_page_walks_its_index(admin_client, sort):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for index in range(5):
        create_session(session_id=f"s{index}", updated_at=None if index == 2 else 2000 - index)
    run("--apply")
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(f"/sessions/?sort={sort}")
    assert response.context["page"].rows[-1].session.session_id == "s2"  # never updated: last in both orders
    page_query = next(q["sql"] for q in captured.captured_queries if "LIMIT 51" in q["sql"])
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
                cursor.execute(f"SET {setting} = off")
            cursor.execute(f"EXPLAIN {page_query}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
            for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
                cursor.execute(f"RESET {setting}")
            assert "Sort" not in plan, plan
        else:
            plan = " / ".join(row[-1] for row in cursor.execute(f"EXPLAIN QUERY PLAN {page_query}").fetchall())
            assert "TEMP B-TREE" not in plan, plan
    assert index_name("agno_sessions", SORT_INDEXES[sort]) in plan, plan


def test_a_users_totals_read_the_user_index(admin_client):
    """The per-user totals (the user's page) are an aggregate over `user_id = ?`: the user filter index serves it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for index in range(30):  # a rare user: ANALYZE tells SQLite so
        create_session(session_id=f"s{index}", user_id="ada@example.com" if index < 2 else f"user{index}@example.org")
    run("--apply")
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get("/sessions/users/ada@example.com/")
    totals = [q["sql"] for q in captured.captured_queries if "SUM(" in q["sql"].upper() and "MIN(" in q["sql"].upper()]
    assert totals, "the user's totals were not asked for"
    assert response.status_code == 200
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET enable_seqscan = off")
            cursor.execute(f"EXPLAIN {totals[0]}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
            cursor.execute("RESET enable_seqscan")
        else:
            plan = " / ".join(row[-1] for row in cursor.execute(f"EXPLAIN QUERY PLAN {totals[0]}").fetchall())
    assert index_name("agno_sessions", "user_id_created_at") in plan, plan


@pytest.mark.postgresql
def test_postgresql_search_matches_the_trigram_index_expressions(admin_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    create_session(session_data={"session_name": "Kyoto"})
    output = run("--apply")
    if Command()._trigram_extension(agno_connection()) is None:
        assert "pg_trgm is not available" in output
        return
    with CaptureQueriesContext(connection) as captured:
        admin_client.get("/sessions/?q=kyoto&sort=created_at")  # not newest first: the scan's query
    page_query = next(q["sql"] for q in captured.captured_queries if "LIMIT 51" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute(f"EXPLAIN {page_query}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
    for name in SEARCH_INDEXES:
        assert name in plan, plan  # the filter's SQL is the indexed expression, on both sides of the OR


@pytest.mark.postgresql
def test_postgresql_without_pg_trgm_offers_the_filter_indexes_only(monkeypatch):
    monkeypatch.setattr(Command, "_trigram_extension", lambda self, connection: None)
    output = run("--apply")
    assert "pg_trgm is not available on this server: search stays a scan" in output
    assert not SEARCH_INDEXES & indexes()
    assert BTREE_INDEXES <= indexes()


@pytest.mark.postgresql
def test_postgresql_builds_concurrently_and_names_the_extension():
    output = run()
    assert output.count("CREATE INDEX CONCURRENTLY IF NOT EXISTS") == len(expected_indexes())
    if expected_indexes() != BTREE_INDEXES:
        assert "gin_trgm_ops" in output
        assert trigram_installed() or "CREATE EXTENSION IF NOT EXISTS pg_trgm" in output


@pytest.mark.sqlite
def test_sqlite_has_no_trigram_indexes():
    output = run()
    assert "SQLite has no trigram indexes" in output
    assert "gin" not in output


def test_a_missing_session_table_is_reported(settings):
    settings.AGNO_SESSION_TABLE = "no_such_table"
    err = io.StringIO()
    call_command("agno_indexes", "--apply", stdout=io.StringIO(), stderr=err)
    assert f"There is no session table {quoted_table('no_such_table')}" in err.getvalue()


def test_long_table_names_get_short_unique_index_names():
    long_table = "agno_sessions_of_a_tenant_with_a_rather_long_name"
    names = {index_name(long_table, f"{column}_created_at") for column in FILTER_COLUMNS}
    assert len(names) == len(FILTER_COLUMNS)
    assert all(len(name.encode()) <= 63 for name in names)
