"""The monitor's local start: ``python -m dataops.monitor`` as a stack component, its metrics on ``/metrics``."""

from __future__ import annotations

import sys

from dataops.config import Settings
from dataops.engine import Component, http_ok
from dataops.paths import StatePaths


def _monitor_cmd(s: Settings, paths: StatePaths) -> list[str]:
    return [sys.executable, "-m", "dataops.monitor", "--interval", str(s.monitor_interval_s)]


def _monitor_healthy(s: Settings) -> bool:
    return http_ok(f"http://{s.host}:{s.monitor_port}/metrics")


def components(s: Settings) -> list[Component]:
    """The monitor, as a component of the local stack."""
    return [
        Component(
            "monitor",
            s.monitor_port,
            (s.monitor_port,),
            f"http://{s.host}:{s.monitor_port}/metrics",
            _monitor_cmd,
            _monitor_healthy,
            start_timeout=30,
        ),
    ]
