import pytest
from django.contrib.auth.models import Permission, User

from sessions_ui.schema import forget_layout
from tests.agno.fixtures import (  # noqa: F401  (shared fixtures)
    agno_sources_written,
    agno_written,
    agno_written_databases,
    fake_openai_url,
    fresh_database,
    several_sources,
)


def pytest_collection_modifyitems(config, items):
    """Vendor-specific tests run on their leg and are deselected on the other: CI reports no skips."""
    from django.conf import settings

    vendor = "postgresql" if settings.DATABASES[settings.AGNO_DB_ALIAS]["ENGINE"].endswith("postgresql") else "sqlite"
    other = {"postgresql": "sqlite", "sqlite": "postgresql"}[vendor]
    deselected = [item for item in items if item.get_closest_marker(other)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker(other)]


@pytest.fixture(autouse=True)
def _fresh_layout():
    """Tests create and drop Agno tables and sessions; never trust a layout or filter choices cached by an
    earlier test."""
    from sessions_ui.queries.totals import forget_filter_choices

    forget_layout()
    forget_filter_choices()
    yield
    forget_layout()


def make_user(username: str, *codenames: str, superuser: bool = False) -> User:
    if superuser:
        return User.objects.create_superuser(username, f"{username}@example.com", "pw")
    user = User.objects.create_user(username, password="pw")
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="sessions_ui", codename__in=codenames))
    return user


@pytest.fixture
def viewer(db) -> User:
    return make_user("viewer", "view_agnosession")


@pytest.fixture
def editor(db) -> User:
    return make_user("editor", "view_agnosession", "change_agnosession")


@pytest.fixture
def deleter(db) -> User:
    return make_user("deleter", "view_agnosession", "delete_agnosession")


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


@pytest.fixture(autouse=True)
def _empty_agno_tables_after_transactional_tests(request):
    """Django's flush between transactional tests skips unmanaged models: empty Agno's tables here."""
    yield
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or bool(marker and marker.kwargs.get("transaction"))
    if not transactional:
        return
    from django.conf import settings

    from sessions_ui.schema import agno_connection, create_agno_tables, quoted_table, table_columns

    connection = agno_connection()
    create_agno_tables(connection)  # a test may have dropped them
    with connection.cursor() as cursor:
        if table_columns(settings.AGNO_RUNS_TABLE, connection):
            cursor.execute(f"DELETE FROM {quoted_table(settings.AGNO_RUNS_TABLE)}")
        cursor.execute(f"DELETE FROM {quoted_table(settings.AGNO_SESSION_TABLE)}")
