"""Parameters: every query parameter and form field, fuzzed with hypothesis: never a 500 nor an SQL error.

The client raises what a view raises, so a database error fails the example with its traceback.
Values mix hypothesis' text with the classics: NUL, LIKE wildcards, quotes, SQL, huge and odd numbers,
dates that do not exist, unicode that changes length when case-folded.
"""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sessions_ui import agno
from sessions_ui.listing import FILTER_LABELS as LABELS
from sessions_ui.models import AgnoSession
from tests.factories import create_session, make_agent_run
from tests.hostile.support import BULK_DELETE_URL, HTMX, LIST_URL, NOW

pytestmark = pytest.mark.django_db

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

CLASSICS = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "%",
    "_",
    "%_%",
    "\\",
    "\\%",
    "'",
    '"',
    "`",
    "' OR '1'='1",
    "1; DROP TABLE agno_sessions; --",
    "') UNION SELECT session_data FROM agno_sessions --",
    "$1",
    "%s",
    "%(session_id)s",
    "{}",
    "[]",
    "null",
    "NaN",
    "-1",
    "0",
    "1e9",
    "9" * 40,
    "-" + "9" * 40,
    "0x10",
    "１２",
    "²",
    "2024-02-30",
    "0000-00-00",
    "0001-01-01",
    "9999-12-31",
    "2024-01-01T00:00",
    "-2024-01-01",
    "ß" * 100,
    "İ",
    "\u202e",
    "😀" * 50,
    "\ud7ff",
    "x" * 20_000,
    "<script>",
    "../../etc/passwd",
    "agent",
    "team",
    "-created_at",
    "updated_at",
]
TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40)
VALUE = st.one_of(st.sampled_from(CLASSICS), TEXT, st.integers().map(str), st.floats().map(str))
LIST_PARAMS = [*LABELS, "sort", "page", "live", "created_after", "created_before", "unknown"]
QUERY = st.dictionaries(st.sampled_from(LIST_PARAMS), st.lists(VALUE, min_size=1, max_size=3), max_size=6)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=20,
)
JSON_TEXT = st.one_of(JSON_VALUES.map(json.dumps), VALUE)


@pytest.fixture
def sessions(db):
    """A few sessions to filter, one per type and layout, some unnamed, with odd ids."""
    ids = ["fuzz%_1", "fuzz 'quoted'", "Fuzz\\back", "ﬁle İstanbul"]
    for index, session_id in enumerate(ids):
        runs = [make_agent_run(session_id, seed=index, created_at=NOW - 1000 * index)]
        create_session(
            session_id=session_id,
            runs=runs,
            layout="2" if index % 2 else "3",
            user_id=f"user{index % 2}@example.com",
            created_at=NOW - 86400 * index,
        )
    return ids


def no_server_error(response) -> None:
    assert response.status_code < 500, response.content[:500]


@FUZZ
@given(query=QUERY, htmx=st.booleans())
def test_list_parameters(admin_client, sessions, query, htmx):
    no_server_error(admin_client.get(LIST_URL, query, **(HTMX if htmx else {})))


@FUZZ
@given(user_id=VALUE.filter(lambda value: value and "\x00" not in value and "/" not in value), query=QUERY)
def test_user_page_parameters(admin_client, sessions, user_id, query):
    no_server_error(admin_client.get(reverse("sessions_ui:user", args=[user_id]), query))


@FUZZ
@given(raw=st.lists(st.sampled_from(["%FF", "%00", "%", "%%", "&&", "=", "==", "q", "page", "sort", "%C0%AE", ";"])))
def test_undecodable_query_strings(admin_client, sessions, raw):
    no_server_error(admin_client.get(f"{LIST_URL}?{''.join(raw)}"))
    no_server_error(admin_client.get(reverse("sessions_ui:detail", args=[sessions[0]]) + f"?{''.join(raw)}"))


@FUZZ
@given(page=VALUE, run=VALUE, htmx=st.booleans())
@example(page="1", run="\x00", htmx=False)  # was a 500 on PostgreSQL
def test_detail_and_runs_parameters(admin_client, sessions, page, run, htmx):
    detail = reverse("sessions_ui:detail", args=[sessions[1]])
    no_server_error(admin_client.get(detail, {"page": page, "run": run}))
    runs = reverse("sessions_ui:runs", args=[sessions[1]])
    no_server_error(admin_client.get(runs, {"page": page}, **(HTMX if htmx else {})))


@FUZZ
@given(session=VALUE, action=VALUE, page=VALUE)
def test_audit_parameters(admin_client, sessions, session, action, page):
    no_server_error(
        admin_client.get(reverse("sessions_ui:audit"), {"session": session, "action": action, "page": page})
    )


