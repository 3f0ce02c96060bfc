"""gunicorn's settings for the dashboard, read from the project folder (`gunicorn config.wsgi`, README "Production")."""

import os

# Session ids are free text of any length, and part of the URL path: a 10,000-character id is 10-60 KB once
# percent-encoded, in the request line and, for htmx requests, in the HX-Current-URL header too.
# gunicorn's defaults (4,094 bytes per request line, 8,190 per header) answered such pages with 414 and 400.
limit_request_line = 0  # no limit (gunicorn's only setting above its maximum of 8,190 bytes)
limit_request_field_size = 256 * 1024

# Sync workers, 2 x cores + 1 (gunicorn's own default is one worker): a page spends about half its time
# waiting for the database, so a core has a second worker to run meanwhile. On 2 shared cores, gthread
# workers (3 x 4 threads) served up to 1.4x the requests of 5 sync ones but with a p99 up to 5 s against
# 2.3-2.8 s (README "Production"). WEB_CONCURRENCY or --workers override this, --threads makes gthread ones.
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * (os.cpu_count() or 1) + 1)
