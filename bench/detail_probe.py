"""Our detail page of the huge session, in a fresh process: time to first byte and extra memory. Prints JSON.

Started by bench/run.py (main venv, DATABASE_URL set to the bench database) with one JSON argument:
{"url", "small_url", "trace_url", "username", "warmup", "repeat", "budget"}. A fresh process, so that
the peak resident memory it reports belongs to this one page and nothing measured before it. Then the
two-run session's page and the trace of one of the huge session's runs, timed the same way.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
import tracemalloc
from pathlib import Path

from timing import current_rss, measure, peak_rss

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"


def main() -> None:
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.test import Client

    spec = json.loads(sys.argv[1])
    client = Client(raise_request_exception=False)  # a 500 is a figure to report, not a crash
    client.force_login(User.objects.get(username=spec["username"]))

    def first_byte(url: str = spec["url"]) -> tuple[float, int, int]:
        """Seconds until the first body byte, bytes in total and the status code."""
        started = time.perf_counter()
        response = client.get(url)
        if response.streaming:
            chunks = iter(response.streaming_content)
            first = next(chunks, b"")
            elapsed = time.perf_counter() - started
            size = len(first) + sum(len(chunk) for chunk in chunks)
        else:
            elapsed = time.perf_counter() - started
            size = len(response.content)
        response.close()
        return elapsed, size, response.status_code

    # Imports, templates, the connection and the session login, on pages that hold nothing large.
    client.get(spec["small_url"])
    client.get("/sessions/")
    gc.collect()
    rss_before = current_rss()
    first_ms, size, status = first_byte()
    out = {"status": status, "bytes": size, "first_call_ms": first_ms * 1000, "rss_extra": peak_rss() - rss_before}
    if status != 200:
        print(json.dumps(out))
        return
    gc.collect()
    tracemalloc.start()
    first_byte()
    out["tracemalloc_peak"] = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    options = {key: spec[key] for key in ("warmup", "repeat", "budget")}
    out.update(measure(lambda: first_byte()[0], own_time=True, **options))
    for name in ("small_url", "trace_url"):
        status = first_byte(spec[name])[2]
        figure = measure(lambda name=name: first_byte(spec[name])[0], own_time=True, **options) if status == 200 else {}
        out[name.removesuffix("_url")] = {"status": status, **figure}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
