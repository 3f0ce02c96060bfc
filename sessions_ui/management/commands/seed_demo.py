"""Write realistic demo sessions into the Agno tables, fast enough for a million rows."""

from __future__ import annotations

import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from sessions_ui.bulk_write import write_sessions
from sessions_ui.demo import make_session
from sessions_ui.schema import (
    agno_connection,
    create_agno_tables,
    forget_layout,
    has_inline_runs,
    has_runs_table,
    quoted_table,
)


class Command(BaseCommand):
    help = "Write realistic Agno sessions (agents with tools, teams with member runs, workflows with steps)."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=200, help="number of sessions (up to 1,000,000)")
        parser.add_argument("--runs", type=int, default=None, help="runs per session (default: a realistic mix)")
        parser.add_argument(
            "--layout",
            choices=["2", "3"],
            default="3",
            help="2: runs inline in agno_sessions.runs (Agno 2.x); 3: agno_runs table (Agno 3.x)",
        )
        parser.add_argument("--padding", type=int, default=0, help="extra words per answer, to make runs bigger")
        parser.add_argument("--huge", type=int, default=0, help="also write one session with this many runs")
        parser.add_argument("--clear", action="store_true", help="delete all sessions and runs first")
        parser.add_argument("--if-empty", action="store_true", help="do nothing when sessions exist")
        parser.add_argument("--days", type=int, default=42, help="spread the sessions over this many days before now")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--batch", type=int, default=2000)

    def handle(self, *args, count, runs, layout, padding, huge, clear, if_empty, seed, days, batch, **options):
        connection = agno_connection()
        create_agno_tables(connection)
        forget_layout()
        if layout == "2" and not has_inline_runs():
            raise CommandError("This session table has no `runs` column (created by Agno 3.x): use --layout 3.")
        if layout == "3" and not has_runs_table():
            raise CommandError(f"There is no {settings.AGNO_RUNS_TABLE} table (an Agno 2.x database): use --layout 2.")
        with connection.cursor() as cursor:
            if if_empty:
                cursor.execute(f"SELECT 1 FROM {quoted_table(settings.AGNO_SESSION_TABLE)} LIMIT 1")
                if cursor.fetchone():
                    self.stdout.write("Sessions exist already: nothing seeded.")
                    return
            if clear:
                if has_runs_table():
                    cursor.execute(f"DELETE FROM {quoted_table(settings.AGNO_RUNS_TABLE)}")
                cursor.execute(f"DELETE FROM {quoted_table(settings.AGNO_SESSION_TABLE)}")
        now = int(time.time())
        started = time.monotonic()
        total = count + (1 if huge else 0)
        written = 0
        while written < total:
            sessions = []
            for index in range(written, min(written + batch, total)):
                if huge and index == count:
                    sessions.append(make_session(index, now=now, runs=huge, padding=max(padding, 200), seed=seed))
                else:
                    sessions.append(make_session(index, now=now, runs=runs, padding=padding, seed=seed, days=days))
            with transaction.atomic(using=connection.alias):
                write_sessions(connection, sessions, layout=layout)
            written += len(sessions)
            if total > batch:
                rate = written / max(time.monotonic() - started, 1e-6)
                sys.stderr.write(f"\r  {written:,}/{total:,} sessions ({written * 100 // total}%), {rate:,.0f}/s ")
                sys.stderr.flush()
        if total > batch:
            sys.stderr.write("\n")
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {written:,} sessions (Agno {layout}.x layout) in {time.monotonic() - started:.1f}s."
            )
        )
