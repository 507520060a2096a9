"""A laptop put to sleep: seen afterwards in the monitor's samples, and said by ``up`` in one line."""

from __future__ import annotations

import time
from typing import Any, Callable

import pandas as pd

from dataops import automation

# A hole this long in the monitor's samples, with the monitor running throughout: the stack was frozen.
SLEEP_MIN_S = 60.0


def sleep_line(slept: tuple[float, float], steps: pd.DataFrame) -> str:
    """What ``up`` says after a sleep (one line, for the learner): how long, and what it had to repair
    (the set-up steps that did something) or that the pipeline had healed by itself."""
    start, end = slept
    length = end - start
    span = f"{length:.0f} s" if length < 120 else f"{length / 60:.0f} min"
    hours = f"{time.strftime('%H:%M', time.localtime(start))}–{time.strftime('%H:%M', time.localtime(end))}"
    fixed = [f"{step} ({action})" for step, action in zip(steps["step"], steps["action"]) if automation.repaired(action)]
    if fixed:
        return (f"  ↻ El equipo estuvo en suspensión {span} ({hours}); `up` ha arreglado lo que no se recuperó "
                f"solo: {'; '.join(fixed)}")  # fmt: skip
    return f"  ✔ El equipo estuvo en suspensión {span} ({hours}) y el pipeline se recuperó solo"


def last_sleep(stack: Any, store: Any, last_up: dict[str, Any] | None, interval_s: float) -> tuple[float, float] | None:
    """The newest stretch (start, end, UNIX times) since the last ready ``up`` in which every
    process of the local stack was frozen (a laptop put to sleep), or None.

    Seen as a hole of at least :data:`SLEEP_MIN_S` in the monitor's samples while the same monitor
    process kept running: only a frozen process skips its rounds (a stopped monitor has a new start
    time, and a slow layer never stops a round). The other components were frozen with it.
    """
    started = stack.started_at("monitor") if stack is not None else None
    if started is None:
        return None
    after = max(started, float(last_up["at"]) if last_up else 0.0)
    rounds = store.query("pipeline_availability", since=max(started, time.time() - 86_400))
    stamps = sorted(ts.timestamp() for ts in rounds["ts"])
    min_gap = max(SLEEP_MIN_S, 6 * interval_s)
    holes = [(a, b) for a, b in zip(stamps, stamps[1:]) if b - a >= min_gap and b > after]
    return holes[-1] if holes else None


def note(find: Callable[[], tuple[float, float] | None], steps: pd.DataFrame) -> str | None:
    """The line ``up`` prints after its set-up: :func:`sleep_line` when the machine slept, None when
    not. A courtesy: a metrics store that cannot be read is said in one line and does not stop ``up``."""
    try:
        slept = find()
    except Exception as exc:  # noqa: BLE001
        return f"  (no he podido mirar si el equipo estuvo en suspensión: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
    return sleep_line(slept, steps) if slept is not None else None
