"""What the user sees: thin views over queries.py and agno.py."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

from django.contrib import messages
from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header, urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from sessions_ui import agno, queries
from sessions_ui.filters import DEFAULT_SORT, SORTS, SessionFilter, repr_value
from sessions_ui.forms import (
    BulkDeleteForm,
    SessionEditForm,
    SessionGone,
    StaleEdit,
    delete_sessions,
    edit_queryset,
    list_parameters,
    names_and_runs,
    runs_text,
)
from sessions_ui.models import AgnoSession


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def _page_number(raw: str | None) -> tuple[int, str | None]:
    """The requested page, or the first page and a message when `page` is not a usable number."""
    if not raw:
        return 1, None
    try:
        number = int(raw)
    except ValueError:
        number = 0
    if 1 <= number <= queries.MAX_PAGE:
        return number, None
    return 1, f"{repr_value(raw)} is not a page number: showing the first page."


def _results(request: HtmxHttpRequest, filterset: SessionFilter, *, fixed: tuple[str, ...] = ()) -> dict:
    """The context of list.html#results: a page of rows, the active filters, and what was ignored."""
    number, page_problem = _page_number(request.GET.get("page"))
    page = queries.list_page(
        filterset.qs, number, filtered=filterset.is_filtered, newest_window=filterset.searches_newest_first
    )
    notices = [*filterset.problems(), *([page_problem] if page_problem else [])]
    if page.past_end:
        notices.append(
            f"There is no page {number}: showing the last page."
            if page.rows
            else f"There is no page {number} (these filters match fewer sessions)."
        )
    return {
        "page": page,
        "notices": notices,
        "chips": filterset.chips(fixed),
        "sort": filterset.sort_key,
        "filtered": filterset.is_filtered,
        "live": request.GET.get("live") == "1",
        "filter_query": filterset.data,
        "on_list": not fixed,
        "count_cap": queries.COUNT_CAP,
    }


def _count(request: HtmxHttpRequest, filterset: SessionFilter) -> HttpResponse:
    """The list's "of N" for a page whose count was left pending, and its pager once the last page is known."""
    number, _ = _page_number(request.GET.get("page"))
    page = queries.counted_page(filterset.qs, number, filtered=filterset.is_filtered)
    return render(request, "sessions_ui/list.html#count", {"page": page, "count_cap": queries.COUNT_CAP})


def _fragment(request: HtmxHttpRequest) -> bool:
    # A history restore (back button after the cache expired) needs the whole page.
    return bool(request.htmx) and not request.htmx.history_restore_request


@require_GET
@login_required
@permission_required("sessions_ui.view_agnosession", raise_exception=True)
@vary_on_headers("HX-Request")
def session_list(request: HtmxHttpRequest):
    if request.htmx.target == "filter-choices":
        return render(request, "sessions_ui/list.html#filter_choices", {"choices": queries.filter_choices()})
    filterset = SessionFilter(request.GET, queryset=AgnoSession.objects.all())
    if request.htmx.target == "result-count":
        return _count(request, filterset)
    context = _results(request, filterset)
    if _fragment(request):
        return render(request, "sessions_ui/list.html#results", context)
    context |= {
        "filterset": filterset,
        "choices": queries.cached_filter_choices(),
        "types": agno.SESSION_TYPES,
        # The default order is the empty value, so it stays out of the URL.
        "sort_options": [
            ("" if key == DEFAULT_SORT else key, label, key == filterset.sort_key) for key, label in SORTS.items()
        ],
    }
    return render(request, "sessions_ui/list.html", context)


@require_GET
@login_required
@permission_required("sessions_ui.view_agnosession", raise_exception=True)
@vary_on_headers("HX-Request")
def user_sessions(request: HtmxHttpRequest, user_id: str):
    data = request.GET.copy()
    data["user_id"] = user_id
    filterset = SessionFilter(data, queryset=AgnoSession.objects.all())
    if request.htmx.target == "result-count":
        return _count(request, filterset)
    context = _results(request, filterset, fixed=("user_id",))
    if _fragment(request):
        return render(request, "sessions_ui/list.html#results", context)
    context |= {"user_id": user_id, "totals": queries.user_totals(user_id)}
    return render(request, "sessions_ui/user.html", context)


