"""Login throttling (django-axes) and no password reset (issue 12, item 4).

After LOGIN_FAILURE_LIMIT (5) wrong passwords for one username, or from one address, that username or
address is locked for LOGIN_LOCKOUT_MINUTES (15) after the last attempt, with a page that says so;
`manage.py axes_reset_username` unlocks.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import call_command
from django.test import Client, RequestFactory, override_settings
from django.utils import timezone

from sessions_ui.accounts import client_ip
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
LOGIN = "/accounts/login/"
LIMIT = 5


@pytest.fixture
def ada():
    return make_user("ada", "view_agnosession")  # password "pw"


def attempt(username: str, password: str, address: str = "10.0.0.1", **headers):
    client = Client(REMOTE_ADDR=address, **headers)
    response = client.post(LOGIN, {"username": username, "password": password})
    return response, "_auth_user_id" in client.session


def assert_locked(response) -> None:
    assert response.status_code == 429
    html = response.content.decode()
    assert "<h1>Login locked</h1>" in html
    assert f"Too many wrong passwords ({LIMIT}) for this username or from your address" in html
    assert "locked for 15 minutes after the last attempt" in html
    assert "manage.py axes_reset_username NAME" in html
    assert 'class="login card"' in html and "Content-Security-Policy" in response.headers  # the site's own page


def test_the_settings_are_the_documented_defaults():
    assert settings.AXES_FAILURE_LIMIT == LIMIT
    assert settings.AXES_COOLOFF_TIME == timedelta(minutes=15)
    assert settings.AXES_LOCKOUT_PARAMETERS == ["username", "ip_address"]


def test_wrong_passwords_for_one_username_lock_it_from_anywhere(ada):
    for index in range(LIMIT - 1):
        response, logged_in = attempt("ada", "wrong", address=f"10.0.1.{index}")
        assert response.status_code == 200 and not logged_in
        assert "Your username and password did not match" in response.content.decode()
    response, _ = attempt("ada", "wrong", address="10.0.1.99")  # the last one allowed locks
    assert_locked(response)
    response, logged_in = attempt("ada", "pw", address="10.0.2.1")  # the right password, from elsewhere
    assert_locked(response)
    assert not logged_in
    make_user("grace", "view_agnosession")
    assert attempt("grace", "pw", address="10.0.2.1")[1]  # other usernames are not affected


def test_wrong_passwords_from_one_address_lock_it_whatever_the_username(ada):
    for index in range(LIMIT):
        response, _ = attempt(f"guess{index}", "wrong", address="10.0.3.3")
    assert_locked(response)
    response, logged_in = attempt("ada", "pw", address="10.0.3.3")
    assert_locked(response)
    assert not logged_in
    assert attempt("ada", "pw", address="10.0.3.4")[1]  # ada herself, from her own address


def test_a_successful_login_resets_the_count(ada):
    for _ in range(LIMIT - 1):
        attempt("ada", "wrong")
    assert attempt("ada", "pw")[1]
    for _ in range(LIMIT - 1):
        response, _ = attempt("ada", "wrong")
        assert response.status_code == 200


def test_the_unlock_command_and_the_cool_off(ada):
    for _ in range(LIMIT):
        attempt("ada", "wrong", address="10.0.4.4")
    assert_locked(attempt("ada", "pw", address="10.0.4.5")[0])
    call_command("axes_reset_username", "ada", stdout=open(os.devnull, "w"))
    assert attempt("ada", "pw", address="10.0.4.5")[1]

    for _ in range(LIMIT):
        attempt("nobody", "wrong", address="10.0.4.6")
    assert_locked(attempt("ada", "pw", address="10.0.4.6")[0])
    call_command("axes_reset_ip", "10.0.4.6", stdout=open(os.devnull, "w"))
    assert attempt("ada", "pw", address="10.0.4.6")[1]

    for _ in range(LIMIT):
        attempt("ada", "wrong", address="10.0.4.7")
    assert_locked(attempt("ada", "pw", address="10.0.4.8")[0])
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=15, seconds=5))
    assert attempt("ada", "pw", address="10.0.4.8")[1]  # the cool-off is over


def test_the_django_admin_login_is_throttled_too(ada):
    client = Client(REMOTE_ADDR="10.0.5.5")
    for _ in range(LIMIT):
        response = client.post("/admin/login/", {"username": "root", "password": "wrong"})
    assert response.status_code == 429


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "6.6.6.6", "10.9.9.9"),  # no proxy: what a client writes in the header is not believed
        (1, "1.2.3.4", "1.2.3.4"),
        (1, "6.6.6.6, 1.2.3.4", "1.2.3.4"),  # the client's own X-Forwarded-For is further left
        (2, "6.6.6.6, 1.2.3.4, 10.0.0.7", "1.2.3.4"),
        (1, "", "10.9.9.9"),
        (3, "1.2.3.4", "1.2.3.4"),
    ],
)
def test_the_address_behind_trusted_proxies(proxies, forwarded, expected):
    request = RequestFactory().get("/", REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR=forwarded)
    with override_settings(TRUSTED_PROXY_COUNT=proxies):
        assert client_ip(request) == expected


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_a_proxy_one_attacker_does_not_lock_everybody_out(ada):
    proxy = {"address": "10.0.0.254"}
    for index in range(LIMIT):
        attempt(f"guess{index}", "wrong", **proxy, HTTP_X_FORWARDED_FOR="203.0.113.66")
    assert_locked(attempt("ada", "pw", **proxy, HTTP_X_FORWARDED_FOR="203.0.113.66")[0])
    assert attempt("ada", "pw", **proxy, HTTP_X_FORWARDED_FOR="198.51.100.7")[1]


def test_password_reset_is_gone(ada):
    for path in ("/accounts/password_reset/", "/accounts/password_reset/done/", "/accounts/reset/MQ/x/"):
        assert Client().get(path).status_code == 404, path
    assert Client().post("/accounts/password_reset/", {"email": "ada@example.com"}).status_code == 404
    client = Client()
    client.force_login(ada)
    assert client.get("/accounts/password_change/").status_code == 200  # changing one's own stays


def test_limit_and_lockout_come_from_the_environment():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(LOGIN_FAILURE_LIMIT="3", LOGIN_LOCKOUT_MINUTES="2.5", TRUSTED_PROXY_COUNT="1")
    code = (
        "from django.conf import settings as s; print(s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME, s.TRUSTED_PROXY_COUNT)"
    )
    completed = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert completed.stdout.strip().splitlines()[-1] == "3 0:02:30 1", completed.stderr
