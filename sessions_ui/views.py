"""What the user sees: thin views over the list (listing.py), the queries and the decoding (agno), each
answering with its whole page or, for htmx, the fragment the request targets."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import wraps
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import user_passes_test
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict, StreamingHttpResponse
from django.shortcuts import render, resolve_url
from django.utils.encoding import iri_to_uri
from django.utils.http import content_disposition_header, urlencode
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import reswap, retarget
from django_htmx.middleware import HtmxDetails

from sessions_ui import agno, changes, list_export, queries, read_only
from sessions_ui.filters import RUN_STATUSES, WITHIN
from sessions_ui.forms import BulkDeleteForm, SessionEditForm, SessionGone, StaleEdit, edit_queryset, fingerprint
from sessions_ui.listing import DEFAULT_SORT, FILTER_LABELS, PAGING, SessionList, repr_value
from sessions_ui.overview import Overview
from sessions_ui.queries import overview as overview_figures
from sessions_ui.schema import TracesUnreachable
from sessions_ui.sources import current_source, default_source, reverse, using_source, visible_sources
from sessions_ui.templatetags.sessions_list import run_counts


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


# What a view needs on its source's sessions (sources.Source.permission).
CAN_VIEW = ("view",)
CAN_CHANGE = (*CAN_VIEW, "change")
CAN_DELETE = (*CAN_VIEW, "delete")
DELETE_TRACES = "delete_traces"  # the confirmation's "also delete its traces" box
# The request headers a view's answer depends on: a whole page or a fragment (render_page), and which one.
PAGE_OR_FRAGMENT = ("HX-Request", "HX-History-Restore-Request")
WHICH_FRAGMENT = (*PAGE_OR_FRAGMENT, "HX-Target")
SHOWN_IN_CONFIRMATION = 100
RUNS_PER_PAGE = 50
EDIT_FORM_ID = "session-edit"  # the edit form's slot, templates/sessions_ui/edit.html


def dashboard_view(actions: tuple[str, ...] = CAN_VIEW, *, methods: tuple[str, ...] = ("GET",)) -> Callable:
    """Every view's guard: the methods it answers, a logged-in user (else the login page), the permissions
    to these actions on the current source's sessions (else 403)."""

    def may(user) -> bool:
        source = current_source()
        if not user.has_perms([source.permission(action) for action in actions]):
            raise PermissionDenied
        return True

    def decorate(view: Callable) -> Callable:
        guarded = user_passes_test(may)(view)
        if read_only.writes(actions):
            guarded = read_only.refuse_when_read_only(guarded)

        @wraps(view)
        def login_first(request: HtmxHttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return to_login(request)
            return guarded(request, *args, **kwargs)

        return require_http_methods(list(methods))(login_first)

    return decorate


def to_login(request: HtmxHttpRequest) -> HttpResponse:
    """The login page, then back. For htmx the whole page goes (HX-Redirect), and comes back to the page the
    browser shows rather than to the fragment, instead of the login form being swapped into the results."""
    back = QueryDict(mutable=True)
    back["next"] = (request.htmx.current_url_abs_path if request.htmx else None) or request.get_full_path()
    return OwnPageRedirect(f"{resolve_url(settings.LOGIN_URL)}?{back.urlencode(safe='/')}", htmx=bool(request.htmx))


def render_page(
    request: HtmxHttpRequest, page: str, fragment: str, context: dict, *, status: int = 200
) -> HttpResponse:
    """The whole `page`, or for htmx the `fragment` template; a history restore (back button) needs the page."""
    wants_fragment = request.htmx and not request.htmx.history_restore_request
    return render(request, fragment if wants_fragment else page, context, status=status)


class OwnPageRedirect(HttpResponse):
    """A redirect to one of the dashboard's own URLs (from reverse()). Not Django's HttpResponseRedirect,
    which refuses URLs over 16,384 characters as unsafe: a 10,000-character session id makes one."""

    def __init__(self, url: str, *, htmx: bool = False):
        super().__init__(status=200 if htmx else 302)
        self["HX-Redirect" if htmx else "Location"] = iri_to_uri(url)

    @property
    def url(self) -> str:
        return self.get("Location") or self["HX-Redirect"]


def _redirect(request: HtmxHttpRequest, url: str) -> HttpResponse:
    """To `url`; for htmx the whole page goes there (HX-Redirect)."""
    return OwnPageRedirect(url, htmx=bool(request.htmx))


def home(request: HttpRequest) -> HttpResponse:
    """`/`: the list of the first source the user may view (the default one's for anyone else)."""
    visible = visible_sources(request.user) if request.user.is_authenticated else []
    with using_source(visible[0] if visible else default_source()):
        return _redirect(request, reverse("sessions_ui:list"))


# --- The list and a user's page.


def _results_context(cl: SessionList) -> dict:
    """What list.html#results shows: a page of rows, its links, the active filters and what was ignored."""
    return {
        "cl": cl,
        "page": cl.page,
        "pager": cl.pager(cl.page),
        "notices": cl.notices,
        "chips": cl.chips,
        "sort": cl.sort,
        "count_cap": queries.pages.COUNT_CAP,
    }


def _count(request: HtmxHttpRequest, cl: SessionList) -> HttpResponse:
    """The list's "of N" for a page whose count was left pending, and its pager once the last page is known."""
    page = cl.counted_page()
    context = {"cl": cl, "page": page, "pager": cl.pager(page), "count_cap": queries.pages.COUNT_CAP}
    return render(request, "sessions_ui/list.html#count", context)


def _run_counts(cl: SessionList) -> HttpResponse:
    """The run counts of the page's rows that were left pending (big inline runs), to swap in by id."""
    pending = [row for row in cl.page.rows if row.runs_pending]
    stats = queries.count_inline_runs([row.session.session_id for row in pending])
    return HttpResponse(run_counts(stats, {row.session.session_id for row in pending if not row.named}))


WITHIN_SELECTS = {"created_within": "Created", "updated_within": "Updated"}


@dashboard_view()
@vary_on_headers(*WHICH_FRAGMENT)
def session_list(request: HtmxHttpRequest) -> HttpResponse:
    if request.htmx.target == "filter-choices":
        return render(request, "sessions_ui/list.html#filter_choices", {"choices": queries.filter_choices()})
    cl = SessionList(request.GET)
    if request.htmx.target == "result-count":
        return _count(request, cl)
    if request.htmx.target == "run-counts":
        return _run_counts(cl)
    context = _results_context(cl) | {
        "choices": queries.cached_filter_choices(),
        "types": agno.SESSION_TYPES,
        "run_statuses": RUN_STATUSES,
        "id_filters": [
            (name, FILTER_LABELS[name].capitalize(), cl.data.get(name, "")) for name in queries.totals.CHOICE_COLUMNS
        ],
        "within_filters": [(name, label, cl.data.get(name, "")) for name, label in WITHIN_SELECTS.items()],
        "within": [(key, label) for key, (label, _seconds) in WITHIN.items()],
        # The default order is the empty value, so it stays out of the URL.
        "sort_options": [
            ("" if key == DEFAULT_SORT else key, label, key == cl.sort) for key, label in cl.sort_choices.items()
        ],
    }
    return render_page(request, "sessions_ui/list.html", "sessions_ui/list.html#results", context)


@dashboard_view()
def export_list(request: HttpRequest, fmt: str) -> HttpResponse:
    """The filtered list as a CSV or JSON Lines download, streamed (sessions_ui/list_export.py).

    A list page can say which parameter it ignored; a download cannot, so one that does not validate is
    refused (400) rather than exported as a bigger list than was asked for. The page is not part of it.
    """
    params = request.GET.copy()
    for name in (*PAGING, "live"):
        params.pop(name, None)
    runs = params.pop("runs", [""])[-1]
    if runs not in ("", "0", "1") or (runs == "1" and fmt != "jsonl"):
        return HttpResponseBadRequest(
            "runs=1 exports each session whole, with its runs, as JSON Lines only (export.jsonl?runs=1);"
            " the CSV has the list's columns.",
            content_type="text/plain; charset=utf-8",
        )
    cl = SessionList(params)
    if cl.parameter_problems:
        text = "Nothing exported:\n" + "\n".join(cl.parameter_problems) + "\n"
        return HttpResponseBadRequest(text, content_type="text/plain; charset=utf-8")
    sessions, window = cl.exported
    asked = cl.parameters + ([("runs", "1")] if runs == "1" else [])
    entry = changes.log_export(request.user, fmt, asked, window=window)
    lines = list_export.export(
        sessions,
        "jsonl+runs" if runs == "1" else fmt,
        lambda rows, complete: changes.exported(entry, rows, complete=complete),
    )
    response = StreamingHttpResponse(lines, content_type=list_export.FORMATS[fmt])
    response["Content-Disposition"] = content_disposition_header(True, f"sessions.{fmt}")
    response["X-Content-Type-Options"] = "nosniff"
    return response


@dashboard_view()
@vary_on_headers(*PAGE_OR_FRAGMENT)
def overview(request: HtmxHttpRequest) -> HttpResponse:
    """Charts of a range. A whole page shows the summary of Agno's JSON as it is, at once, and asks for its
    figures again when the summary is stale; that request (htmx's, as every filter's) refreshes it first."""
    fragment = request.htmx and not request.htmx.history_restore_request
    page = Overview(request.GET)
    freshness = overview_figures.refresh_if_stale(page.window) if fragment else overview_figures.freshness()
    context = {
        "freshness": freshness,
        "stale": freshness.is_stale(page.window),
        "ov": page,
        "types": agno.SESSION_TYPES,
    }
    return render_page(request, "sessions_ui/overview.html", "sessions_ui/overview.html#figures", context)


@dashboard_view()
@vary_on_headers(*WHICH_FRAGMENT)
def user_sessions(request: HtmxHttpRequest, user_id: str) -> HttpResponse:
    cl = SessionList(request.GET, fixed={"user_id": user_id})
    if request.htmx.target == "result-count":
        return _count(request, cl)
    if request.htmx.target == "run-counts":
        return _run_counts(cl)
    context = _results_context(cl) | {"user_id": user_id}
    if not request.htmx or request.htmx.history_restore_request:
        context["totals"] = queries.user_totals(user_id)
    return render_page(request, "sessions_ui/user.html", "sessions_ui/list.html#results", context)


@dashboard_view()
@vary_on_headers("HX-Request")
def session_preview(request: HtmxHttpRequest, session_id: str) -> HttpResponse:
    """A row's inline expansion in the list: the summary and the first runs, loaded when expanded."""
    if not request.htmx:
        return _redirect(request, reverse("sessions_ui:detail", args=[session_id]))
    row = current_source().Session.objects.only("session_id", "session_type", "summary").filter(pk=session_id).first()
    context = {"session_id": session_id, "found": row is not None}
    if row is not None:
        summary = agno.decode_summary(row.summary)
        run_count = queries.page_runs([session_id], set())[session_id].runs
        runs = queries.preview_runs(session_id)
        context |= {
            "summary": summary,
            "summary_malformed": isinstance(summary, agno.Malformed),
            "runs": runs,
            "run_count": run_count,
            "more_runs": (run_count or 0) - len(runs),
        }
    return render(request, "sessions_ui/list_preview.html", context)


# --- Edit and delete. Agno's rows are changed only through sessions_ui.forms and sessions_ui.changes.


def _gone(request: HtmxHttpRequest, session_id: str) -> HttpResponse:
    messages.warning(request, f"Session “{session_id}” no longer exists (deleted meanwhile?). Nothing was changed.")
    return _redirect(request, reverse("sessions_ui:list"))


def _render_edit(request: HtmxHttpRequest, form: SessionEditForm, *, attempted=None, status: int = 200):
    """The form; a refused save (400, 409) for htmx goes into the form's own slot, whatever the request
    aimed at, with what was typed and the messages next to the fields (static/js/app.js swaps it in)."""
    context = {"form": form, "attempted": attempted}
    response = render_page(request, "sessions_ui/edit.html", "sessions_ui/edit.html#form", context, status=status)
    if status != 200 and request.htmx and not request.htmx.history_restore_request:
        response = reswap(retarget(response, f"#{EDIT_FORM_ID}"), "outerHTML")
    return response


def _refuse_stale(request: HtmxHttpRequest, form: SessionEditForm) -> HttpResponse:
    """The session changed since the form was loaded: show its current values, and what the user typed."""
    current = edit_queryset().filter(pk=form.row.pk).first()
    if current is None:
        return _gone(request, form.row.pk)
    current_form = SessionEditForm(row=current)
    return _render_edit(request, current_form, attempted=form.attempted(current_form), status=409)


@dashboard_view(CAN_CHANGE, methods=("GET", "POST"))
@vary_on_headers(*PAGE_OR_FRAGMENT)
def edit(request: HtmxHttpRequest, session_id: str) -> HttpResponse:
    row = edit_queryset().filter(pk=session_id).first()
    if row is None:
        return _gone(request, session_id)
    if request.method == "GET":
        return _render_edit(request, SessionEditForm(row=row))
    form = SessionEditForm(request.POST, row=row)
    valid = form.is_valid()
    if form.is_stale:
        return _refuse_stale(request, form)
    if not valid:
        return _render_edit(request, form, status=400)
    try:
        changed = form.save(request.user)
    except StaleEdit:
        return _refuse_stale(request, form)
    except SessionGone:
        return _gone(request, session_id)
    if changed:
        messages.success(request, form.change_message)
    else:
        messages.info(request, "Nothing changed, so nothing was written.")
    return _redirect(request, reverse("sessions_ui:detail", args=[session_id]))


def _confirm_delete(request: HtmxHttpRequest, sessions, *, action: str, hidden, cancel_url: str, **context):
    """The confirmation: which sessions, how many runs and other records would go, and a form that sends the same POST again."""
    count = sessions.count()
    shown = sessions.only("session_id", "session_type", "session_data").order_by("-created_at", "session_id")
    rows = list(shown[:SHOWN_IN_CONFIRMATION])
    doomed = changes.names_and_runs({row.pk: row.session_data for row in rows})
    context |= {
        "count": count,
        "shown": [(row.session_id, row.session_type, *doomed[row.pk]) for row in rows],
        "more": count - len(rows),
        "runs_total": (
            queries.run_total(sessions) if count > len(rows) else sum(runs or 0 for _, runs in doomed.values())
        ),
        "records": [
            (number, *changes.RECORD_NAMES[kind]) for kind, number in queries.record_counts(sessions).items() if number
        ],
        **_traces_to_confirm(request, sessions),
        "action": action,
        "hidden": hidden,
        "cancel_url": cancel_url,
    }
    return render_page(request, "sessions_ui/delete_confirm.html", "sessions_ui/delete_confirm.html#dialog", context)


def _traces_to_confirm(request: HtmxHttpRequest, sessions) -> dict:
    """What the confirmation says of the sessions' traces (Agno keeps them), and its "also delete" box."""
    try:
        counts = queries.trace_counts(list(sessions.order_by().values_list("pk", flat=True)))
    except TracesUnreachable:
        return {"traces_unreachable": True}
    return {"traces": changes.total_traces(counts.values()), "delete_traces": request.POST.get(DELETE_TRACES) == "1"}


def _delete(request: HtmxHttpRequest, sessions, back: str, *, confirmed: int = 1) -> HttpResponse:
    """Delete `sessions` (a queryset, or the list of ids confirmed) and say what went, and what was gone already."""
    try:
        deleted = changes.delete_sessions(sessions, request.user, with_traces=request.POST.get(DELETE_TRACES) == "1")
    except TracesUnreachable:
        messages.error(
            request, "Nothing was deleted: the database of the traces does not answer, so they could not go too."
        )
        return _redirect(request, back)
    if not deleted.names:
        messages.warning(request, "Nothing was deleted: the sessions no longer exist.")
    elif len(deleted.names) == 1:
        messages.success(request, f"Deleted session “{deleted.names[0]}” and its {deleted.text}.")
    else:
        messages.success(request, f"Deleted {len(deleted.names)} sessions and their {deleted.text}.")
    kept = deleted.kept_traces
    if deleted.names and kept and kept.traces:
        whose = "Its" if len(deleted.names) == 1 else "Their"
        messages.info(request, f"{whose} {changes.traces_text(kept)} {'was' if kept.traces == 1 else 'were'} kept.")
    gone = confirmed - len(deleted.names)
    if deleted.names and gone > 0:
        messages.info(request, f"{gone} of the {confirmed} sessions you confirmed no longer existed.")
    return _redirect(request, back)


@dashboard_view(CAN_DELETE, methods=("POST",))
def delete(request: HtmxHttpRequest, session_id: str) -> HttpResponse:
    sessions = edit_queryset().filter(pk=session_id)
    if not sessions.exists():
        return _gone(request, session_id)
    back = SessionList(request.POST)
    if request.POST.get("confirm") == "yes":
        return _delete(request, sessions, back.return_url)
    return _confirm_delete(
        request,
        sessions,
        action=reverse("sessions_ui:delete", args=[session_id]),
        hidden=back.return_parameters,
        cancel_url=reverse("sessions_ui:detail", args=[session_id]),
    )


@dashboard_view(CAN_DELETE, methods=("POST",))
def bulk_delete(request: HtmxHttpRequest) -> HttpResponse:
    form = BulkDeleteForm(request.POST)
    back = SessionList(request.POST)
    if not form.is_valid():
        errors = [error for errors in form.errors.values() for error in errors]
        context = {"errors": errors, "cancel_url": back.return_url}
        return render_page(
            request, "sessions_ui/delete_confirm.html", "sessions_ui/delete_confirm.html#dialog", context, status=400
        )
    selected = form.cleaned_data["session_ids"]
    all_matching = form.cleaned_data["all_matching"]
    confirming = request.POST.get("confirm") == "yes"
    if confirming and not all_matching:
        return _delete(request, form.sessions(), back.return_url, confirmed=len(selected))
    hidden = back.return_parameters + form.selection()
    notice = ""
    if all_matching:
        matching = form.matching_ids()
        hidden.append(("fingerprint", fingerprint(matching)))
        confirmed = form.cleaned_data["fingerprint"]
        if confirming and confirmed == fingerprint(matching):
            # Exactly the ids the confirmation showed: not the filters again, which may match a newcomer by now.
            return _delete(request, matching, back.return_url, confirmed=len(matching))
        if confirming and not confirmed:
            notice = "Nothing was deleted: a delete of all matching sessions needs the confirmation below."
        elif confirming:
            expected = form.cleaned_data["expected"]
            then = "" if expected is None else f" ({expected} then, {len(matching)} now)"
            notice = (
                f"Nothing was deleted: the sessions matching these filters changed since you asked{then}: "
                "sessions arrived or left. Check the ones below."
            )
    sessions = form.sessions()
    if not sessions.exists():
        messages.warning(request, "Nothing to delete: none of these sessions exist (any more).")
        return _redirect(request, back.return_url)
    return _confirm_delete(
        request,
        sessions,
        action=reverse("sessions_ui:bulk_delete"),
        hidden=hidden,
        cancel_url=back.return_url,
        notice=notice,
        missing=0 if all_matching else len(selected) - sessions.count(),
    )


@dashboard_view()
@vary_on_headers(*PAGE_OR_FRAGMENT)
def audit(request: HtmxHttpRequest) -> HttpResponse:
    session_filter = request.GET.get("session", "").strip().replace("\x00", "")
    action_filter = request.GET.get("action", "")
    entries = changes.audit_entries(session_id=session_filter, action=action_filter)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    for entry in page:
        entry.field_changes = changes.field_changes(entry) if entry.is_change() else None
    context = {
        "page": page,
        "session_filter": session_filter,
        "action_filter": action_filter,
        "actions": [("edit", "edited"), ("delete", "deleted"), ("export", "exported")],
        "export_flag": changes.EXPORT,
    }
    return render_page(request, "sessions_ui/audit.html", "sessions_ui/audit.html#entries", context)


# --- A session: the detail page, its runs a page or one at a time, and its export.


def _run_page(timeline, number) -> Page:
    return Paginator(timeline, RUNS_PER_PAGE).get_page(number)


@dashboard_view()
def session_detail(request: HtmxHttpRequest, session_id: str) -> HttpResponse:
    row = current_source().Session.objects.filter(pk=session_id).first()
    if row is None:
        raise Http404(f"There is no session “{session_id}”.")
    timeline = queries.run_timeline(session_id)
    if "number" in request.GET:
        return _go_to_run(request, session_id, timeline, request.GET["number"])
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
        "session_url": _session_url(request, session_id),
        "page": page,
        "runs": runs,
        "expanded": expanded,
        "malformed_runs": timeline.malformed,
        **_compactions_context(session_id, timeline, request.GET.get("compaction", "")),
        "transcripts": queries.session_transcripts(session_id),
        # ?transcripts=open shows their entries opened: the link without JavaScript.
        "transcript_entries": queries.transcript_entries(session_id) if request.GET.get("transcripts") else None,
        "traced_runs": _traced_runs(session_id),
    }
    return render(request, "sessions_ui/detail.html", context)


