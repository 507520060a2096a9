"""Live replay: a scenario's incidents injected into a running simulator at their offsets."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import pandas as pd

from dataops.errors import ScenarioError
from dataops.scenarios.loading import Scenario, resolve

__all__ = ["replay"]


def replay(
    scenario: Scenario | str,
    client: Any,
    pause_consumer: Callable[[float], Any] | None = None,
    speed: float = 1.0,
    sleep: Callable[[float], Any] = time.sleep,
) -> pd.DataFrame:
    """Inject a scenario's incidents into a live simulator at their offsets.

    Faults go through ``client.inject_fault(fault, duration_s=..., **params)``; the
    ``pause_consumer`` action calls ``pause_consumer(duration_s)`` (the caller's hook,
    e.g. pausing a connector for that long). Offsets and durations are divided by ``speed``.
    Time only advances through ``sleep`` (injectable for tests).

    Returns:
        One row per incident: ``offset_s, kind, duration_s, params, result``.

    Raises:
        ScenarioError: An action is needed but no callable was given, or ``speed`` <= 0.
    """
    sc = resolve(scenario)
    if speed <= 0 or not math.isfinite(speed):
        raise ScenarioError(f"la velocidad del replay debe ser > 0, no {speed}", "pasa p. ej. `speed=10`")
    if pause_consumer is None and any(i.action == "pause_consumer" for i in sc.incidents):
        raise ScenarioError(f"el escenario {sc.name} necesita pause_consumer", "pasa `replay(..., pause_consumer=callable)`")
    elapsed = 0.0
    rows = []
    for inc in sorted(sc.incidents, key=lambda i: i.start_s):
        offset = inc.start_s / speed
        if offset > elapsed:
            sleep(offset - elapsed)
            elapsed = offset
        duration = (inc.end_s - inc.start_s) / speed
        if inc.fault is not None:
            result = client.inject_fault(inc.fault, duration_s=duration, **dict(inc.params))
        else:
            assert pause_consumer is not None
            result = pause_consumer(duration)
        rows.append({"offset_s": offset, "kind": inc.kind, "duration_s": duration, "params": dict(inc.params), "result": result})
    return pd.DataFrame(rows, columns=["offset_s", "kind", "duration_s", "params", "result"])
