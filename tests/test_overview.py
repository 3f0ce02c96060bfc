"""The overview's figures (queries.overview) against counts computed here from the same factory data."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.http import QueryDict
from django.utils import timezone
from django.utils.html import escape

from sessions_ui.filters import SessionFilter
from sessions_ui.listing import SessionList
from sessions_ui.models import OverviewDay
from sessions_ui.queries import overview
from sessions_ui.routers import AgnoRouter
from sessions_ui.sources import current_source
from tests.agno import AGNO_VERSIONS, agno_db, write_with_agno
from tests.factories import create_session, make_agent_run

pytestmark = pytest.mark.django_db(databases="__all__")

DAY0 = datetime(2026, 11, 10, tzinfo=UTC)  # the first day of the generated sessions
DAYS = 5
AGENTS = ("research-agent", "support-agent", "billing-agent")


def make_sessions(layout: str, count: int = 40, seed: int = 7) -> list[dict]:
    """Sessions over DAYS days, of three agents and four users, with tokens and runs (some errored,
    some member runs that do not count), written in `layout`; returns what was written."""
    rng = random.Random(seed)
    written = []
    for number in range(count):
        created = int((DAY0 + timedelta(seconds=rng.randrange(DAYS * 86400))).timestamp())
        agent = rng.choice(AGENTS)
        tokens_in, tokens_out = rng.randrange(10, 2000), rng.randrange(10, 900)
        session_id = f"s{layout}-{number}"
        runs, statuses, durations = [], [], []
        for index in range(rng.randrange(0, 4)):
            status = rng.choice(("COMPLETED", "COMPLETED", "ERROR"))
            runs.append(
                make_agent_run(
                    session_id, created_at=created + index, seed=number, run_id=f"{session_id}-r{index}", status=status
                )
            )
            statuses.append(status)
            durations.append((runs[-1]["metrics"]["duration"], runs[-1]["run_id"]))
        if runs and number % 5 == 0:
            member = make_agent_run(session_id, created_at=created, run_id=f"{session_id}-m", status="ERROR")
            runs.insert(0, member | {"parent_run_id": runs[0]["run_id"]})
        create_session(
            session_id=session_id,
            layout=layout,
            runs=runs,
            agent_id=agent,
            user_id=f"user{number % 4}@example.com",
            created_at=created,
            updated_at=created + 30,
            session_data={
                "session_name": f"n{number}",
                "session_metrics": {"input_tokens": tokens_in, "output_tokens": tokens_out},
            },
        )
        written.append(
            {
                "created_at": created,
                "agent_id": agent,
                "user_id": f"user{number % 4}@example.com",
                "input": tokens_in,
                "output": tokens_out,
                "runs": len(statuses),
                "errors": statuses.count("ERROR"),
                "durations": durations,
            }
        )
    return written


def selection(start: datetime, end: datetime, **params) -> overview.Selection:
    """The sessions created in [start, end) with the list's filters `params`, as the overview selects them."""
    data = QueryDict(mutable=True)
    data.update(params)
    start_epoch, end_epoch = int(start.timestamp()), int(end.timestamp())
    sessions = SessionFilter(data, queryset=overview._sessions()).qs.filter(
        created_at__gte=start_epoch, created_at__lt=end_epoch
    )
    filters = {"session_type" if name == "type" else name: value for name, value in params.items()}
    return overview.Selection(start_epoch, end_epoch, filters, sessions)


def totals(figures: dict[int, overview.Figures]) -> overview.Figures:
    return overview.total(figures)


def expected(rows: list[dict]) -> tuple[int, int, int, int, int]:
    return (
        len(rows),
        sum(row["runs"] for row in rows),
        sum(row["errors"] for row in rows),
        sum(row["input"] for row in rows),
        sum(row["output"] for row in rows),
    )


def as_tuple(figures: overview.Figures) -> tuple[int, int, int, int, int]:
    return (figures.sessions, figures.runs, figures.errored_runs, figures.input_tokens, figures.output_tokens)


