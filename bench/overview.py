"""Benchmark of the overview (issue 16): warm and cold summary, 14 and 90 days, at up to 1M sessions over 90 days.

    .venv/bin/python bench/overview.py --sessions 1000000 [--reuse]

Seeds `sessions_ui_bench_overview_<sessions>_l<layout>` (one run per session, spread over 90 days), then
times, through Django's test Client in this process (DEBUG off):
- warm: the figures of 14 and 90 days (the htmx fragment every filter asks for) with a fresh summary;
- cold: the whole page with no summary (it answers at once, and says it is refreshing), the fragment
  that it then asks for (which summarises its 14 days and the 14 before), and the summary of all 90 days;
- the incremental refresh: nothing changed, and after 100 new sessions.
Prints PASS/MISS against issue 16's targets (warm 14 days <= 300 ms, 90 days <= 500 ms, cold <= 5 s).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import secrets
import time
from datetime import timedelta
from pathlib import Path

import psycopg
from run import database_url, manage, session_count, setup_django
from timing import measure

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
DAYS = 90
WARM_14_MS, WARM_90_MS, COLD_MS = 300, 500, 5000


def prepare(args) -> str:
    url = database_url(args.server, args.db)
    with psycopg.connect(args.server, autocommit=True) as server:
        exists = server.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.db]).fetchone()
        if exists and args.reuse and session_count(database_url(args.server, args.db)) == args.sessions:
            print(f"Reusing {args.db}: {args.sessions:,} sessions.")
            manage("migrate", "--no-input", "-v0", url=url)
            return url
        server.execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
        server.execute(f'CREATE DATABASE "{args.db}"')
    print(f"Seeding {args.db}: {args.sessions:,} sessions over {DAYS} days ...", flush=True)
    started = time.monotonic()
    manage("migrate", "--no-input", "-v0", url=url)
    manage(
        "seed_demo", "--count", str(args.sessions), "--days", str(DAYS), "--runs", "1", "--padding", "20",
        "--layout", args.layout, url=url,
    )  # fmt: skip
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE ai.agno_sessions")
        if args.layout == "3":
            connection.execute("VACUUM ANALYZE ai.agno_runs")
    print(f"Seeded in {time.monotonic() - started:.0f}s.", flush=True)
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=1_000_000)
    parser.add_argument("--layout", choices=["2", "3"], default="3")
    parser.add_argument(
        "--server", default=os.environ.get("POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--reuse", action="store_true", help="skip seeding when the database has the right rows")
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    args.db = f"sessions_ui_bench_overview_{args.sessions}_l{args.layout}"
    url = prepare(args)
    setup_django(url)

    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from sessions_ui.bulk_write import write_sessions
    from sessions_ui.demo import make_session
    from sessions_ui.models import OverviewDay, OverviewRefresh, OverviewSlowRun
    from sessions_ui.queries import overview
    from sessions_ui.sources import current_source

    call_command("dashboard_user", "bench", "--role", "viewer", stdout=io.StringIO())
    client = Client(raise_request_exception=False)
    client.force_login(User.objects.get(username="bench"))
    today = timezone.localdate()

    def period(days: int) -> str:
        return f"/overview/?created_after={today - timedelta(days=days - 1)}&created_before={today}"

    def get(url: str, **headers) -> int:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
        return len(response.content)

    def forget_summary() -> None:
        for model in (OverviewDay, OverviewSlowRun, OverviewRefresh):
            model.objects.all().delete()

    def once(call) -> float:
        started = time.perf_counter()
        call()
        return (time.perf_counter() - started) * 1000

    results: dict = {"sessions": args.sessions, "layout": args.layout, "days": DAYS}
    forget_summary()
    results["cold page (14 days, no summary)"] = once(lambda: get(period(14)))
    results["cold fragment (14 days: summarises 28 days)"] = once(lambda: get(period(14), HX_Request="true"))
    forget_summary()
    results["cold summary of all 90 days (manage.py overview_summary)"] = once(overview.refresh)
    results["summary rows"] = OverviewDay.objects.count()
    options = {"warmup": 2, "repeat": args.repeat, "budget": 30}
    for days in (14, 90):
        figure = measure(lambda days=days: get(period(days), HX_Request="true"), **options)
        results[f"warm fragment ({days} days)"] = figure["median_ms"]
        results[f"warm page ({days} days)"] = measure(lambda days=days: get(period(days)), **options)["median_ms"]
    results["refresh, nothing changed"] = measure(overview.refresh, **options)["median_ms"]
    now = int(time.time())
    new = [make_session(10_000_000 + n, now=now, runs=1, days=1, seed=16) for n in range(100)]
    write_sessions(current_source().connection, new, layout=args.layout)
    results["refresh after 100 new sessions"] = once(overview.refresh)
    current_source().Session.objects.filter(pk__in=[session.row["session_id"] for session in new]).delete()
    overview.refresh()

    def verdict(value: float, target: float) -> str:
        return f"PASS (<= {target:,} ms)" if value <= target else f"MISS ({value / target:.1f}x over {target:,} ms)"

    print(f"\nOverview, {args.sessions:,} sessions over {DAYS} days (layout {args.layout}), medians in ms:")
    for name, value in results.items():
        if isinstance(value, float):
            target = {"warm fragment (14 days)": WARM_14_MS, "warm fragment (90 days)": WARM_90_MS}.get(name)
            if name.startswith("cold fragment"):
                target = COLD_MS
            print(f"  {name:55} {value:10.1f}  {verdict(value, target) if target else ''}")
    print(f"  summary rows: {results['summary rows']:,}")
    out = ROOT / "bench" / "results" / f"{args.db}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
