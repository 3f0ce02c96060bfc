from django.apps import AppConfig


class SessionsUiConfig(AppConfig):
    name = "sessions_ui"
    verbose_name = "Agno sessions"
