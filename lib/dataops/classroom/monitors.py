"""The class's monitor service: every learner's monitor in one process of the server's.

``class up`` adds each learner to the spec of the ``class-monitors`` component
(:mod:`dataops.monitor.many`): their monitor logs in as them (their settings file), samples their
pipeline every few seconds into their metrics store, heals their connectors and serves ``/metrics``
on their port (``DATAOPS_MONITOR_PORT``). Their store is in a folder of the server's,
``<state>/class/monitors/<learner>`` (``DATAOPS_METRICS_DIR`` in their settings file), which their
group may read and nobody else (:func:`dataops.classroom.iceberg.give_to`): so ``p.metrics()``,
``p.health()`` and block 5's dashboard read their own samples, and the monitor, a root process,
writes nothing where a learner could put a link. ``class reset`` and grading start theirs anew on an
empty store; ``class down`` stops the process.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

from dataops.classroom import access, specs
from dataops.config import ENV_PREFIX, Settings
from dataops.engine import Component, http_ok
from dataops.errors import StackError
from dataops.paths import StatePaths

NAME = "class-monitors"
SPEC = "monitors"
START_S = 30.0  # a learner's /metrics answers within this after the process reads the spec


def folder(paths: StatePaths, learner: str) -> Path:
    """Where ``learner``'s monitor writes (their metrics store)."""
    return paths.classroom / "monitors" / learner


def session_settings(s: Settings, learner: str, port: int) -> dict[str, str]:
    """What the learner's session needs to read their monitor: its port and their store's folder."""
    return {f"{ENV_PREFIX}MONITOR_PORT": str(port), f"{ENV_PREFIX}METRICS_DIR": str(folder(s.paths, learner))}


def _port(s: Settings, learner: str) -> int | None:
    port = access.saved(s.paths, learner, "MONITOR_PORT")
    return int(port) if port and port.isdigit() else None


def start(s: Settings, learner: str, fresh: bool = False) -> None:
    """Have the class's monitor sample ``learner`` (their settings file written: :func:`access.grant`);
    ``fresh``: on an empty store. Waits for their ``/metrics``.

    Raises:
        StackError: It did not answer within :data:`START_S` (one line: read the component's log).
    """
    from dataops.classroom.iceberg import give_to

    mine = folder(s.paths, learner)
    if fresh:
        stop(s, learner)
        shutil.rmtree(mine, ignore_errors=True)
    mine.mkdir(parents=True, exist_ok=True)
    give_to(mine, learner)  # their group reads it, when they have a Unix user (else root's, 700)
    specs.change(s, SPEC, NAME, learner, {"settings": str(access.env_file(s.paths, learner)), "folder": str(mine)})
    port = _port(s, learner)
    deadline = time.monotonic() + START_S
    while port is not None and not http_ok(f"http://{s.host}:{port}/metrics", timeout=1.0):
        if time.monotonic() > deadline:
            raise StackError(f"el monitor de {learner} no responde en el puerto {port} tras {START_S:.0f} s", f"mira `dataops logs {NAME}`")
        time.sleep(0.3)


def stop(s: Settings, learner: str) -> bool:
    """Stop sampling ``learner`` (a reset, a learner leaving); True when theirs ran. The last
    learner's stop stops the process."""
    return specs.remove(s, SPEC, NAME, learner, _port(s, learner), START_S)


def stop_all(s: Settings) -> int:
    """Stop the class's monitor (``class down``); returns how many learners it sampled."""
    return specs.stop_all(s, SPEC, NAME)


def _command(s: Settings, paths: StatePaths) -> list[str]:
    return [sys.executable, "-m", "dataops.monitor.many", "--spec", str(specs.spec_file(paths, SPEC))]


def _healthy(s: Settings) -> bool:
    """The process answers: its first learner's ``/metrics`` (each learner's is waited for by :func:`start`)."""
    spec = specs.read(s.paths, SPEC)
    ports = [_port(s, learner) for learner in spec]
    return any(port is not None and http_ok(f"http://{s.host}:{port}/metrics", timeout=1.0) for port in ports) or not ports


def components(s: Settings) -> list[Component]:
    """The learners' monitors' process, an optional component started by ``dataops class up``: its
    ports are the learners' (``DATAOPS_CLASS_MONITOR_PORT`` on), checked one by one as they are given."""
    return [Component(NAME, s.class_monitor_port, (), f"http://{s.host}:{s.class_monitor_port}/metrics", _command, _healthy,
                      start_timeout=START_S, optional=True, after=())]  # fmt: skip