@require_GET
@login_required
@permission_required("sessions_ui.view_agnosession", raise_exception=True)
@vary_on_headers("HX-Request")
def session_preview(request: HtmxHttpRequest, session_id: str):
    """A row's inline expansion in the list: the summary and the first runs, loaded when expanded."""
    if not request.htmx:
        return redirect("sessions_ui:detail", session_id)
    row = AgnoSession.objects.only("session_id", "session_type", "summary").filter(pk=session_id).first()
    context = {"session_id": session_id, "found": row is not None}
    if row is not None:
        summary = agno.decode_summary(row.summary)
        run_count = queries.page_runs([session_id], set())[session_id][0]
        runs = queries.preview_runs(session_id)
        context |= {
            "summary": summary,
            "summary_malformed": isinstance(summary, agno.Malformed),
            "runs": runs,
            "run_count": run_count,
            "more_runs": (run_count or 0) - len(runs),
        }
    return render(request, "sessions_ui/list_preview.html", context)


# Edit and delete (issue 5). Agno's rows are changed only through sessions_ui.forms.

CAN_CHANGE = ("sessions_ui.view_agnosession", "sessions_ui.change_agnosession")
CAN_DELETE = ("sessions_ui.view_agnosession", "sessions_ui.delete_agnosession")
SHOWN_IN_CONFIRMATION = 100


def _session_rows(session_id: str):
    return edit_queryset().filter(pk=session_id)


def _redirect(request: HtmxHttpRequest, url: str) -> HttpResponse:
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _list_url(data) -> str:
    parameters = list_parameters(data)
    return reverse("sessions_ui:list") + (f"?{parameters.urlencode()}" if parameters else "")


def _gone(request: HtmxHttpRequest, session_id: str) -> HttpResponse:
    messages.warning(request, f"Session “{session_id}” no longer exists (deleted meanwhile?). Nothing was changed.")
    return _redirect(request, reverse("sessions_ui:list"))


def _render_edit(request: HtmxHttpRequest, form: SessionEditForm, *, attempted=None, status: int = 200):
    template = "sessions_ui/edit.html#form" if request.htmx else "sessions_ui/edit.html"
    return render(request, template, {"form": form, "attempted": attempted}, status=status)


@require_http_methods(["GET", "POST"])
@login_required
@permission_required(CAN_CHANGE, raise_exception=True)
def edit(request: HtmxHttpRequest, session_id: str):
    row = _session_rows(session_id).first()
    if row is None:
        return _gone(request, session_id)
    if request.method == "GET":
        return _render_edit(request, SessionEditForm(row=row))
    form = SessionEditForm(request.POST, row=row)
    try:
        if form.is_valid() and not form.is_stale:
            changed = form.save(request.user)
            if changed:
                messages.success(request, form.change_message())
            else:
                messages.info(request, "Nothing changed, so nothing was written.")
            return _redirect(request, reverse("sessions_ui:detail", args=[session_id]))
        if not form.is_stale:
            return _render_edit(request, form, status=400)
    except SessionGone:
        return _gone(request, session_id)
    except StaleEdit:
        pass
    current = _session_rows(session_id).first()
    if current is None:
        return _gone(request, session_id)
    current_form = SessionEditForm(row=current)
    return _render_edit(request, current_form, attempted=form.attempted(current_form), status=409)


