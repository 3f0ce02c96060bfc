"""Read-only mode (READ_ONLY=1, `sessions-ui serve --read-only`): nobody edits or deletes, whatever their role.

Django grants a superuser every permission before asking any backend, so the mode is enforced where
permissions are asked: the views' guard (views.dashboard_view) and the templates' `perms`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps

from django.conf import settings
from django.contrib.auth.context_processors import PermLookupDict, PermWrapper
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

WRITE_PERMISSIONS = frozenset({"sessions_ui.change_agnosession", "sessions_ui.delete_agnosession"})
WRITE_ACTIONS = frozenset({"change", "delete"})  # views.dashboard_view's actions on a source's sessions
REFUSAL = "This dashboard is read-only: nothing can be edited or deleted."


def writes(actions: Iterable[str]) -> bool:
    return bool(WRITE_ACTIONS.intersection(actions))


def refuse_when_read_only(view: Callable) -> Callable:
    """403 for a view that edits or deletes while the dashboard is read-only (read at each request)."""

    @wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs):
        if settings.READ_ONLY:
            raise PermissionDenied(REFUSAL)
        return view(request, *args, **kwargs)

    return guarded


class _ReadOnlyLookup(PermLookupDict):
    def __getitem__(self, perm_name: str) -> bool:
        return f"{self.app_label}.{perm_name}" not in WRITE_PERMISSIONS and super().__getitem__(perm_name)


class _ReadOnlyPerms(PermWrapper):
    def __getitem__(self, app_label: str) -> PermLookupDict:
        return _ReadOnlyLookup(self.user, app_label)

    def __contains__(self, perm_name: str) -> bool:
        return perm_name not in WRITE_PERMISSIONS and super().__contains__(perm_name)


def context(request: HttpRequest) -> dict:
    """Templates' `perms` without the write permissions, and `read_only` for the banner, in read-only mode."""
    if not settings.READ_ONLY:
        return {}
    return {"read_only": True, "perms": _ReadOnlyPerms(request.user)}
