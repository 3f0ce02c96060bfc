"""The list's has_summary and range filters (runs, tokens, stored size), the size column and the sorts by
size, runs and tokens (issue 15): both run layouts, chips, notices, paging, the pruning workflow."""

from __future__ import annotations

import re
import time
from html import unescape

import pytest
from django.core.cache import cache
from django.test.utils import CaptureQueriesContext

from sessions_ui import queries
from sessions_ui.models import AgnoSession
from sessions_ui.queries.measures import human_size, parse_size
from sessions_ui.schema import agno_connection
from sessions_ui.sources import current_source
from tests.factories import create_session, make_agent_run

pytestmark = pytest.mark.django_db

NOW = int(time.time())
LAYOUTS = pytest.mark.parametrize("run_layout", ["2", "3"])


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def _ids(response) -> list[str]:
    return [row.session.session_id for row in response.context["page"].rows]


def _runs(session_id: str, count: int, *, members: int = 0) -> list[dict]:
    runs = [make_agent_run(session_id, seed=i, run_id=f"{session_id}-{i}") for i in range(count)]
    parent = runs[0]["run_id"] if runs else None
    runs += [
        make_agent_run(session_id, seed=100 + i, run_id=f"{session_id}-member-{i}", parent_run_id=parent)
        for i in range(members)
    ]
    return runs


def _tokens(total: int | None) -> dict:
    return {"session_name": "", "session_metrics": {} if total is None else {"total_tokens": total}}


def _database_size(session_id: str) -> int:
    """The session's stored size as the database's own functions report it, written out here independently."""
    connection = agno_connection()
    size = "pg_column_size" if connection.vendor == "postgresql" else "length"
    columns = ("session_data", "agent_data", "team_data", "workflow_data", "metadata", "summary", "runs")
    row = " + ".join(f"coalesce({size}({column}), 0)" for column in columns)
    source = current_source()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {row} FROM {source.quoted_sessions} WHERE session_id = %s", [session_id])
        (total,) = cursor.fetchone()
        cursor.execute(
            f"SELECT coalesce(sum({size}(run_data)), 0) FROM {source.quoted_runs} WHERE session_id = %s", [session_id]
        )
        (runs,) = cursor.fetchone()
    return int(total) + int(runs)


# --- has_summary


@LAYOUTS
def test_has_summary_lists_exactly_the_sessions_the_list_marks_with_a_summary(viewer_client, db, run_layout):
    shapes = {
        "text": {"summary": "Asked about refunds.", "topics": ["refunds"], "updated_at": NOW},
        "topics-only": {"summary": "", "topics": ["billing"]},
        "json-null": None,  # stored as JSON null, not SQL NULL
        "empty": {"summary": "", "topics": []},
        "blank-topics": {"topics": [""]},
    }
    for offset, (session_id, summary) in enumerate(shapes.items()):
        create_session(session_id=session_id, created_at=NOW - offset, summary=summary, layout=run_layout)
    with_summary = viewer_client.get("/sessions/", {"has_summary": "1"})
    assert sorted(_ids(with_summary)) == ["text", "topics-only"]
    html = with_summary.content.decode()
    assert html.count("✓ summary") == 2
    assert [(chip.label, chip.value) for chip in with_summary.context["chips"]] == [("summary", "with")]
    assert sorted(_ids(viewer_client.get("/sessions/", {"has_summary": "0"}))) == ["blank-topics", "empty", "json-null"]


@pytest.mark.sqlite  # PostgreSQL's json column refuses the malformed text
def test_a_malformed_summary_is_no_summary(viewer_client, db):
    create_session(session_id="broken", summary="{not json", raw=True)
    create_session(session_id="fine", summary={"summary": "ok"})
    assert _ids(viewer_client.get("/sessions/", {"has_summary": "1"})) == ["fine"]


def test_has_summary_that_is_not_1_or_0_is_a_notice_and_ignored(viewer_client, db):
    create_session(session_id="a")
    response = viewer_client.get("/sessions/", {"has_summary": "yes'; --"})
    assert _ids(response) == ["a"]
    assert any("is not 1 or 0" in notice for notice in response.context["notices"])
    assert response.context["chips"] == []


# --- Ranges