def _go_to_run(request: HtmxHttpRequest, session_id: str, timeline, number: str) -> HttpResponse:
    """?number=N ("Go to run"): to run N's permalink (1 is the first run), or back with a message."""
    detail = reverse("sessions_ui:detail", args=[session_id])
    count = timeline.count()
    position = int(number) - 1 if number.strip().isdigit() and len(number) < 10 else -1
    if not 0 <= position < count:
        runs = "has no runs" if not count else "has run 1" if count == 1 else f"has runs 1 to {count}"
        messages.warning(request, f"{repr_value(number)} is not a run of this session: it {runs}.")
        return _redirect(request, f"{detail}#runs")
    run = timeline[position : position + 1][0]
    if not run.run_id:  # a run Agno stored without an id: its page, as near as a link gets
        return _redirect(request, f"{detail}?page={position // RUNS_PER_PAGE + 1}#runs")
    return _redirect(request, f"{detail}?{urlencode({'run': run.run_id})}#run-{quote(run.run_id, safe='')}")


def _traced_runs(session_id: str) -> set[str]:
    """The runs to tag "traced"; none when the other database of the traces does not answer (their Trace
    disclosures say so when opened)."""
    try:
        return queries.traced_runs(session_id)
    except TracesUnreachable:
        return set()


def _session_url(request: HtmxHttpRequest, session_id: str) -> str:
    """The detail page's absolute URL, which "Copy link" copies (a run's adds its ?run= and #run-)."""
    return request.build_absolute_uri(reverse("sessions_ui:detail", args=[session_id]))


