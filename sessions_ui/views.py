"""What the user sees: thin views over queries.py and agno.py."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django_htmx.middleware import HtmxDetails

from sessions_ui import agno
from sessions_ui.models import AgnoSession


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


@require_GET
@login_required
@permission_required("sessions_ui.view_agnosession", raise_exception=True)
def session_list(request: HtmxHttpRequest):
    rows = AgnoSession.objects.for_list().order_by("-created_at", "session_id")
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    sessions = [agno.decode_session(row) for row in page.object_list]
    return render(request, "sessions_ui/list.html", {"page": page, "sessions": sessions})