@pytest.fixture
def measured(db, request):
    """Sessions with 0, 1 and 3 top-level runs (the last with member runs too), in the layout asked for."""
    run_layout = getattr(request, "param", "3")
    create_session(session_id="none", created_at=NOW - 300, session_data=_tokens(None), layout=run_layout)
    create_session(
        session_id="one", created_at=NOW - 200, session_data=_tokens(120), runs=_runs("one", 1), layout=run_layout
    )
    create_session(
        session_id="three",
        created_at=NOW - 100,
        session_data=_tokens(5_000),
        runs=_runs("three", 3, members=2),
        layout=run_layout,
    )


@pytest.mark.parametrize("measured", ["2", "3"], indirect=True)
@pytest.mark.parametrize(
    "params, expected",
    [
        ({"runs_min": "1"}, ["three", "one"]),
        ({"runs_min": "2"}, ["three"]),
        ({"runs_max": "1"}, ["one", "none"]),
        ({"runs_max": "0"}, ["none"]),
        ({"runs_min": "1", "runs_max": "1"}, ["one"]),
        ({"runs_min": "4"}, []),  # member runs are not the session's runs
        ({"tokens_min": "100"}, ["three", "one"]),
        ({"tokens_max": "1000"}, ["one"]),  # a session without a token count is not in a range of them
        ({"tokens_min": "121", "tokens_max": "5000"}, ["three"]),
    ],
)
def test_runs_and_tokens_ranges_list_exactly_the_sessions_in_them(viewer_client, measured, params, expected):
    response = viewer_client.get("/sessions/", params)
    assert _ids(response) == expected
    assert len(response.context["chips"]) == len(params)


@LAYOUTS
def test_size_range_uses_the_stored_size_and_understands_units(viewer_client, db, run_layout):
    create_session(session_id="small", created_at=NOW - 200, layout=run_layout)
    create_session(session_id="big", created_at=NOW - 100, runs=_runs("big", 6), layout=run_layout)
    small, big = _database_size("small"), _database_size("big")
    assert small < 2_000 < big
    assert _ids(viewer_client.get("/sessions/", {"size_min": "2k"})) == ["big"]
    assert _ids(viewer_client.get("/sessions/", {"size_max": "2000"})) == ["small"]
    assert _ids(viewer_client.get("/sessions/", {"size_min": str(big)})) == ["big"]
    assert _ids(viewer_client.get("/sessions/", {"size_min": str(big + 1)})) == []
    chips = viewer_client.get("/sessions/", {"size_min": "1.5MB"}).context["chips"]
    assert [(chip.label, chip.value) for chip in chips] == [("size at least", "1.5MB")]


@pytest.mark.parametrize(
    "text, size",
    [("4096", 4096), ("10k", 10_000), ("10KB", 10_000), ("1.5MB", 1_500_000), ("2MiB", 2 * 1024**2), (" 3 kib ", 3072)],
)
def test_size_units(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "-1", "1e3", "ten", "5 TB", "1.2.3", "0x10", "9" * 30])
def test_what_is_no_size(text):
    assert parse_size(text) is None


def test_human_size():
    assert human_size(800) == "800\xa0B"
    assert human_size(1536) == "1.5\xa0KiB"
    assert human_size(2 * 1024**2) == "2\xa0MiB"


@pytest.mark.parametrize(
    "param, value",
    [("runs_min", "many"), ("runs_max", "-1"), ("tokens_min", "1.5"), ("size_min", "big"), ("size_max", "3 parsecs")],
)
def test_a_range_that_does_not_parse_is_a_notice_and_ignored(viewer_client, measured, param, value):
    response = viewer_client.get("/sessions/", {param: value, "type": "agent"})
    assert response.status_code == 200
    assert len(_ids(response)) == 3
    assert any(re.search(r"is not a .*filter is ignored", notice) for notice in response.context["notices"])
    assert [chip.param for chip in response.context["chips"]] == ["type"]
    assert viewer_client.get("/sessions/export.csv", {param: value}).status_code == 400


def test_the_range_filters_are_in_the_links_and_the_export(viewer_client, measured):
    html = unescape(viewer_client.get("/sessions/", {"runs_min": "1", "size_min": "1k"}).content.decode())
    assert 'href="/sessions/export.csv?runs_min=1&size_min=1k"' in html
    exported = b"".join(viewer_client.get("/sessions/export.csv", {"runs_min": "2"}).streaming_content).decode()
    assert [line.split(",")[0] for line in exported.splitlines()[1:]] == ["three"]


