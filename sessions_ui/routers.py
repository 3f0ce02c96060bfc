"""Sends the Agno models to the Agno database and keeps the dashboard's own tables out of it."""

from django.conf import settings


class AgnoRouter:
    agno_models = {"agnosession", "agnorun"}

    def _is_agno(self, model) -> bool:
        return model._meta.app_label == "sessions_ui" and model._meta.model_name in self.agno_models

    def db_for_read(self, model, **hints):
        return settings.AGNO_DB_ALIAS if self._is_agno(model) else None

    def db_for_write(self, model, **hints):
        return settings.AGNO_DB_ALIAS if self._is_agno(model) else None

    def allow_relation(self, obj1, obj2, **hints):
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if settings.AGNO_DB_ALIAS == "default":
            return None
        if hints.get("agno_tables"):
            return db == settings.AGNO_DB_ALIAS
        return db != settings.AGNO_DB_ALIAS
