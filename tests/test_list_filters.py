"""The list's filters by name and by recent dates (issue 19, items 1 and 2): an agent, team, workflow or
user typed as a name or in any case finds its sessions by id; `created_within` / `updated_within` presets."""

from __future__ import annotations

import re
import time

import pytest
from django.core.cache import cache

from sessions_ui import queries
from sessions_ui.models import AgnoSession
from tests.factories import create_session

pytestmark = pytest.mark.django_db

NOW = int(time.time())
HOUR = 3_600
DAY = 86_400


@pytest.fixture(autouse=True)
def _no_cached_choices():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def recent():
    """Two agents named "Travel Planner", one weather agent, a team and a user with a capitalised e-mail."""

    def make(session_id: str, created: int, updated: int, **fields) -> None:
        create_session(session_id=session_id, created_at=NOW - created, updated_at=NOW - updated, **fields)

    travel = {"name": "Travel Planner", "agent_id": "travel-agent"}
    make("fresh", HOUR, HOUR, agent_id="travel-agent", agent_data=travel, user_id="bo@example.com")
    make(
        "touched", 2 * DAY, 2 * HOUR, agent_id="weather-agent", agent_data={"name": "Weather"}, user_id="bo@example.com"
    )
    make(
        "older",
        5 * DAY,
        5 * DAY,
        agent_id="trip-agent",
        agent_data={"name": "travel planner"},
        user_id="Ada@Example.com",
    )
    make(
        "ancient", 40 * DAY, 30 * 60, agent_id="weather-agent", agent_data={"name": "Weather"}, user_id="bo@example.com"
    )
    make(
        "team",
        10 * DAY,
        10 * DAY,
        session_type="team",
        agent_id=None,
        team_id="travel-team",
        team_data={"name": "Trip Crew", "team_id": "travel-team"},
        user_id="bo@example.com",
    )


def shown(response) -> list[str]:
    return [row.session.session_id for row in response.context["page"].rows]


def chips(response) -> dict[str, str]:
    return {chip.param: chip.value for chip in response.context["chips"]}


# --- Names and ids -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected", "chip"),
    [
        # A name, in any case, finds every agent of that name, by id.
        ({"agent_id": "TRAVEL planner"}, ["fresh", "older"], "Travel Planner (travel-agent, trip-agent)"),
        ({"agent_id": "travel-agent"}, ["fresh"], "Travel Planner (travel-agent)"),  # an exact id: that one only
        ({"agent_id": "Weather-Agent"}, ["touched", "ancient"], "Weather (weather-agent)"),  # an id in another case
        ({"team_id": "trip crew"}, ["team"], "Trip Crew (travel-team)"),
        ({"user_id": "ada@example.com"}, ["older"], "Ada@Example.com"),
        ({"user_id": "Ada@Example.com"}, ["older"], "Ada@Example.com"),
    ],
)
def test_a_filter_takes_a_name_or_an_id_in_any_case(admin_client, recent, query, expected, chip):
    response = admin_client.get("/sessions/", query)
    assert response.status_code == 200
    assert shown(response) == expected
    assert not response.context["notices"]
    assert chips(response) == {next(iter(query)): chip}


def test_a_name_is_looked_up_as_ids_so_an_index_on_the_column_serves_it(admin_client, recent):
    where = str(_filter_qs({"agent_id": "travel planner"}).query).split(" WHERE ")[1]
    assert re.search(r'"agent_id"\W* IN \(', where), where
    assert "agent_data" not in where  # the name was resolved from the choices, not compared row by row


def _filter_qs(params: dict):
    from sessions_ui.filters import SessionFilter

    return SessionFilter(params, queryset=AgnoSession.objects.all()).qs


def test_a_value_that_is_neither_an_id_nor_a_name_says_so(admin_client, recent):
    response = admin_client.get("/sessions/", {"agent_id": "Nobody"})
    assert shown(response) == []
    assert response.context["notices"] == [
        "No agent has the id or name “Nobody” (names, and the ids of the 100 most frequent agents, are matched"
        " in any case; other ids only exactly)."
    ]
    response = admin_client.get("/sessions/", {"user_id": "nobody@example.com"})
    assert response.context["notices"][0].startswith("No user has the id “nobody@example.com” (the ids of the 100")