def test_a_runs_range_over_inline_runs_says_it_is_bounded(viewer_client, measured, monkeypatch):
    from sessions_ui import filters

    monkeypatch.setattr(filters, "INLINE_RUNS_WINDOW", 2)
    create_session(session_id="inline", created_at=NOW - 50, runs=_runs("inline", 2), layout="2")
    response = viewer_client.get("/sessions/", {"runs_min": "1"})
    assert _ids(response) == ["inline", "three"]  # the two newest sessions only: "one" is older
    assert any("The runs filter looked at the 2 newest sessions" in notice for notice in response.context["notices"])


def test_a_size_range_over_the_runs_table_is_bounded_to_the_newest_sessions(viewer_client, db, monkeypatch):
    from sessions_ui import filters

    monkeypatch.setattr(filters, "RANGE_WINDOW", 2)
    for offset in range(3):
        create_session(session_id=f"big{offset}", created_at=NOW - 100 * offset, runs=_runs(f"big{offset}", 6))
    response = viewer_client.get("/sessions/", {"size_min": "2k"})
    assert _ids(response) == ["big0", "big1"]
    assert any("The size filter looked at the 2 newest sessions" in notice for notice in response.context["notices"])
    day = time.strftime("%Y-%m-%d", time.localtime(NOW - 86400))
    create_session(session_id="older", created_at=NOW - 86400 * 2, runs=_runs("older", 6))
    assert _ids(viewer_client.get("/sessions/", {"size_min": "2k", "created_before": day})) == ["older"]


# --- The size column


@LAYOUTS
def test_the_size_column_is_the_databases_own_stored_size(viewer_client, db, run_layout):
    create_session(session_id="a", created_at=NOW - 200, runs=_runs("a", 2), layout=run_layout)
    create_session(session_id="b", created_at=NOW - 100, summary={"summary": "x" * 3000}, layout=run_layout)
    response = viewer_client.get("/sessions/")
    sizes = {row.session.session_id: row.size for row in response.context["page"].rows}
    assert sizes == {"a": _database_size("a"), "b": _database_size("b")}
    html = response.content.decode()
    assert f'<span title="{_database_size("a"):,} bytes stored' in html
    assert '<th class="col-size sortable num">' in html


def test_a_mixed_session_counts_both_its_inline_and_its_table_runs(viewer_client, db):
    create_session(session_id="mixed", runs=_runs("mixed", 2), layout="2")
    create_session(session_id="other", runs=_runs("other", 1))
    run = make_agent_run("mixed", seed=9, run_id="mixed-3x")  # a run Agno 3.x added to the 2.x session
    current_source().Run.objects.create(
        run_id="mixed-3x", session_id="mixed", run_type="agent", status="COMPLETED", run_data=run, created_at=NOW
    )
    row = {row.session.session_id: row for row in viewer_client.get("/sessions/").context["page"].rows}["mixed"]
    assert row.runs == 3
    assert row.size == _database_size("mixed")
    assert _ids(viewer_client.get("/sessions/", {"runs_min": "3"})) == ["mixed"]


# --- Sorts


@pytest.fixture
def sized(db):
    """Six sessions whose size, runs and tokens differ (and none in created order)."""
    for offset, (session_id, runs, tokens) in enumerate(
        [("s1", 1, 40), ("s4", 4, 10), ("s0", 0, 60), ("s3", 3, 30), ("s5", 5, 20), ("s2", 2, 50)]
    ):
        create_session(
            session_id=session_id,
            created_at=NOW - 100 * offset,
            session_data=_tokens(tokens),
            runs=_runs(session_id, runs),
            layout="2" if offset % 2 else "3",
        )


@pytest.mark.parametrize(
    "sort, expected",
    [
        ("-size", ["s5", "s4", "s3", "s2", "s1", "s0"]),
        ("size", ["s0", "s1", "s2", "s3", "s4", "s5"]),
        ("-runs", ["s5", "s4", "s3", "s2", "s1", "s0"]),
        ("runs", ["s0", "s1", "s2", "s3", "s4", "s5"]),
        ("-tokens", ["s0", "s2", "s1", "s3", "s5", "s4"]),
        ("tokens", ["s4", "s5", "s3", "s1", "s2", "s0"]),
    ],
)
def test_sorts_order_by_size_runs_and_tokens_across_pages(viewer_client, sized, sort, expected, monkeypatch):
    monkeypatch.setattr(queries.pages, "LIST_PAGE_SIZE", 4)
    if "size" in sort:  # the order of the database's own sizes
        expected = sorted(expected, key=_database_size, reverse=sort.startswith("-"))
    first = viewer_client.get("/sessions/", {"sort": sort})
    assert _ids(first) == expected[:4]
    pager = first.context["pager"]
    assert "after=" not in pager.next  # numbered pages: no keyset for a computed order
    second = viewer_client.get("/sessions/" + pager.next)
    assert _ids(second) == expected[4:]
    back = viewer_client.get("/sessions/" + second.context["pager"].previous)
    assert _ids(back) == expected[:4]
    assert not first.context["notices"]  # fewer sessions than the window