def _confirm_delete(request: HtmxHttpRequest, sessions, *, action: str, hidden, cancel_url: str, **context):
    """The confirmation: which sessions and how many runs would go, and a form that sends the same POST again."""
    count = sessions.count()
    shown = sessions.only("session_id", "session_type", "session_data").order_by("-created_at", "session_id")
    rows = list(shown[:SHOWN_IN_CONFIRMATION])
    doomed = names_and_runs({row.pk: row.session_data for row in rows})
    context |= {
        "count": count,
        "shown": [(row.session_id, row.session_type, *doomed[row.pk]) for row in rows],
        "more": count - len(rows),
        "runs_total": (
            queries.run_total(sessions) if count > len(rows) else sum(runs or 0 for _, runs in doomed.values())
        ),
        "action": action,
        "hidden": hidden,
        "cancel_url": cancel_url,
    }
    template = "sessions_ui/delete_confirm.html#dialog" if request.htmx else "sessions_ui/delete_confirm.html"
    return render(request, template, context)


def _delete(request: HtmxHttpRequest, sessions, back: str) -> HttpResponse:
    names, runs = delete_sessions(sessions, request.user)
    if not names:
        messages.warning(request, "Nothing was deleted: the sessions no longer exist.")
    elif len(names) == 1:
        messages.success(request, f"Deleted session “{names[0]}” and its {runs_text(runs)}.")
    else:
        messages.success(request, f"Deleted {len(names)} sessions and their {runs_text(runs)}.")
    return _redirect(request, back)


@require_POST
@login_required
@permission_required(CAN_DELETE, raise_exception=True)
def delete(request: HtmxHttpRequest, session_id: str):
    sessions = _session_rows(session_id)
    if not sessions.exists():
        return _gone(request, session_id)
    back = _list_url(request.POST)
    if request.POST.get("confirm") == "yes":
        return _delete(request, sessions, back)
    return _confirm_delete(
        request,
        sessions,
        action=reverse("sessions_ui:delete", args=[session_id]),
        hidden=[(name, value) for name, values in list_parameters(request.POST).lists() for value in values],
        cancel_url=reverse("sessions_ui:detail", args=[session_id]),
    )


@require_POST
@login_required
@permission_required(CAN_DELETE, raise_exception=True)
def bulk_delete(request: HtmxHttpRequest):
    form = BulkDeleteForm(request.POST)
    back = _list_url(request.POST)
    if not form.is_valid():
        errors = [error for errors in form.errors.values() for error in errors]
        template = "sessions_ui/delete_confirm.html#dialog" if request.htmx else "sessions_ui/delete_confirm.html"
        return render(request, template, {"errors": errors, "cancel_url": back}, status=400)
    sessions = form.sessions()
    expected = form.cleaned_data["expected"]
    notice = ""
    if request.POST.get("confirm") == "yes":
        if expected is None or not form.cleaned_data["all_matching"] or sessions.count() == expected:
            return _delete(request, sessions, back)
        notice = f"The sessions matching these filters changed since you asked ({expected} then). Check again."
    if not sessions.exists():
        messages.warning(request, "Nothing to delete: none of these sessions exist (any more).")
        return _redirect(request, back)
    selected = form.cleaned_data["session_ids"]
    return _confirm_delete(
        request,
        sessions,
        action=reverse("sessions_ui:bulk_delete"),
        hidden=form.hidden_fields_to_repeat(),
        cancel_url=back,
        notice=notice,
        missing=0 if form.cleaned_data["all_matching"] else len(selected) - sessions.count(),
    )


AUDIT_ACTIONS = {"edit": CHANGE, "delete": DELETION}


@require_GET
@login_required
@permission_required("sessions_ui.view_agnosession", raise_exception=True)
def audit(request: HtmxHttpRequest):
    entries = (
        LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(AgnoSession, for_concrete_model=False))
        .select_related("user")
        .order_by("-action_time", "-pk")
    )
    session_filter = request.GET.get("session", "").strip().replace("\x00", "")
    action_filter = request.GET.get("action", "")
    if session_filter:
        entries = entries.filter(object_id=session_filter)
    if action_filter in AUDIT_ACTIONS:
        entries = entries.filter(action_flag=AUDIT_ACTIONS[action_filter])
    query = urlencode({key: value for key, value in (("session", session_filter), ("action", action_filter)) if value})
    context = {
        "page": Paginator(entries, 50).get_page(request.GET.get("page")),
        "session_filter": session_filter,
        "action_filter": action_filter,
        "actions": [("edit", "edited"), ("delete", "deleted")],
        "query": f"{query}&" if query else "",
    }
    return render(request, "sessions_ui/audit.html#entries" if request.htmx else "sessions_ui/audit.html", context)