@pytest.mark.parametrize("layout", ["2", "3"])
def test_figures_per_day_and_per_hour_equal_the_counts_of_the_factory_data(layout):
    written = make_sessions(layout)
    overview.refresh()
    start, end = DAY0 + timedelta(days=1), DAY0 + timedelta(days=4)
    inside = [row for row in written if start.timestamp() <= row["created_at"] < end.timestamp()]
    assert expected(inside)[2] > 0  # some runs errored
    per_day = overview.per_day(selection(start, end))
    for day, figures in per_day.items():
        of_day = [row for row in inside if day <= row["created_at"] < day + 86400]
        assert as_tuple(figures) == expected(of_day)
    assert as_tuple(totals(per_day)) == expected(inside)
    # A day's hours are read from Agno's tables: the same figures, per hour.
    per_hour = overview.per_hour(selection(start, end))
    assert {hour: f.sessions for hour, f in per_hour.items()} == dict(
        Counter(row["created_at"] - row["created_at"] % 3600 for row in inside)
    )
    for hour, figures in per_hour.items():
        assert as_tuple(figures) == expected([row for row in inside if hour <= row["created_at"] < hour + 3600])


@pytest.mark.parametrize("layout", ["2", "3"])
def test_filters_and_top_groups(layout):
    written = make_sessions(layout)
    overview.refresh()
    start, end = DAY0, DAY0 + timedelta(days=DAYS)
    agent = AGENTS[1]
    of_agent = [row for row in written if row["agent_id"] == agent]
    total = totals(overview.per_day(selection(start, end, agent_id=agent)))
    assert (total.sessions, total.input_tokens, total.runs) == (
        len(of_agent),
        sum(row["input"] for row in of_agent),
        sum(row["runs"] for row in of_agent),
    )
    by_sessions = overview.top(selection(start, end), "agent_id", by="sessions")
    counts = Counter(row["agent_id"] for row in written)
    assert [(r.value, r.sessions) for r in by_sessions] == sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    by_tokens = overview.top(selection(start, end), "user_id", by="tokens")
    tokens = Counter()
    for row in written:
        tokens[row["user_id"]] += row["input"] + row["output"]
    assert [(r.value, r.tokens) for r in by_tokens] == sorted(tokens.items(), key=lambda item: (-item[1], item[0]))
    assert [(r.value, r.tokens) for r in overview.top(selection(start, end), "model", by="tokens")] == [
        ("gpt-4o", sum(tokens.values()))
    ]


@pytest.mark.parametrize("layout", ["2", "3"])
def test_the_slowest_runs_are_those_of_the_factory_data(layout):
    written = make_sessions(layout, count=60)
    overview.refresh()
    start, end = DAY0, DAY0 + timedelta(days=DAYS)

    def slowest(rows):
        timed = sorted((-duration, run_id) for row in rows for duration, run_id in row["durations"])
        return [(run_id, -negative) for negative, run_id in timed[: overview.TOP]]

    assert [(run.run_id, run.duration) for run in overview.slowest_runs(selection(start, end))] == slowest(written)
    of_agent = [row for row in written if row["agent_id"] == AGENTS[2]]
    found = overview.slowest_runs(selection(start, end, agent_id=AGENTS[2]))
    assert [(run.run_id, run.duration) for run in found] == slowest(of_agent)
    # Two filters: read from Agno's tables for the selected sessions.
    of_both = [row for row in of_agent if row["user_id"] == "user1@example.com"]
    found = overview.slowest_runs(selection(start, end, agent_id=AGENTS[2], user_id="user1@example.com"))
    assert [(run.run_id, run.duration) for run in found] == slowest(of_both) != []
    day = DAY0 + timedelta(days=3)
    of_day = [row for row in written if day.timestamp() <= row["created_at"] < day.timestamp() + 86400]
    found = overview.slowest_runs(selection(day, day + timedelta(days=1), user_id="user2@example.com"))
    assert [(run.run_id, run.duration) for run in found] == slowest(
        [row for row in of_day if row["user_id"] == "user2@example.com"]
    )