def test_the_choices_offer_names_ids_and_counts(admin_client, recent):
    html = admin_client.get("/sessions/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="filter-choices").text
    assert (
        '<option value="weather-agent" label="Weather · 2 sessions" data-label="Weather (weather-agent)"></option>'
        in html
    )
    assert '<option value="bo@example.com" label="4 sessions"></option>' in html
    full = admin_client.get("/sessions/").text  # the comboboxes' inputs, and the choices now cached inline
    assert 'data-label="Trip Crew (travel-team)"' in full
    assert re.search(r'<input name="user_id" value="" list="choices-user_id"[^>]* data-combobox', full)


def test_a_bulk_delete_by_name_deletes_what_the_list_shows(admin_client, recent):
    response = admin_client.post("/sessions/delete/", {"all_matching": "1", "agent_id": "travel planner"})
    assert response.status_code == 200
    form = {name: value for name, value in re.findall(r'name="(\w+)" value="([^"]*)"', response.text)}
    admin_client.post("/sessions/delete/", {**form, "confirm": "yes"})
    assert sorted(AgnoSession.objects.values_list("pk", flat=True)) == ["ancient", "team", "touched"]


# --- Presets -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected", "chip"),
    [
        ({"created_within": "24h"}, ["fresh"], "last 24 hours"),
        ({"created_within": "3d"}, ["fresh", "touched"], "last 3 days"),
        ({"created_within": "7d"}, ["fresh", "touched", "older"], "last 7 days"),
        ({"created_within": "30d"}, ["fresh", "touched", "older", "team"], "last 30 days"),
        # A recent update of an old session is found.
        ({"updated_within": "24h"}, ["fresh", "touched", "ancient"], "last 24 hours"),
        ({"updated_within": "7d"}, ["fresh", "touched", "older", "ancient"], "last 7 days"),
    ],
)
def test_created_and_updated_within(admin_client, recent, query, expected, chip):
    response = admin_client.get("/sessions/", query)
    assert shown(response) == expected
    assert not response.context["notices"]
    assert chips(response) == {next(iter(query)): chip}


def test_presets_combine_with_the_other_filters(admin_client, recent):
    response = admin_client.get("/sessions/", {"updated_within": "24h", "agent_id": "weather"})
    assert shown(response) == ["touched", "ancient"]
    assert chips(response) == {"agent_id": "Weather (weather-agent)", "updated_within": "last 24 hours"}


@pytest.mark.parametrize("param", ["created_within", "updated_within"])
@pytest.mark.parametrize("value", ["2w", "24H", "1", "<b>"])
def test_an_invalid_preset_is_ignored_with_a_notice(admin_client, recent, param, value):
    response = admin_client.get("/sessions/", {param: value})
    assert response.status_code == 200
    assert len(shown(response)) == 5
    label = param.replace("_", " ")
    assert response.context["notices"] == [
        f"“{value}” is not a range (24h, 3d, 7d, 30d): the {label} filter is ignored."
    ]
    assert chips(response) == {}


def test_an_invalid_preset_refuses_an_export(admin_client, recent):
    response = admin_client.get("/sessions/export.csv", {"updated_within": "1y"})
    assert response.status_code == 400


def test_updated_within_without_an_index_looks_at_the_newest_window(admin_client, recent, monkeypatch):
    """No index serves updated_at: the filter reads only the NEWEST_WINDOW newest sessions, and says so."""
    monkeypatch.setattr(queries.pages, "NEWEST_WINDOW", 3)
    response = admin_client.get("/sessions/", {"updated_within": "24h"})
    assert shown(response) == ["fresh", "touched"]  # "ancient" is older than the 3 newest
    assert response.context["notices"] == [
        "“Updated within” looks at the 3 newest sessions only: no index serves updated_at on the whole table"
        " (manage.py agno_indexes --apply adds one)."
    ]


def test_updated_within_with_the_index_reads_the_whole_table(admin_client, recent, monkeypatch):
    from sessions_ui import filters

    monkeypatch.setattr(queries.pages, "NEWEST_WINDOW", 3)
    monkeypatch.setattr(filters, "has_index", lambda suffix: True)
    response = admin_client.get("/sessions/", {"updated_within": "24h"})
    assert shown(response) == ["fresh", "touched", "ancient"]
    assert not response.context["notices"]
    # Ordered by an expression, not walking created_at's index: the updated_at index finds the rows.
    where = str(response.context["cl"].sessions.query).split(" WHERE ")[1]
    assert str(queries.pages.SMALLEST_BIGINT) not in where, where


def test_the_filter_bar_offers_the_presets(admin_client, recent):
    html = admin_client.get("/sessions/", {"created_within": "7d"}).text
    assert '<option value="7d" selected>Created: last 7 days</option>' in html
    assert '<option value="24h">Updated: last 24 hours</option>' in html
    assert '<p id="filters-message" class="filters-message" role="alert" hidden></p>' in html


def test_the_overview_links_to_the_list_by_dates_still(admin_client, recent):
    html = admin_client.get("/overview/").text
    link = re.search(r'href="(/sessions/\?created_after=[^"]+)"', html)
    assert link, "the overview links to the list by created_after / created_before"
    response = admin_client.get(link.group(1).replace("&amp;", "&"))
    assert response.status_code == 200
    assert not response.context["notices"]
