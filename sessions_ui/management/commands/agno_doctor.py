"""Print what the dashboard finds in the Agno database, and what is wrong with it (sessions_ui/diagnosis.py)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from sessions_ui.diagnosis import examine


class Command(BaseCommand):
    help = (
        "Print the Agno database, schema, tables, columns, layout, indexes and row counts the dashboard reads, "
        "and what is wrong (changes nothing; exits with status 1 when it finds a problem)."
    )

    def handle(self, *args, **options):
        diagnosis = examine()
        for line in diagnosis.lines():
            self.stdout.write(line)
        if diagnosis.problems:
            raise CommandError(f"{len(diagnosis.problems)} problem(s) found.")