def test_refresh_recomputes_only_changed_days_and_sees_new_updated_and_deleted_sessions():
    written = make_sessions("3", count=10)
    assert overview.freshness().refreshed_at is None
    first = overview.refresh()
    assert first.recomputed_days == len({row["created_at"] // 86400 for row in written})
    # Nothing changed: only the newest write's day is read again (a write in that second may be new).
    assert overview.refresh().recomputed_days == 1
    day = DAY0 + timedelta(days=2)
    one_day = (day, day + timedelta(days=1))
    before = totals(overview.per_day(selection(*one_day)))
    late = int((day + timedelta(hours=5)).timestamp())
    create_session(
        session_id="late",
        created_at=late,
        updated_at=late,
        runs=[make_agent_run("late", created_at=late, run_id="late-r", status="ERROR")],
        session_data={"session_metrics": {"input_tokens": 1000, "output_tokens": 7}},
    )
    overview.refresh()
    after = totals(overview.per_day(selection(*one_day)))
    assert as_tuple(after) == (
        before.sessions + 1,
        before.runs + 1,
        before.errored_runs + 1,
        before.input_tokens + 1000,
        before.output_tokens + 7,
    )
    # Agno rewrites the session after another run: its tokens change, its count does not.
    overview._sessions().filter(pk="late").update(
        session_data={"session_metrics": {"input_tokens": 3000, "output_tokens": 7}}, updated_at=late + 10**6
    )
    overview.refresh()
    assert totals(overview.per_day(selection(*one_day))).input_tokens == before.input_tokens + 3000
    overview._sessions().filter(pk="late").delete()
    overview.refresh()
    assert totals(overview.per_day(selection(*one_day))) == before


def test_a_page_views_refresh_reads_its_range_only_and_leaves_the_other_days_pending():
    written = make_sessions("3", count=30)
    day = DAY0 + timedelta(days=1)
    window = (int(day.timestamp()), int((day + timedelta(days=1)).timestamp()))
    done = overview.refresh(window)
    assert done.recomputed_days == 1
    other_days = {row["created_at"] - row["created_at"] % 86400 for row in written} - {window[0]}
    assert done.pending_days == other_days
    assert not done.is_stale(window) and done.is_stale((window[1], window[1] + 86400))
    assert set(OverviewDay.objects.values_list("day", flat=True)) == {window[0]}
    everything = overview.refresh()
    assert everything.pending_days == frozenset() and everything.recomputed_days == len(other_days)
    start, end = DAY0, DAY0 + timedelta(days=DAYS)
    assert as_tuple(totals(overview.per_day(selection(start, end)))) == expected(written)


def test_the_summary_stays_in_the_dashboards_database(settings):
    settings.AGNO_DB_ALIAS = "agno"
    router = AgnoRouter()
    assert router.db_for_write(OverviewDay) is None  # the default database
    assert not router.allow_migrate("agno", "sessions_ui", model_name="overviewday")


# --- The page.


def overview_page(client, **params):
    return client.get("/overview/", params)


def test_overview_needs_a_login_and_the_view_permission(client, django_user_model):
    assert overview_page(client).status_code == 302
    client.force_login(django_user_model.objects.create_user("nobody"))
    assert overview_page(client).status_code == 403


def test_every_bar_and_ranking_counts_the_sessions_of_the_list_it_links_to(viewer_client):
    make_sessions("3")
    overview.refresh()
    response = overview_page(
        viewer_client, created_after="2026-11-10", created_before="2026-11-14", user_id="user1@example.com"
    )
    assert response.status_code == 200
    page = response.context["ov"]
    assert page.total.sessions == 10
    checked = 0
    for bucket in page.buckets:
        url = urlsplit(bucket.href)
        assert url.path == "/sessions/"
        listed = SessionList(QueryDict(url.query)).sessions.count()
        assert listed == bucket.figures.sessions
        checked += listed
    assert checked == page.total.sessions
    for ranking in page.rankings:
        for row in ranking.rows:
            if row.href and ranking.unit == "sessions":
                assert SessionList(QueryDict(urlsplit(row.href).query)).sessions.count() == row.value
    body = response.content.decode()
    slowest = page.slowest_runs[0]
    assert f'href="{escape(slowest.href)}"' in body and slowest.href.startswith(f"/sessions/{slowest.session_id}/?run=")
    assert body.count("<svg") >= 3 and "as a table</summary>" in body
    day = page.buckets[0]
    assert f'href="{escape(day.href)}"' in body
    assert "created_after=2026-11-10&amp;created_before=2026-11-10" in escape(day.href)
    assert "user_id=user1%40example.com" in day.href


def test_one_day_is_shown_per_hour_and_htmx_gets_the_fragment(viewer_client):
    written = make_sessions("2")
    one_day = {"created_after": "2026-11-11", "created_before": "2026-11-11"}
    fragment = viewer_client.get("/overview/", one_day, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and 'id="figures"' in fragment and "<svg" in fragment
    page = overview_page(viewer_client, **one_day).context["ov"]
    assert [bucket.label for bucket in page.buckets][:2] == ["00:00", "01:00"] and len(page.buckets) == 24
    day = DAY0 + timedelta(days=1)
    expected = Counter(
        (row["created_at"] - int(day.timestamp())) // 3600
        for row in written
        if 0 <= row["created_at"] - day.timestamp() < 86400
    )
    assert {n: bucket.figures.sessions for n, bucket in enumerate(page.buckets) if bucket.figures.sessions} == expected


@pytest.mark.parametrize(
    ("params", "notice"),
    [
        ({"created_after": "yesterday"}, "is not a date"),
        ({"created_after": "2026-11-20", "created_before": "2026-11-01"}, "before it starts"),
        ({"created_after": "2020-01-01", "created_before": "2026-11-01"}, "at most 366 days"),
        ({"type": "robot"}, "is not a session type"),
        ({"q": "weather"}, "does not search"),
    ],
)
def test_bad_input_gets_a_notice_and_a_default(viewer_client, params, notice):
    response = overview_page(viewer_client, **params)
    assert response.status_code == 200
    assert notice in response.content.decode()
    page = response.context["ov"]
    assert page.period.days in (14, 366)


def test_a_page_shows_a_stale_summary_at_once_and_its_htmx_request_refreshes_it(viewer_client):
    make_sessions("3", count=8)
    week = {"created_after": "2026-11-10", "created_before": "2026-11-16"}
    page = overview_page(viewer_client, **week)
    assert page.context["ov"].total.sessions == 8  # counted in Agno's table
    assert page.context["ov"].total.input_tokens == 0  # the summary was never built
    body = page.content.decode()
    assert "data-summary-refresh" in body and "refreshing…" in body
    assert overview.freshness().refreshed_at is None
    fragment = viewer_client.get("/overview/", week, HTTP_HX_REQUEST="true").content.decode()
    assert "data-summary-refresh" not in fragment and re.search(
        r'summary updated <time [^>]+>[^<]+</time> <span class="ago">just now', fragment
    )
    assert overview.freshness().refreshed_at is not None
    assert "data-summary-refresh" not in overview_page(viewer_client, **week).content.decode()


def test_an_empty_range_says_so(viewer_client):
    body = overview_page(viewer_client, created_after="2026-01-01", created_before="2026-01-03").content.decode()
    assert "No sessions in this range" in body and "<svg" not in body


def test_headlines_compare_with_the_previous_period(viewer_client):
    written = make_sessions("3")
    page = overview_page(viewer_client, created_after="2026-11-12", created_before="2026-11-13").context["ov"]

    def sessions_between(first_day: int, days: int) -> int:
        start = (DAY0 + timedelta(days=first_day)).timestamp()
        return sum(1 for row in written if start <= row["created_at"] < start + days * 86400)

    now, before = sessions_between(2, 2), sessions_between(0, 2)
    assert (page.total.sessions, page.previous_total.sessions) == (now, before)
    sessions = page.headlines[0]
    assert sessions.value == f"{now:,}"
    assert sessions.change == f"{(now - before) / before:+.0%}" and sessions.tone == ""


def test_only_errors_are_coloured_as_better_or_worse():
    from sessions_ui.overview import _headline

    assert (
        _headline("Errored runs", 3, 1, "/", errors=True).change,
        _headline("Errored runs", 3, 1, "/", errors=True).tone,
    ) == ("+200%", "bad")
    assert _headline("Errored runs", 1, 4, "/", errors=True).tone == "good"
    assert _headline("Sessions", 3, 1, "/").tone == ""
    assert _headline("Sessions", 3, 0, "/").change == ""  # nothing to compare with


def test_the_command_refreshes_the_summary():
    make_sessions("3", count=5)
    out = StringIO()
    call_command("overview_summary", stdout=out)
    assert "day(s) recomputed" in out.getvalue()
    assert overview.freshness().refreshed_at is not None
    assert sum(OverviewDay.objects.values_list("sessions", flat=True)) == 5


def test_a_session_both_agno_versions_wrote_counts_each_run_once():
    """Agno 3.x adds runs to a 2.x session in its runs table, and its migration copies inline runs there."""
    created = int((DAY0 + timedelta(hours=3)).timestamp())
    inline = [
        make_agent_run("mixed", created_at=created, run_id="old", status="COMPLETED", seed=1),
        make_agent_run("mixed", created_at=created + 1, run_id="copied", status="ERROR", seed=2),
    ]
    create_session(session_id="mixed", layout="2", runs=inline, created_at=created, updated_at=created + 5)
    Run = current_source().Run
    for run_id, status, seed in (("copied", "ERROR", 2), ("new", "COMPLETED", 3)):
        run = make_agent_run("mixed", created_at=created + 2, run_id=run_id, status=status, seed=seed)
        Run.objects.create(
            run_id=run_id, session_id="mixed", run_type="agent", status=status, run_data=run, created_at=created + 2
        )
    overview.refresh()
    one_day = selection(DAY0, DAY0 + timedelta(days=1))
    figures = totals(overview.per_day(one_day))
    assert (figures.sessions, figures.runs, figures.errored_runs) == (1, 3, 1)
    assert sorted(run.run_id for run in overview.slowest_runs(one_day)) == ["copied", "new", "old"]


# --- Sessions the real agno writes (2.x: runs inline; 3.x: the runs table), after the summary was built.


@pytest.mark.agno
@pytest.mark.django_db(transaction=True, databases="__all__")
@pytest.mark.parametrize("version", AGNO_VERSIONS)
def test_a_session_agno_writes_after_the_summary_was_built_appears_after_refresh(version, fake_openai_url):
    today = timezone.localdate()
    start = timezone.make_aware(datetime.combine(today, datetime.min.time()))
    this_day = (start, start + timedelta(days=1))
    overview.refresh()
    assert totals(overview.per_day(selection(*this_day))).sessions == 0
    db = agno_db()
    session_id = f"overview / agno {version}"
    [written] = write_with_agno(
        version, db, fake_openai_url, "agent", session_id, "weather-agent", "ada@example.com", "Lisbon?"
    )
    overview.refresh()
    metrics = written["agno"]["session_data"]["session_metrics"]
    figures = totals(overview.per_day(selection(*this_day)))
    assert (figures.sessions, figures.runs, figures.input_tokens, figures.output_tokens) == (
        1, 1, metrics["input_tokens"], metrics["output_tokens"]
    )  # fmt: skip
    assert metrics["input_tokens"] > 0
    # Agno runs the session again: the same session, one more run and more tokens.
    [again] = write_with_agno(
        version, db, fake_openai_url, "agent", session_id, "weather-agent", "ada@example.com", "Kyoto?"
    )
    overview.refresh()
    metrics = again["agno"]["session_data"]["session_metrics"]
    figures = totals(overview.per_day(selection(*this_day)))
    assert (figures.sessions, figures.runs, figures.input_tokens) == (1, 2, metrics["input_tokens"])
