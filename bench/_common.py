"""Timing helpers shared by the benchmarks (run by hand, never by the test suite)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def median_seconds(fn: Callable[[], Any], repeat: int, clock: Callable[[], float] = time.perf_counter) -> float:
    """Median of ``repeat`` runs of ``fn`` on ``clock``: wall time by default, CPU time with ``time.process_time``.

    CPU seconds of this process (all threads) are less distorted than wall time on a shared machine.
    """
    times = []
    for _ in range(max(1, repeat)):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    return statistics.median(times)


def wall_seconds(fn: Callable[[], Any], repeat: int) -> float:
    """Median wall seconds of ``repeat`` runs of ``fn``."""
    return median_seconds(fn, repeat, time.perf_counter)


def cpu_seconds(fn: Callable[[], Any], repeat: int) -> float:
    """Median CPU seconds of this process (all threads) over ``repeat`` runs of ``fn``."""
    return median_seconds(fn, repeat, time.process_time)
