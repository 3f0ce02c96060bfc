from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SessionsUiConfig(AppConfig):
    name = "sessions_ui"
    verbose_name = "Agno sessions"

    def ready(self):
        from sessions_ui.sources import create_source_permissions

        post_migrate.connect(create_source_permissions, sender=self)


class SourcesConfig(AppConfig):
    """The app label of the other sources' models (models.source_models): no migrations, as a source is
    configuration; listed in INSTALLED_APPS so that the admin and content types know its models."""

    name = "sessions_ui.sources"
    label = "agno_sources"
    verbose_name = "Agno sources"
    default = False
