from django.urls import path, register_converter

from sessions_ui import views
from sessions_ui.converters import ClaimedSessionIdConverter, SessionIdConverter

register_converter(SessionIdConverter, "session")
register_converter(ClaimedSessionIdConverter, "claimed_session")

app_name = "sessions_ui"

urlpatterns = [
    path("", views.session_list, name="list"),
    # Session ids are free text: "x/edit" may name a session as well as the edit form of "x". This
    # pattern opens the detail page for such a path only when that session exists and the route
    # reading names none (sessions_ui/converters.py); other paths fall through to the routes below.
    path("<claimed_session:session_id>/", views.session_detail),
    # Before the `<session:session_id>/` patterns, which would otherwise read these paths as session ids.
    path("delete/", views.bulk_delete, name="bulk_delete"),
    path("audit/", views.audit, name="audit"),
    # No trailing slash, unlike every session route: no session id can read as these.
    path("export.csv", views.export_list, {"fmt": "csv"}, name="list_export_csv"),
    path("export.jsonl", views.export_list, {"fmt": "jsonl"}, name="list_export_jsonl"),
    path("<session:session_id>/edit/", views.edit, name="edit"),
    path("<session:session_id>/delete/", views.delete, name="delete"),
    path("<session:session_id>/export/", views.session_export, name="export"),
    path("<session:session_id>/runs/<session:run_id>/", views.session_run, name="run"),
    path("<session:session_id>/runs/", views.session_runs, name="runs"),
    path("<session:session_id>/compactions/<session:compaction_id>/", views.session_compaction, name="compaction"),
    path("<session:session_id>/tool-results/<session:result_id>/", views.session_tool_result, name="tool_result"),
    path("<session:session_id>/transcripts/", views.session_transcripts, name="transcripts"),
    path("<session:session_id>/traces/<session:run_id>/", views.session_trace, name="trace"),
    path("<session:session_id>/preview/", views.session_preview, name="preview"),
    path("users/<session:user_id>/", views.user_sessions, name="user"),
    # Last: every `<session_id>/<suffix>/` route goes above this one (and its suffix into
    # converters.ROUTE_SUFFIXES), or this pattern would read "x/suffix" as a session id.
    path("<session:session_id>/", views.session_detail, name="detail"),
]
