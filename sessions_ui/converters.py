"""URL converters for session ids, which are free text: "/", spaces, unicode, even "x/edit" or "users/x".

`/sessions/x/edit/` is the edit form of session "x", and also the detail URL of a session whose id is
"x/edit". The first pattern of sessions_ui/urls.py uses `ClaimedSessionIdConverter` to settle that:
a path that reads like one of the routes below it opens a detail page only when a session with
that whole id exists and the route's reading names no existing session. Plain ids never reach the
database here; the route URLs (export, edit, delete, runs, compactions) pay one primary-key lookup.
"""

from __future__ import annotations

import re

from django.db import Error

from sessions_ui.sources import current_source

# Keep in step with the `<session_id>/<suffix>/` routes in urls.py.
ROUTE_SUFFIXES = ("edit", "delete", "export", "runs", "preview")
# Pages of the app itself always win over a session of that name (the bulk delete is a POST).
LITERAL_ROUTES = ("delete", "audit")


# A path segment that browsers (and proxies) resolve away: "." and "..", even percent-encoded as %2E
# (the URL standard says so), so encoding cannot protect them. Such a segment of an id gets a "~" in
# its URL, and a segment that already reads like that ("..~") one more, so every id has one URL and
# every other id keeps the URL it always had.
_DOT_SEGMENT = re.compile(r"\.{1,2}~*")
_TILDED_DOT_SEGMENT = re.compile(r"\.{1,2}~+")


def id_to_path(value: str) -> str:
    """An id as the path segments of its URLs (before percent-encoding), safe from dot-segment removal."""
    return "/".join(part + "~" if _DOT_SEGMENT.fullmatch(part) else part for part in value.split("/"))


def id_from_path(path: str) -> str:
    return "/".join(part[:-1] if _TILDED_DOT_SEGMENT.fullmatch(part) else part for part in path.split("/"))


class SessionIdConverter:
    """Any non-empty string but NUL (which PostgreSQL rejects), line breaks included (`path` stops at them)."""

    regex = r"[^\x00]+"

    def to_python(self, value: str) -> str:
        return id_from_path(value)

    def to_url(self, value: str) -> str:
        return id_to_path(value)


def route_readings(path: str) -> list[str] | None:
    """The session ids that the other routes would read from `<path>/`; None when no route reads it."""
    if path in LITERAL_ROUTES:
        return None
    readings = []
    head, _, last = path.rpartition("/")
    if head and last in ROUTE_SUFFIXES:
        readings.append(head)
    for nested in ("/runs/", "/compactions/"):
        head, found, _ = path.rpartition(nested)
        if found and head:
            readings.append(head)
    if path.startswith("users/"):
        return readings
    return readings or None


class ClaimedSessionIdConverter(SessionIdConverter):
    def to_python(self, value: str) -> str:
        readings = route_readings(value)
        if readings is None:
            raise ValueError("not a route path: left to the patterns below")
        value, readings = id_from_path(value), [id_from_path(reading) for reading in readings]
        try:
            found = set(current_source().Session.objects.filter(pk__in=[value, *readings]).values_list("pk", flat=True))
        except Error as error:
            # Resolving a URL is no place for a database fault: the route's view meets it again and
            # answers with the fault page (sessions_ui/faults.py).
            raise ValueError("the database cannot tell: the route reading is tried") from error
        if value not in found or found.intersection(readings):
            raise ValueError("the route reading wins")
        return value
