"""Bring the overview's summary of Agno's JSON up to date (the page does it too, when it is stale).

Run it from cron (every few minutes) so that no page view waits for it: only the hours with sessions
created, updated or deleted since the last pass are read again.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from sessions_ui.queries import overview


class Command(BaseCommand):
    help = "Refresh the overview's per-day summary of runs, errors and tokens (only the days that changed)."

    def handle(self, *args, **options):
        started = time.monotonic()
        done = overview.refresh()
        self.stdout.write(
            f"{done.recomputed_days} day(s) recomputed in {time.monotonic() - started:.2f} s;"
            f" summary up to date at {done.refreshed_at:%Y-%m-%d %H:%M:%S %Z}."
        )
