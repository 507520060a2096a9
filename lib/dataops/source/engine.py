"""The source's local start: the simulator process the pipeline polls instead of CoinGecko.

The server itself is :mod:`dataops.simulator`; this module only says how the stack runs it.
"""

from __future__ import annotations

import sys

from dataops.config import Settings
from dataops.engine import Component, http_ok
from dataops.paths import StatePaths


def _simulator_cmd(s: Settings, paths: StatePaths) -> list[str]:
    (paths.data / "simulator").mkdir(parents=True, exist_ok=True)
    return [
        sys.executable,
        "-m",
        "dataops.simulator",
        "--host", s.host,
        "--port", str(s.simulator_port),
        "--seed", str(s.simulator_seed),
        "--refresh-s", str(s.simulator_refresh_s),
        "--coins", ",".join(s.coins),
        "--log", str(paths.data / "simulator" / "served.jsonl"),
        "--log-max-mb", str(s.log_max_mb),
        "--log-backups", str(s.log_backups),
    ]  # fmt: skip


def _simulator_healthy(s: Settings) -> bool:
    return http_ok(f"{s.simulator_url}/_sim/health")


def components(s: Settings) -> list[Component]:
    """The simulator, as a component of the local stack."""
    return [
        Component(
            "simulator",
            s.simulator_port,
            (s.simulator_port,),
            s.simulator_url,
            _simulator_cmd,
            _simulator_healthy,
            start_timeout=20,
        ),
    ]
