"""The source's local start: the simulator process the pipeline polls instead of CoinGecko.

The server itself is :mod:`dataops.simulator`; this module only says how the stack runs it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from dataops.config import Settings
from dataops.engine import Component, http_ok
from dataops.paths import StatePaths


# The low-memory mode's start of the simulator: ``python -m dataops.simulator`` would first run the
# package's ``__init__`` (the whole library: pandas, pyarrow, the Kafka client, ~110 MB resident),
# while the simulator needs only the standard library and ``dataops``' base modules. This stands an
# empty ``dataops`` package in for it (the same folder, so every submodule imports as usual) and
# runs the simulator's ``main``: about 25 MB instead of 140.
LEAN_SIMULATOR = (
    "import sys, types; package = types.ModuleType('dataops'); package.__path__ = [{folder!r}]; "
    "sys.modules['dataops'] = package; from dataops.simulator.cli import main; sys.exit(main())"
)


def _simulator_cmd(s: Settings, paths: StatePaths) -> list[str]:
    (paths.data / "simulator").mkdir(parents=True, exist_ok=True)
    package = str(Path(__file__).resolve().parents[1])
    start = ["-c", LEAN_SIMULATOR.format(folder=package)] if s.low_memory else ["-m", "dataops.simulator"]
    return [
        sys.executable,
        *start,
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