def _compactions_context(session_id: str, timeline, opened: str = "") -> dict:
    """The session's compaction records (`opened`: the one shown whole, for a link without JavaScript), and
    where the timeline marks them: the run a fold happened during, or, for agent.compact() outside any run,
    the last run that started before it."""
    compactions = queries.session_compactions(session_id)
    during = {record.run_id for record in compactions if record.run_id}
    after = {
        timeline.run_before(record.created_at)
        for record in compactions
        if not record.run_id and record.created_at is not None
    }
    return {
        "compactions": compactions,
        "compacted_runs": during,
        "compacted_after_runs": after - {None},
        "opened_compaction": queries.compaction(session_id, opened) if opened else None,
    }


@dashboard_view()
@vary_on_headers("HX-Request")
def session_runs(request: HtmxHttpRequest, session_id: str) -> HttpResponse:
    """One page of the runs timeline: the entries appended by "load more"."""
    if not request.htmx:
        return _redirect(request, f"{reverse('sessions_ui:detail', args=[session_id])}?{request.GET.urlencode()}#runs")
    timeline = queries.run_timeline(session_id)
    page = _run_page(timeline, request.GET.get("page"))
    if not page.object_list and not current_source().Session.objects.filter(pk=session_id).exists():
        raise Http404(f"There is no session “{session_id}”.")
    context = {
        "session_id": session_id,
        "session_url": _session_url(request, session_id),
        "page": page,
        "runs": page.object_list,
        "expanded": set(),
    }
    compactions = _compactions_context(session_id, timeline)
    context["compacted_runs"], context["compacted_after_runs"] = (
        compactions["compacted_runs"],
        compactions["compacted_after_runs"],
    )
    context["traced_runs"] = _traced_runs(session_id)
    return render(request, "sessions_ui/detail.html#run_page", context)


