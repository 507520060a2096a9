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