RUNS_PER_PAGE = 50


def _run_page(timeline, number) -> Page:
    return Paginator(timeline, RUNS_PER_PAGE).get_page(number)


@require_GET
@login_required
@permission_required("sessions_ui.view_agnosession", raise_exception=True)
def session_detail(request: HtmxHttpRequest, session_id: str):
    row = AgnoSession.objects.filter(pk=session_id).first()
    if row is None:
        raise Http404(f"There is no session “{session_id}”.")
    timeline = queries.run_timeline(session_id)
    # ?run=<id> opens the page that holds the run, with the run (and its parents) expanded: a
    # permalink that works without JavaScript.
    focus = request.GET.get("run", "")
    position = timeline.position(focus) if focus else None
    page = _run_page(timeline, position // RUNS_PER_PAGE + 1 if position is not None else request.GET.get("page"))
    runs = list(page.object_list)
    expanded: set[str] = set()
    if position is not None:
        index = position - (page.number - 1) * RUNS_PER_PAGE
        full = timeline.tree(runs[index].run_id)
        if full is not None:
            runs[index] = full
            expanded = {run.run_id for run in agno.run_path([full], focus)}
    if focus and not expanded:
        messages.warning(request, f"This session has no run “{focus}”.")
    first_input = runs[0].input if page.number == 1 and runs else ""
    context = {
        "session": agno.decode_session(row, first_input=first_input),
        "session_id": session_id,
        "page": page,
        "runs": runs,
        "expanded": expanded,
        "malformed_runs": timeline.malformed,
    }
    return render(request, "sessions_ui/detail.html", context)


@require_GET
@login_required
@permission_required("sessions_ui.view_agnosession", raise_exception=True)
def session_runs(request: HtmxHttpRequest, session_id: str):
    """One page of the runs timeline: the entries appended by "load more"."""
    if not request.htmx:
        return redirect(f"{reverse('sessions_ui:detail', args=[session_id])}?{request.GET.urlencode()}#runs")
    page = _run_page(queries.run_timeline(session_id), request.GET.get("page"))
    if not page.object_list and not AgnoSession.objects.filter(pk=session_id).exists():
        raise Http404(f"There is no session “{session_id}”.")
    context = {"session_id": session_id, "page": page, "runs": page.object_list, "expanded": set()}
    return render(request, "sessions_ui/detail.html#run_page", context)


@require_GET
@login_required
@permission_required("sessions_ui.view_agnosession", raise_exception=True)
def session_run(request: HtmxHttpRequest, session_id: str, run_id: str):
    """One run's whole content, loaded when its timeline entry is expanded."""
    if not request.htmx:
        detail = reverse("sessions_ui:detail", args=[session_id])
        return redirect(f"{detail}?{urlencode({'run': run_id})}#run-{quote(run_id, safe='')}")
    run = queries.run_timeline(session_id).tree(run_id)
    if run is None:
        raise Http404(f"Session “{session_id}” has no run “{run_id}”.")
    return render(request, "sessions_ui/run_body.html", {"session_id": session_id, "run": run})


@require_GET
@login_required
@permission_required("sessions_ui.view_agnosession", raise_exception=True)
def session_export(request: HtmxHttpRequest, session_id: str):
    """The session as a JSON download in Agno's own dict shape (all 15 columns, runs from either layout)."""
    exported = queries.session_export(session_id)
    if exported is None:
        raise Http404(f"There is no session “{session_id}”.")
    response = HttpResponse(
        json.dumps(exported, indent=2, ensure_ascii=False, default=str), content_type="application/json; charset=utf-8"
    )
    filename = re.sub(r"[^\w.-]+", "_", session_id).strip("._")[:100] or "session"
    response["Content-Disposition"] = content_disposition_header(True, f"session-{filename}.json")
    return response