@dashboard_view()
@vary_on_headers("HX-Request")
def session_run(request: HtmxHttpRequest, session_id: str, run_id: str) -> HttpResponse:
    """One run's whole content, loaded when its timeline entry is expanded."""
    if not request.htmx:
        detail = reverse("sessions_ui:detail", args=[session_id])
        return _redirect(request, f"{detail}?{urlencode({'run': run_id})}#run-{quote(run_id, safe='')}")
    run = queries.run_timeline(session_id).tree(run_id)
    if run is None:
        raise Http404(f"Session “{session_id}” has no run “{run_id}”.")
    return render(request, "sessions_ui/run_body.html", {"session_id": session_id, "run": run})


@dashboard_view()
@vary_on_headers("HX-Request")
def session_compaction(request: HtmxHttpRequest, session_id: str, compaction_id: str) -> HttpResponse:
    """One compaction record's summary and archived messages, loaded when its entry is opened."""
    if not request.htmx:
        detail = reverse("sessions_ui:detail", args=[session_id])
        return _redirect(
            request, f"{detail}?{urlencode({'compaction': compaction_id})}#compaction-{quote(compaction_id, safe='')}"
        )
    record = queries.compaction(session_id, compaction_id)
    if record is None:
        raise Http404(f"Session “{session_id}” has no compaction record “{compaction_id}”.")
    return render(request, "sessions_ui/compaction_body.html", {"compaction": record})


