#!/usr/bin/env bash
# Bounded load test on loopback: gunicorn serving config.wsgi (as the README's production section)
# against a bench database, wrk with 50 connections for 30 s over list pages (with filters) and
# detail pages. Any answer that is not 2xx, and any socket error or timeout, is an error; the script
# fails unless there are none. Seed the database first: bench/run.py --sessions 100000 --seed-only
#   bench/load.sh                                       100k sessions, list and detail pages mixed
#   PAGES=list bench/load.sh  /  PAGES=detail ...       one kind only
#   BENCH_DB=... WORKERS=3 WORKER_THREADS=4 CONNECTIONS=50 DURATION=30s PORT=8766 bench/load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
POSTGRES_URL=${POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
BENCH_DB=${BENCH_DB:-sessions_ui_bench_100000_l3}
PORT=${PORT:-8766}
WORKERS=${WORKERS:-$((2 * $(nproc) + 1))} # gunicorn's rule of thumb: 2 x cores + 1
WORKER_THREADS=${WORKER_THREADS:-1} # threads per gunicorn worker: more than 1 makes them gthread workers
THREADS=${THREADS:-2}                # wrk's threads
CONNECTIONS=${CONNECTIONS:-50}
DURATION=${DURATION:-30s}
PAGES=${PAGES:-mixed}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }

export DATABASE_URL=${POSTGRES_URL%/*}/$BENCH_DB DEBUG=0 ALLOWED_HOSTS=127.0.0.1
SECRET_KEY=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))')
export SECRET_KEY
work=$(mktemp -d /tmp/sessions-ui-load.XXXXXX)
gunicorn_pid=
cleanup() {
  if [ -n "$gunicorn_pid" ]; then kill "$gunicorn_pid" 2>/dev/null && wait "$gunicorn_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# The paths: list pages with the filters a user clicks, and the detail pages of 25 sessions
# (not the 1,000-run one, which bench/run.py measures on its own).
.venv/bin/python - "$DATABASE_URL" "$work" <<'PY'
import sys
from urllib.parse import quote, urlencode

import psycopg

url, work = sys.argv[1:]
with psycopg.connect(url) as connection:
    total = connection.execute("SELECT count(*) FROM ai.agno_sessions").fetchone()[0]
    if not total:
        sys.exit(f"No sessions in {url}: seed it first with bench/run.py --sessions 100000 --seed-only")
    ids = [row[0] for row in connection.execute(
        "SELECT session_id FROM ai.agno_sessions TABLESAMPLE SYSTEM (1) REPEATABLE (7) ORDER BY session_id LIMIT 25"
    )]
filters = [
    {}, {"page": 2}, {"page": total // 50 // 2}, {"type": "team"}, {"user_id": "ada@example.com"},
    {"agent_id": "research-agent"}, {"workflow_id": "blog-post-workflow"}, {"q": "kyoto"},
    {"user_id": "grace.hopper@example.org", "type": "agent"}, {"sort": "updated_at"},
]  # fmt: skip
lists = [f"/sessions/?{urlencode(params)}" if params else "/sessions/" for params in filters]
details = [f"/sessions/{quote(session_id, safe='')}/" for session_id in ids]
mixed = [path for pair in zip(lists * 3, details, strict=False) for path in pair]
for name, paths in {"list": lists, "detail": details, "mixed": mixed}.items():
    with open(f"{work}/{name}.txt", "w") as out:
        out.write("\n".join(paths) + "\n")
print(f"{total:,} sessions in the database; {len(lists)} list pages and {len(details)} detail pages")
PY

password=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(12))')
.venv/bin/python manage.py migrate --no-input -v0
.venv/bin/python manage.py dashboard_user bench-load --role viewer --password="$password" >/dev/null

echo "gunicorn config.wsgi: $WORKERS workers x $WORKER_THREADS threads on 127.0.0.1:$PORT, database $BENCH_DB"
.venv/bin/gunicorn config.wsgi --workers "$WORKERS" --threads "$WORKER_THREADS" --bind "127.0.0.1:$PORT" --error-logfile "$work/gunicorn.log" --capture-output &
gunicorn_pid=$!
base=http://127.0.0.1:$PORT
for _ in $(seq 60); do
  curl -fsS -o /dev/null "$base/accounts/login/" 2>/dev/null && break
  sleep 0.5
done

# Log in like a browser: fetch the form for the CSRF cookie, post it, keep the session cookie.
curl -fsS -c "$work/jar" -o /dev/null "$base/accounts/login/"
csrf=$(awk '$6 == "csrftoken" {print $7}' "$work/jar")
status=$(curl -sS -b "$work/jar" -c "$work/jar" -o /dev/null -w '%{http_code}' -H "Referer: $base/accounts/login/" \
  --data-urlencode "username=bench-load" --data-urlencode "password=$password" \
  --data-urlencode "csrfmiddlewaretoken=$csrf" "$base/accounts/login/")
session=$(awk '$6 == "sessionid" {print $7}' "$work/jar")
[ "$status" = 302 ] && [ -n "$session" ] || { echo "login failed (HTTP $status)" >&2; exit 1; }
check=$(curl -sS -o /dev/null -w '%{http_code}' -H "Cookie: sessionid=$session" "$base/sessions/")
[ "$check" = 200 ] || { echo "the list answered HTTP $check to the logged-in user" >&2; exit 1; }

echo "wrk: $CONNECTIONS connections, $THREADS threads, $DURATION, $PAGES pages; $(nproc) cores, $(date -u '+%Y-%m-%d %H:%M UTC')"
LOAD_PATHS=$work/$PAGES.txt LOAD_COOKIE="sessionid=$session" \
  wrk --threads "$THREADS" --connections "$CONNECTIONS" --duration "$DURATION" --timeout 10s \
  --script bench/load.lua "$base" | tee "$work/wrk.txt"
if [ -s "$work/gunicorn.log" ] && grep -q -E "ERROR|Traceback|Internal Server Error" "$work/gunicorn.log"; then
  echo "gunicorn logged errors:" >&2
  grep -E "ERROR|Traceback|Internal Server Error" "$work/gunicorn.log" | head -20 >&2
  exit 1
fi
grep -q "RESULT .* errors=0$" "$work/wrk.txt" || { echo "FAIL: the load test had errors" >&2; exit 1; }
echo "OK: no errors"
