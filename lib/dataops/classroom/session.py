"""A learner's ``p.stack`` on a class server: the class's engines, seen from their session, and the one
process of their own, their monitor.

The engines (broker, Connect, Flink) are the server's: a learner neither starts nor stops them, and
``p.status()`` shows whether each answers them. Their monitor is theirs: ``p.up()`` starts it as a
process of their own (their Unix user on the hub), which samples their pipeline into the metrics
store and alert log of their state folder (``DATAOPS_STATE_DIR``: their home on the hub) and serves
``/metrics`` on their port (``DATAOPS_MONITOR_PORT``, given by ``class up``). So ``p.up()`` in a
notebook does what it does on a laptop, starting what is not running and setting their pipeline up,
and ``p.health()``, ``p.metrics()`` and the alerts of blocks 1, 2 and 5 read their own samples.
A monitor is a learner's own rather than one service for the class: what it writes is theirs, and
a root process writing in a learner's home would follow whatever links they put there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pandas as pd
import psutil

from dataops.classroom import access, hub_config
from dataops.config import ENV_PREFIX, Settings, load_settings
from dataops.engine import port_open
from dataops.errors import StackError
from dataops.monitor import engine as monitor_engine
from dataops.stack import Stack

MONITOR = "monitor"


class ClassStack(Stack):
    """``p.stack`` in the ``class`` profile: the learner's monitor, and the class's engines (read only)."""

    def __init__(self, settings: Settings) -> None:
        # Their monitor is one of a class's on the server: in the low-memory mode (two malloc arenas
        # rather than eight per core, the table's maintenance in a child that gives its memory back).
        self.settings = settings.model_copy(update={"low_memory": True})
        self.paths = settings.paths
        self._components = {c.name: c for c in monitor_engine.components(settings)}

    def process(self, name: str) -> Any:
        return super().process(name) if name in self._components else None

    def engines(self) -> pd.DataFrame:
        """The class's engines as this session reaches them: ``component``, ``health`` (up/down), ``where``."""
        import requests

        from dataops.classroom.clients import token_session

        s = self.settings
        host, port = s.bootstrap_servers.split(",")[0].rsplit(":", 1)
        rows = [("kafka (clase)", port_open(host, int(port)), s.bootstrap_servers)]
        session = token_session(s)
        for name, path in (("connect (clase)", "/connectors"), ("flink (clase)", "/flink/overview")):
            try:
                ok = session.get(f"{s.connect_url}{path}", timeout=5).status_code == 200
            except requests.RequestException:  # not answering is what this row says
                ok = False
            rows.append((name, ok, f"{s.connect_url}{path}"))
        return pd.DataFrame([{"component": c, "health": "up" if ok else "down", "where": w} for c, ok, w in rows])

    def status(self) -> pd.DataFrame:
        """Their monitor's row, then one per engine of the class (no pid: the server's)."""
        mine = super().status()
        engines = self.engines().rename(columns={"where": "address"})
        return pd.concat([mine, engines], ignore_index=True).astype({"pid": "Int64"})

    def up(self, names: list[str] | None = None, progress: bool = True) -> pd.DataFrame:  # type: ignore[override]
        """Start their monitor unless it runs, once the class's engines answer.

        Raises:
            StackError: An engine of the class does not answer (one line: tell the instructor).
        """
        down = self.engines().query("health != 'up'")
        if len(down):
            raise StackError(f"el servidor de la clase no responde: {', '.join(down['component'])}", "avisa al profesor (`dataops class status`)")
        return super().up([MONITOR], progress=progress)

    def child_secrets(self) -> dict[str, str]:
        """Their monitor logs in as them: their Kafka password and class token (never on a command line)."""
        s = self.settings
        secrets = {"KAFKA_API_SECRET": s.kafka_api_secret, "SIMULATOR_TOKEN": s.simulator_token}
        return {f"{ENV_PREFIX}{k}": v.get_secret_value() for k, v in secrets.items() if v is not None}


def state_dirs(s: Settings, learner: str) -> list[Path]:
    """Where ``learner``'s sessions write: the server's folder for them, and their home's on the hub."""
    saved = access.saved(s.paths, learner, "STATE_DIR")
    user = hub_config.existing_user(learner)
    return [Path(p) for p in (saved, user and str(Path(user.pw_dir) / hub_config.STATE)) if p]


def stop_monitors(s: Settings, learner: str) -> int:
    """Stop ``learner``'s monitors (a reset, a learner leaving, the class ending); how many ran."""
    stopped = 0
    for folder in state_dirs(s, learner):
        stack = Stack(load_settings(profile="local", state_dir=folder))
        stopped += stack.stop(MONITOR, owner=_their_monitor(learner))
    return stopped


def _their_monitor(learner: str) -> Callable[[psutil.Process], bool]:
    """Whether a process is ``learner``'s monitor. The learner can write the pid file, and root stops
    what it names: the stop reads it once (no FIFO, no link) and asks this of the process it names,
    so another process's pid, or a file swapped in between two readings, stops nothing."""
    user = hub_config.existing_user(learner)

    def theirs(proc: psutil.Process) -> bool:
        try:
            return proc.cmdline()[1:3] == ["-m", "dataops.monitor"] and (user is None or proc.uids().real == user.pw_uid)
        except psutil.Error:
            return False

    return theirs