def test_the_sortable_headers_reverse_the_order(viewer_client, sized):
    html = unescape(viewer_client.get("/sessions/", {"sort": "-size"}).content.decode())
    assert '<th class="col-size sortable num" aria-sort="descending">' in html
    assert 'href="?sort=size"' in html
    assert 'href="?sort=-runs"' in html and 'href="?sort=-tokens"' in html


def test_a_size_sort_is_bounded_to_the_newest_sessions_and_says_so(viewer_client, sized, monkeypatch):
    monkeypatch.setattr(queries.pages, "NEWEST_WINDOW", 3)
    response = viewer_client.get("/sessions/", {"sort": "-size"})
    assert sorted(_ids(response)) == ["s0", "s1", "s4"]  # the three newest
    assert any("Sorted by stored size among the 3 newest sessions" in notice for notice in response.context["notices"])
    # With "created until", the window is the newest sessions of the range.
    day = time.strftime("%Y-%m-%d", time.localtime(NOW - 86400 * 2))
    create_session(session_id="old-big", created_at=NOW - 86400 * 3, runs=_runs("old-big", 8))
    older = viewer_client.get("/sessions/", {"sort": "-size", "created_before": day})
    assert _ids(older) == ["old-big"]


def test_the_sort_by_size_asks_the_same_queries_for_more_rows(viewer_client, db):
    def asked(count: int) -> int:
        AgnoSession.objects.all().delete()
        current_source().Run.objects.all().delete()
        for i in range(count):
            create_session(session_id=f"q{i}", runs=_runs(f"q{i}", 1), layout="2" if i % 2 else "3")
        with CaptureQueriesContext(agno_connection()) as captured:
            viewer_client.get("/sessions/", {"sort": "-size", "size_min": "1"})
        return len(captured)

    asked(1)  # the login's and the layout's first queries
    assert asked(2) == asked(8)


# --- Pruning: filter by age and size, select all matching, delete with confirmation.


def test_pruning_deletes_exactly_the_old_big_sessions_after_confirmation(admin_client, db):
    old = NOW - 86400 * 40
    create_session(session_id="old-big", created_at=old, runs=_runs("old-big", 6))
    create_session(session_id="old-big-inline", created_at=old + 1, runs=_runs("old-big-inline", 6), layout="2")
    create_session(session_id="old-small", created_at=old + 2)
    create_session(session_id="new-big", created_at=NOW - 60, runs=_runs("new-big", 6))
    until = time.strftime("%Y-%m-%d", time.localtime(NOW - 86400 * 30))
    params = {"created_before": until, "size_min": "2k", "sort": "-size"}
    listed = admin_client.get("/sessions/", params)
    assert sorted(_ids(listed)) == ["old-big", "old-big-inline"]
    confirmation = admin_client.post("/sessions/delete/", {"all_matching": "1", **params})
    assert confirmation.status_code == 200
    assert AgnoSession.objects.count() == 4
    form = unescape(confirmation.content.decode()).split('class="form-actions"')[1]
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form):
        fields.setdefault(name, []).append(value)
    assert fields["size_min"] == ["2k"] and fields["expected"] == ["2"]
    admin_client.post("/sessions/delete/", fields)
    assert sorted(AgnoSession.objects.values_list("pk", flat=True)) == ["new-big", "old-small"]
    assert not current_source().Run.objects.filter(session_id="old-big").exists()


def test_an_export_sorted_by_size_is_the_sessions_the_list_sorts(viewer_client, sized, monkeypatch):
    from django.contrib.admin.models import LogEntry

    monkeypatch.setattr(queries.pages, "NEWEST_WINDOW", 3)
    listed = _ids(viewer_client.get("/sessions/", {"sort": "-size"}))
    exported = b"".join(viewer_client.get("/sessions/export.csv", {"sort": "-size"}).streaming_content).decode()
    assert [line.split(",")[0] for line in exported.splitlines()[1:]] == listed
    assert LogEntry.objects.get().change_message == (
        "Exported the list as CSV (sort=-size; among the 3 newest sessions, as the list sorts them). 3 sessions."
    )
