"""Issue 19, item 8: the role beside the user name, the dashboard's own 403 and 404 pages (also with DEBUG
on), and the light-mode green text's contrast."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def role_badge(client) -> str:
    html = client.get(reverse("sessions_ui:list")).content.decode()
    found = re.findall(r'<span class="badge account-role"[^>]*>([^<]*)</span>', html)
    assert len(found) == 1, html
    return found[0]


@pytest.mark.parametrize(
    ("codenames", "superuser", "expected"),
    [
        (("view_agnosession",), False, "viewer"),
        (("view_agnosession", "change_agnosession"), False, "editor"),
        (("view_agnosession", "change_agnosession", "delete_agnosession"), False, "admin"),
        ((), True, "admin"),
    ],
)
def test_the_header_names_the_role(client, codenames, superuser, expected):
    client.force_login(make_user("someone", *codenames, superuser=superuser))
    assert role_badge(client) == expected


@override_settings(READ_ONLY=True)
def test_read_only_mode_says_so_beside_the_role(client):
    client.force_login(make_user("boss", superuser=True))
    assert role_badge(client) == "admin · read-only"


def test_a_login_without_the_view_permission_gets_the_styled_403_with_a_way_back(client):
    client.force_login(make_user("nobody"))
    response = client.get(reverse("sessions_ui:list"))
    assert response.status_code == 403
    html = response.content.decode()
    assert 'class="not-found card"' in html and "Not allowed" in html
    assert f'href="{reverse("sessions_ui:list")}"' in html
    assert '<link rel="stylesheet"' in html
    assert 'class="badge account-role"' not in html  # no role at all: nothing to show


@pytest.mark.parametrize("debug", [False, True])
def test_a_missing_session_gets_the_styled_404_also_with_debug(viewer_client, debug):
    with override_settings(DEBUG=debug):
        response = viewer_client.get(reverse("sessions_ui:detail", args=["no such <session>"]))
    assert response.status_code == 404
    html = response.content.decode()
    assert 'class="not-found card"' in html
    assert "There is no session “no such &lt;session&gt;”." in html  # the view's message, escaped
    assert f'href="{reverse("sessions_ui:list")}"' in html
    assert "Django tried these URL patterns" not in html and "technical" not in html.lower()
    assert '<span class="badge account-role"' in html  # the dashboard's own header, logged in


def relative_luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    lighter, darker = sorted([relative_luminance(one), relative_luminance(other)], reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_light_mode_green_text_meets_4_5_to_1_on_every_light_background():
    css = (Path(settings.BASE_DIR) / "static" / "css" / "app.css").read_text()
    light = css.split("@media (prefers-color-scheme: dark)")[0]
    variables = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", light))
    for background in ("bg", "bg-soft", "bg-hover", "ok-soft", "accent-soft"):
        ratio = contrast(variables["ok"], variables[background])
        assert ratio >= 4.5, f"--ok on --{background}: {ratio:.2f}:1"