@dashboard_view()
@vary_on_headers("HX-Request")
def session_transcripts(request: HtmxHttpRequest, session_id: str) -> HttpResponse:
    """The entries of the session's external-agent transcripts, loaded when their section is opened."""
    if not request.htmx:
        return _redirect(request, f"{reverse('sessions_ui:detail', args=[session_id])}?transcripts=open#transcripts")
    if not current_source().Session.objects.filter(pk=session_id).exists():
        raise Http404(f"There is no session “{session_id}”.")
    context = {
        "transcript_entries": queries.transcript_entries(session_id),
        "shown": queries.records.TRANSCRIPT_ENTRIES_SHOWN,
    }
    return render(request, "sessions_ui/transcripts.html", context)


@dashboard_view()
@vary_on_headers("HX-Request")
def session_tool_result(request: HtmxHttpRequest, session_id: str, result_id: str) -> HttpResponse:
    """An offloaded tool result: its start in place (htmx), or the whole payload as a download."""
    result = queries.tool_result(session_id, result_id, shown=queries.records.RESULT_SHOWN if request.htmx else None)
    if result is None:
        raise Http404(f"Session “{session_id}” has no offloaded tool result “{result_id}”.")
    if request.htmx:
        return render(request, "sessions_ui/tool_result.html", {"session_id": session_id, "result": result})
    if result.content is None:
        raise Http404(f"The payload of “{result_id}” is not in this database (Agno may keep it in another filesystem).")
    json_result = result.content_type == "json"
    response = HttpResponse(
        result.content, content_type=f"{'application/json' if json_result else 'text/plain'}; charset=utf-8"
    )
    filename = re.sub(r"[^\w.-]+", "_", f"{result.tool_name}-{result_id}").strip("._")[:100] or "result"
    response["Content-Disposition"] = content_disposition_header(True, f"{filename}.{'json' if json_result else 'txt'}")
    return response


