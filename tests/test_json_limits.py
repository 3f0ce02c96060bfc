"""JSON that PostgreSQL or Agno cannot store is a field error, like invalid JSON, on both legs (issue 12, item 8).

Python's json reads `1e999` as Infinity and `"\\ud800"` as a lone surrogate: PostgreSQL's jsonb refuses
both (a 500 before), SQLite stored the invalid JSON `Infinity`, and no UTF-8 text can hold a lone surrogate.
"""

from __future__ import annotations

from html import unescape

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from sessions_ui import agno
from sessions_ui.models import AgnoSession
from tests.factories import create_session

pytestmark = pytest.mark.django_db

SESSION_ID = "json limits ✓"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def session():
    return create_session(
        session_id=SESSION_ID,
        session_data={"session_name": "Limits", "session_state": {"n": 1}},
        metadata={"m": 1},
        summary={"summary": "s", "topics": []},
    )


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


def stored_row() -> tuple:
    return AgnoSession.objects.filter(pk=SESSION_ID).values_list("session_data", "metadata", "summary", "updated_at")[0]


def post_edit(client, session, field: str, text: str, **headers):
    return client.post(
        reverse("sessions_ui:edit", args=[SESSION_ID]), {field: text, "updated_at": session.updated_at}, **headers
    )


@pytest.mark.parametrize(
    ("field", "text", "message"),
    [
        ("session_state", '{"x": 1e999}', "Invalid JSON: the number 1e999 is too large to store"),
        ("session_state", '{"x": -1e999}', "Invalid JSON: the number -1e999 is too large to store"),
        ("session_state", '{"deep": [1, {"y": 2.5e400}]}', "the number 2.5e400 is too large"),
        ("metadata", '{"x": 1E999}', "the number 1E999 is too large"),
        ("summary", '{"summary": "s", "topics": [], "score": 1e999}', "the number 1e999 is too large"),
        ("session_state", '{"x": Infinity}', "Infinity is not valid JSON"),
        ("session_state", '{"x": -Infinity}', "-Infinity is not valid JSON"),
        ("session_state", '{"x": NaN}', "NaN is not valid JSON"),
        ("session_state", '{"x": "\\ud800"}', "\\ud800 on its own"),
        ("session_state", '{"x": "tail \\udfff"}', "\\udfff on its own"),
        ("metadata", '{"\\ud83d": "a key"}', "\\ud83d on its own"),
        ("session_state", '{"x": "\\ude00\\ud83d"}', "\\ude00 on its own"),  # a pair in the wrong order
        ("summary", '{"summary": "\\udbff"}', "\\udbff on its own"),
    ],
)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_json_that_cannot_be_stored_is_a_field_error_and_writes_nothing(
    editor_client, session, field, text, message, htmx
):
    before = stored_row()
    response = post_edit(editor_client, session, field, text, **(HTMX if htmx else {}))
    assert response.status_code == 400
    html = unescape(response.content.decode())
    assert message in html
    assert "Not saved." in html
    assert text in html  # what the user typed is kept
    assert ("<html" in html) is not htmx
    assert stored_row() == before
    assert not LogEntry.objects.exists()


def test_numbers_and_text_that_can_be_stored_still_save(editor_client, session):
    state = '{"big": 1e308, "small": -2.5e-300, "huge_int": 123456789012345678901234567890, "emoji": "\\ud83d\\ude00"}'
    response = post_edit(editor_client, session, "session_state", state)
    assert response.status_code == 302, unescape(response.content.decode())[:2000]
    saved = agno.decode_json(AgnoSession.objects.get(pk=SESSION_ID).session_data)["session_state"]
    # jsonb keeps numbers as numeric and prints 1e308 with all its digits: the same number, read back as an int.
    assert float(saved.pop("big")) == 1e308
    assert saved == {"small": -2.5e-300, "huge_int": 123456789012345678901234567890, "emoji": "😀"}
