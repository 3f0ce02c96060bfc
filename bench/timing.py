"""Timing and memory helpers shared by the bench scripts (plain Python: the agno venv imports it too)."""

from __future__ import annotations

import os
import resource
import statistics
import time
from collections.abc import Callable


def measure(call: Callable[[], object], *, warmup: int, repeat: int, budget: float, own_time: bool = False) -> dict:
    """Median of `repeat` timed calls after `warmup` untimed ones, in milliseconds.

    With `own_time`, the call returns its own figure in seconds (e.g. time to first byte);
    otherwise it is timed whole. Stops early, after at least three calls, once `budget` seconds are spent, so that
    multi-second baselines at a million rows do not take an hour; `n` says how many were timed.
    """
    for _ in range(warmup):
        call()
    samples: list[float] = []
    started = time.perf_counter()
    while len(samples) < repeat:
        before = time.perf_counter()
        own = call()
        samples.append(own if own_time else time.perf_counter() - before)
        if len(samples) >= 3 and time.perf_counter() - started > budget:
            break
    return {
        "median_ms": statistics.median(samples) * 1000,
        "min_ms": min(samples) * 1000,
        "n": len(samples),
    }


def current_rss() -> int:
    """Resident memory of this process now, in bytes (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss() -> int:
    """Highest resident memory this process ever had, in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
