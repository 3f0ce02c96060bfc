"""Catch the text index of the search in conversations up with what Agno wrote (for cron; see agno_indexes --text)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from sessions_ui.queries import text
from sessions_ui.sources import all_sources, get_source, using_source


class Command(BaseCommand):
    help = "Index what Agno wrote since the last pass of the text index (a no-op when the index is off)."

    def add_arguments(self, parser):
        parser.add_argument("--source", help="a source id (manage.py agno_sources list); default: every source")

    def handle(self, *args, source: str | None, **options):
        chosen = [get_source(source)] if source else all_sources()
        if chosen == [None]:
            raise CommandError(f"There is no source {source!r} (known: {', '.join(s.id for s in all_sources())}).")
        for each in chosen:
            with using_source(each):
                if text.index_state() is None:
                    self.stdout.write(f"{each.id}: no text index (manage.py agno_indexes --text builds one).")
                    continue
                done = text.catch_up()
                self.stdout.write(f"{each.id}: indexed {done.sessions:,} sessions.")
