"""The dashboard's own 404 page for a view's Http404 (a missing session, run or span), also with DEBUG on.

Django answers a view's Http404 with its technical page when DEBUG is on, which has no way back to
the sessions; the 404.html that handler404 renders has one. A URL that no route matches still gets
the technical page under DEBUG (it lists the routes, which is what a developer wants there).
PermissionDenied needs nothing: Django renders 403.html whatever DEBUG says.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.views.defaults import page_not_found


class NotFoundPageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, Http404):
            return page_not_found(request, exception)
        return None