@FUZZ
@given(session_id=VALUE.filter(bool), run_id=VALUE.filter(bool))
def test_ids_in_paths(admin_client, sessions, session_id, run_id):
    """Any id in any path: a 404 or a redirect, never a 500 (ids with NUL or "/" included)."""
    for url in (
        f"/sessions/{session_id}/",
        f"/sessions/{session_id}/export/",
        f"/sessions/{session_id}/edit/",
        f"/sessions/{session_id}/preview/",
        f"/sessions/{session_id}/runs/",
        f"/sessions/{sessions[0]}/runs/{run_id}/",
        f"/sessions/users/{session_id}/",
    ):
        no_server_error(admin_client.get(url, **HTMX))
        no_server_error(admin_client.get(url))


EDIT_FIELDS = ["session_name", "session_state", "metadata", "summary_text", "summary_topics", "summary", "updated_at"]


@FUZZ
@given(
    fields=st.dictionaries(st.sampled_from(EDIT_FIELDS), JSON_TEXT, max_size=7),
    keep_updated_at=st.booleans(),
    htmx=st.booleans(),
)
def test_edit_form_fields(admin_client, sessions, fields, keep_updated_at, htmx):
    """Whatever is posted, and then whatever got saved, renders everywhere."""
    session_id = sessions[2]
    if keep_updated_at:
        fields["updated_at"] = str(AgnoSession.objects.get(pk=session_id).updated_at)
    response = admin_client.post(reverse("sessions_ui:edit", args=[session_id]), fields, **(HTMX if htmx else {}))
    no_server_error(response)
    for url in (reverse("sessions_ui:detail", args=[session_id]), reverse("sessions_ui:edit", args=[session_id])):
        no_server_error(admin_client.get(url))
    no_server_error(admin_client.get(LIST_URL, {"q": "back"}))
    no_server_error(admin_client.get(reverse("sessions_ui:export", args=[session_id])))


DEPTHS = [50, agno.MAX_DEPTH - 1, agno.MAX_DEPTH, 300, 600, 900, 990, 5000]


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("field", ["session_state", "metadata", "summary"])
def test_edit_with_deeply_nested_json(admin_client, sessions, field, depth):
    """Saved only as deep as the pages can show it (then read back as it was); refused with a message beyond."""
    session_id = sessions[0]
    nested = '{"a": ' * depth + "1" + "}" * depth
    text = '{"summary": "s", "topics": ' + "[" * depth + "]" * depth + "}" if field == "summary" else nested
    updated_at = str(AgnoSession.objects.get(pk=session_id).updated_at)
    url = reverse("sessions_ui:edit", args=[session_id])
    response = admin_client.post(url, {field: text, "updated_at": updated_at})
    saved = field != "summary" and depth < agno.MAX_DEPTH
    assert response.status_code == (302 if saved else 400)
    if not saved:
        assert "Nested too deeply" in response.content.decode() or field == "summary"
    detail = admin_client.get(reverse("sessions_ui:detail", args=[session_id]))
    assert detail.status_code == 200
    assert 'class="malformed"' not in detail.content.decode()
    no_server_error(admin_client.get(reverse("sessions_ui:export", args=[session_id])))


DELETE_FIELDS = [*LIST_PARAMS, "confirm", "expected", "all_matching", "session_ids"]


@FUZZ
@given(
    fields=st.dictionaries(st.sampled_from(DELETE_FIELDS), st.lists(VALUE, min_size=1, max_size=3), max_size=6),
    htmx=st.booleans(),
)
def test_delete_and_bulk_delete_fields(admin_client, sessions, fields, htmx):
    """Without confirm=yes nothing goes; with it, whatever the fields select goes, and nothing breaks."""
    fields.pop("confirm", None)
    headers = HTMX if htmx else {}
    no_server_error(admin_client.post(BULK_DELETE_URL, fields, **headers))
    no_server_error(admin_client.post(reverse("sessions_ui:delete", args=[sessions[3]]), fields, **headers))
    assert AgnoSession.objects.count() == len(sessions)


@FUZZ
@given(
    fields=st.dictionaries(st.sampled_from(DELETE_FIELDS), st.lists(VALUE, min_size=1, max_size=3), max_size=6),
)
def test_confirmed_bulk_deletes(admin_client, sessions, fields):
    fields["confirm"] = "yes"
    no_server_error(admin_client.post(BULK_DELETE_URL, fields))
    no_server_error(admin_client.get(LIST_URL))
