"""The spec of a class process that serves every learner (:mod:`~dataops.classroom.simulators`'s
simulators, :mod:`~dataops.classroom.monitors`'s monitor): learner → what theirs needs, one JSON
file the process reads again at each SIGHUP. A change is made under a lock: the file is replaced
whole, then the process told (or started, for the first learner)."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

from dataops import locks
from dataops.config import Settings
from dataops.engine import port_open
from dataops.paths import StatePaths


def spec_file(paths: StatePaths, name: str) -> Path:
    """The spec of the class's ``name`` process (``<state>/class/<name>.json``)."""
    return paths.classroom / f"{name}.json"


def read(paths: StatePaths, name: str) -> dict[str, Any]:
    """The spec as written ({} when there is none yet)."""
    try:
        return dict(json.loads(spec_file(paths, name).read_text(encoding="utf-8")))
    except (FileNotFoundError, ValueError):
        return {}


def change(s: Settings, name: str, component: str, learner: str, entry: Any | None) -> bool:
    """Put ``learner``'s ``entry`` in the spec (None: take it out) and have the ``component`` process
    read it (started when it does not run and the entry is new); True when the learner was in it."""
    from dataops.stack import Stack

    with locks.exclusive(s.paths.classroom / "run" / f"{name}.lock", f"cambio de {name}"):
        spec = read(s.paths, name)
        was = learner in spec
        if entry is None:
            spec.pop(learner, None)
        else:
            spec[learner] = entry
        path = spec_file(s.paths, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.with_suffix(".tmp").write_text(json.dumps(spec, indent=1), encoding="utf-8")
        path.with_suffix(".tmp").replace(path)
        pid = Stack(s).pid(component)
        if pid is not None:
            os.kill(pid, signal.SIGHUP)  # it reads the spec again: the others keep their state
        elif entry is not None:
            Stack(s).up([component], progress=False)
    return was


def remove(s: Settings, name: str, component: str, learner: str, port: int | None, wait_s: float) -> bool:
    """Take ``learner`` out of the spec; True when theirs ran. The last learner's removal stops the
    process. Waits (up to ``wait_s``) for their ``port`` to close: free before theirs starts anew (a reset's)."""
    from dataops.stack import Stack

    running = Stack(s).pid(component) is not None
    was = change(s, name, component, learner, None)
    if not read(s.paths, name):
        Stack(s).stop(component)
    deadline = time.monotonic() + wait_s
    while running and port and port_open(s.host, port, 0.2) and time.monotonic() < deadline:
        time.sleep(0.2)
    return was and running


def stop_all(s: Settings, name: str, component: str) -> int:
    """Stop the ``component`` process and forget its spec; how many learners it served."""
    from dataops.stack import Stack

    served = len(read(s.paths, name)) if Stack(s).stop(component) else 0
    spec_file(s.paths, name).unlink(missing_ok=True)
    return served
