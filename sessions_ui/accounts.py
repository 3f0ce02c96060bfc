"""Logins: which address a login attempt comes from, the page a locked-out login gets, and --no-auth's login.

django-axes counts failed logins per username and per address (config/settings.py) and locks each
for a while after too many; `manage.py axes_reset_username NAME` (or `axes_reset_ip ADDRESS`,
`axes_reset`) unlocks.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import render
from django.utils.functional import SimpleLazyObject


def client_ip(request: HttpRequest) -> str:
    """The address to count a login attempt against.

    Behind TRUSTED_PROXY_COUNT proxies, each appending the address it got the request from to
    X-Forwarded-For, the client is that many entries from the end: what the client itself sent is
    further left and not believed. Without proxies, REMOTE_ADDR (every client would share the
    proxy's address, and one attacker would lock everybody out).
    """
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if not forwarded:
        return remote
    return forwarded[-proxies] if len(forwarded) >= proxies else forwarded[0]


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """django-axes' answer to a login while locked: the login page's look, saying for how long and who unlocks."""
    context = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "minutes": max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60)),
    }
    return render(request, "registration/locked_out.html", context, status=429)


class LocalAutoLogin:
    """`sessions-ui serve --no-auth` (settings.AUTO_LOGIN_USER): every request is that login, from this machine only.

    The command binds to 127.0.0.1 and makes the login a viewer; refusing other addresses here as well
    keeps a proxy on the same machine from opening the dashboard to the network.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not ipaddress.ip_address(request.META.get("REMOTE_ADDR") or "0.0.0.0").is_loopback:
            return HttpResponseForbidden(
                "This dashboard runs without logins (--no-auth): it answers this machine only."
            )
        request.user = SimpleLazyObject(lambda: User.objects.get(username=settings.AUTO_LOGIN_USER))
        return self.get_response(request)
