"""Django admin: Agno's sessions and runs of every source, read-only, and the log of dashboard edits and deletes.

Saving through the admin would write every column (including a `runs` column that may not exist)
over Agno's newer writes, and deleting there would leave the 3.x runs rows behind. So the admin
only shows; edits and deletes go through the dashboard, which every change page links to.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.admin.views.main import ChangeList
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.http import urlencode

from sessions_ui import agno, queries
from sessions_ui.models import SOURCES_APP_LABEL, AgnoRun, AgnoSession
from sessions_ui.schema import has_runs_table
from sessions_ui.sources import Source, all_sources, current_source, reverse, using_source

SESSION_LIST_COLUMNS = (
    "session_id", "session_type", "agent_id", "team_id", "workflow_id", "user_id", "session_data",
    "created_at", "updated_at",
)  # fmt: skip
RUN_LIST_COLUMNS = ("run_id", "session_id", "run_type", "parent_run_id", "status", "run_index", "created_at")


def _pretty(raw) -> str:
    return format_html('<pre class="readonly">{}</pre>', agno.pretty_json(agno.decode_json(raw)))


def _when(epoch):
    return agno.epoch_to_datetime(epoch)


class ReadOnlyAdmin(admin.ModelAdmin):
    actions = None
    show_full_result_count = False
    list_per_page = 50

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class SessionChangeList(ChangeList):
    def get_queryset(self, request, exclude_parameters=None):
        # Only what a row shows: never the runs blob nor the component configurations.
        return super().get_queryset(request, exclude_parameters).only(*SESSION_LIST_COLUMNS)


@admin.register(AgnoSession)
class AgnoSessionAdmin(ReadOnlyAdmin):
    list_display = ("session_id", "name", "session_type", "user_id", "component", "created", "updated")
    list_display_links = ("session_id", "name")
    list_filter = ("session_type",)
    search_fields = ("session_id", "user_id", "agent_id", "team_id", "workflow_id")
    fields = (
        "dashboard", "session_id", "session_type", "agent_id", "team_id", "workflow_id", "user_id", "created",
        "updated", "runs_stored", "session_data_json", "metadata_json", "summary_json", "agent_data_json",
        "team_data_json", "workflow_data_json",
    )  # fmt: skip
    readonly_fields = fields

    def get_changelist(self, request, **kwargs):
        return SessionChangeList

    @admin.display(description="name")
    def name(self, obj: AgnoSession) -> str:
        return agno.session_name(agno.as_dict(agno.decode_dict(obj.session_data)))

    @admin.display(description="agent / team / workflow")
    def component(self, obj: AgnoSession) -> str:
        return obj.agent_id or obj.team_id or obj.workflow_id or ""

    @admin.display(description="created", ordering="created_at")
    def created(self, obj: AgnoSession):
        return _when(obj.created_at)

    @admin.display(description="updated", ordering="updated_at")
    def updated(self, obj: AgnoSession):
        return _when(obj.updated_at)

    @admin.display(description="dashboard")
    def dashboard(self, obj: AgnoSession) -> str:
        return format_html(
            '<a href="{}">View</a> · <a href="{}">Edit</a> · <a href="{}">History</a>',
            reverse("sessions_ui:detail", args=[obj.session_id]),  # in the current source's URLs
            reverse("sessions_ui:edit", args=[obj.session_id]),
            reverse("sessions_ui:audit") + "?" + urlencode({"session": obj.session_id}),
        )

    @admin.display(description="runs")
    def runs_stored(self, obj: AgnoSession) -> str:
        count = queries.page_runs([obj.pk], set())[obj.pk].runs
        shown = "unreadable (malformed runs column)" if count is None else count
        if not has_runs_table():
            return str(shown)
        runs = current_source().Run._meta
        url = (
            reverse(f"admin:{runs.app_label}_{runs.model_name}_changelist")
            + "?"
            + urlencode({"session_id": obj.session_id})
        )
        return format_html('{} (<a href="{}">runs table rows</a>)', shown, url)

    @admin.display(description="session_data")
    def session_data_json(self, obj: AgnoSession) -> str:
        return _pretty(obj.session_data)

    @admin.display(description="metadata")
    def metadata_json(self, obj: AgnoSession) -> str:
        return _pretty(obj.metadata)

    @admin.display(description="summary")
    def summary_json(self, obj: AgnoSession) -> str:
        return _pretty(obj.summary)

    @admin.display(description="agent_data")
    def agent_data_json(self, obj: AgnoSession) -> str:
        return _pretty(obj.agent_data)

    @admin.display(description="team_data")
    def team_data_json(self, obj: AgnoSession) -> str:
        return _pretty(obj.team_data)

    @admin.display(description="workflow_data")
    def workflow_data_json(self, obj: AgnoSession) -> str:
        return _pretty(obj.workflow_data)


class RunChangeList(ChangeList):
    def get_queryset(self, request, exclude_parameters=None):
        return super().get_queryset(request, exclude_parameters).only(*RUN_LIST_COLUMNS)


@admin.register(AgnoRun)
class AgnoRunAdmin(ReadOnlyAdmin):
    list_display = ("run_id", "session_id", "run_type", "status", "run_index", "created")
    list_filter = ("run_type", "status")
    search_fields = ("run_id", "session_id", "user_id", "agent_id", "team_id", "workflow_id")
    fields = (
        "run_id", "session_id", "run_type", "parent_run_id", "status", "run_index", "agent_id", "team_id",
        "workflow_id", "user_id", "created", "run_data_json",
    )  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request):
        # Agno 2.x databases have no runs table: their runs live inline in the session row.
        queryset = super().get_queryset(request)
        return queryset if has_runs_table() else queryset.none()

    def get_changelist(self, request, **kwargs):
        return RunChangeList

    @admin.display(description="created", ordering="created_at")
    def created(self, obj: AgnoRun):
        return _when(obj.created_at)

    @admin.display(description="run_data")
    def run_data_json(self, obj: AgnoRun) -> str:
        return _pretty(obj.run_data)


class InSource:
    """The admin of another source's models: its pages read that source, rendered while it is current."""

    source: Source

    def _in_source(self, view, *args, **kwargs):
        with using_source(self.source):
            response = view(*args, **kwargs)
            return response.render() if isinstance(response, TemplateResponse) else response

    def changelist_view(self, request, extra_context=None):
        return self._in_source(super().changelist_view, request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return self._in_source(super().change_view, request, object_id, form_url, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        return self._in_source(super().history_view, request, object_id, extra_context)


def register_sources(site: admin.AdminSite = admin.site) -> None:
    """Register the models of every source after the default one (at start-up; again when tests change them)."""
    models = {}
    for source in all_sources()[1:]:
        for model, model_admin in ((source.Session, AgnoSessionAdmin), (source.Run, AgnoRunAdmin)):
            models[model] = type(f"{model.__name__}Admin", (InSource, model_admin), {"source": source})
    for model in [model for model in site._registry if model._meta.app_label == SOURCES_APP_LABEL]:
        if model not in models:
            site.unregister(model)
    for model, model_admin in models.items():
        if not site.is_registered(model):
            site.register(model, model_admin)


register_sources()


@admin.register(LogEntry)
class LogEntryAdmin(ReadOnlyAdmin):
    list_display = ("action_time", "user", "action", "content_type", "object_repr", "object_id", "message")
    list_filter = ("action_flag", "content_type")
    search_fields = ("object_id", "object_repr", "change_message", "user__username")
    date_hierarchy = "action_time"
    fields = ("action_time", "user", "action", "content_type", "object_id", "object_repr", "message")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "content_type")

    @admin.display(description="action", ordering="action_flag")
    def action(self, obj: LogEntry) -> str:
        return {ADDITION: "added", CHANGE: "changed", DELETION: "deleted"}.get(obj.action_flag, str(obj.action_flag))

    @admin.display(description="change")
    def message(self, obj: LogEntry) -> str:
        return obj.get_change_message()
