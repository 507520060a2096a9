"""Shared by the benchmark scripts: attach to the stack, starting it when it is down."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

import dataops  # noqa: E402


def cpu_seconds(procs: list) -> float:
    """CPU seconds (user and system) the psutil processes ``procs`` used so far; gone ones count 0."""
    import psutil

    total = 0.0
    for proc in procs:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def running_pipeline() -> dataops.Pipeline:
    p = dataops.connect()
    p.up(progress=False)
    return p


def watch_freshness(sql, seconds: float) -> list[float]:
    """Seconds from each price change to DuckDB showing it, watched for ``seconds`` through ``sql``
    (a pipeline's ``p.sql``): new ``last_updated_at`` ticks of ``crypto_prices_exploded``, each the
    moment it is first seen minus its tick (whole seconds, so each sample may overstate by < 1 s)."""
    import time

    query = "SELECT DISTINCT last_updated_at FROM crypto_prices_exploded"
    seen = set(map(int, sql(query)["last_updated_at"]))
    start = time.time()
    samples = []
    while time.time() - start < seconds:
        ticks = sql(f"{query} WHERE last_updated_at >= {int(start) - 60}")["last_updated_at"]
        now = time.time()
        for tick in map(int, ticks):
            if tick not in seen:
                seen.add(tick)
                if tick >= start:  # changed while we were watching
                    samples.append(now - tick)
        time.sleep(0.2)
    return samples
