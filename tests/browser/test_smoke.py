import pytest

from tests.factories import create_session

pytestmark = pytest.mark.browser


def test_login_and_see_sessions(admin_page, live_server):
    session = create_session()
    admin_page.goto(f"{live_server.url}/sessions/")
    assert session.session_id in admin_page.content()
    assert admin_page.evaluate("typeof htmx") == "object"
