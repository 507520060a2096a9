"""Shared by the benchmark scripts: attach to the stack, starting it when it is down."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

import dataops  # noqa: E402


def running_pipeline() -> dataops.Pipeline:
    p = dataops.connect()
    p.up(progress=False)
    return p