@dashboard_view()
@vary_on_headers(*PAGE_OR_FRAGMENT)
def session_trace(request: HtmxHttpRequest, session_id: str, run_id: str) -> HttpResponse:
    """The spans Agno's tracing recorded for one run, as a waterfall: the run's "Trace" disclosure, or a page.

    `?span=<id>`: that span's attributes (model messages, token counts, tool arguments and results), the
    fragment a span's row loads when opened; as a page, the trace with that span opened.
    """
    if not current_source().Session.objects.filter(pk=session_id).exists():
        raise Http404(f"There is no session “{session_id}”.")
    context = {"session_id": session_id, "run_id": run_id, "waterfall_width": agno.WATERFALL_WIDTH}
    try:
        opened = request.GET.get("span", "")
        span = queries.span_detail(session_id, opened) if opened else None
        if opened and span is None:
            raise Http404(f"Session “{session_id}” has no span “{opened}”.")
        if span and request.htmx and not request.htmx.history_restore_request:
            return render(request, "sessions_ui/span_body.html", {"detail": span})
        context |= {"run_trace": queries.run_trace(session_id, run_id), "opened_span": span}
    except TracesUnreachable as error:
        context["traces_unreachable"] = str(error).strip()
    return render_page(request, "sessions_ui/trace.html", "sessions_ui/trace.html#trace", context)


@dashboard_view()
def session_export(request: HtmxHttpRequest, session_id: str) -> HttpResponse:
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
