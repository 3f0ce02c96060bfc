"""Sends each source's Agno models to that source's database and keeps the dashboard's own tables out of them."""

from django.conf import settings


class AgnoRouter:
    agno_models = {"agnosession", "agnorun"}

    def _alias(self, model) -> str | None:
        """The database of an Agno model: its source's (models.source_models), the default source's for
        AgnoSession and AgnoRun; None for every other model (the dashboard's own, in `default`)."""
        if hasattr(model, "source_alias"):
            return model.source_alias
        if model._meta.app_label == "sessions_ui" and model._meta.model_name in self.agno_models:
            return settings.AGNO_DB_ALIAS
        return None

    def db_for_read(self, model, **hints):
        return self._alias(model)

    def db_for_write(self, model, **hints):
        return self._alias(model)

    def allow_relation(self, obj1, obj2, **hints):
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        """The dashboard's own tables in `default` only; the default source's Agno tables (created when
        missing) in its database. The other sources' databases are never migrated."""
        if hints.get("agno_tables"):
            return db == settings.AGNO_DB_ALIAS
        return db == "default"
