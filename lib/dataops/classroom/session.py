"""A learner's ``p.stack`` on a class server: the class's engines and their monitor, seen from their session.

The engines (broker, Connect, Flink) and the monitor service are the server's: a learner neither
starts nor stops them, and ``p.status()`` shows whether each answers them. Their monitor is theirs
in what it reads and writes: the class's monitor (:mod:`dataops.classroom.monitors`) samples their
pipeline, logged in as them, into their metrics store (``DATAOPS_METRICS_DIR``, a folder of the
server's that their group may read) and serves ``/metrics`` on their port (``DATAOPS_MONITOR_PORT``);
both are in their settings file. So ``p.up()`` in a notebook does what it does on a laptop, setting
their pipeline up once the class's engines and their monitor answer, and ``p.health()``,
``p.metrics()`` and the alerts of blocks 1, 2 and 5 read their own samples.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from dataops.config import Settings
from dataops.engine import http_ok, port_open
from dataops.errors import StackError
from dataops.stack import Stack

MONITOR = "monitor (clase)"


class ClassStack(Stack):
    """``p.stack`` in the ``class`` profile: the class's engines and the learner's monitor (read only)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.paths = settings.paths
        self._components = {}

    def process(self, name: str) -> Any:
        return None  # nothing of the stack is the learner's process

    def engines(self) -> pd.DataFrame:
        """The class's engines and their monitor as this session reaches them: ``component``, ``health`` (up/down), ``where``."""
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
        mine = f"http://{s.host}:{s.monitor_port}/metrics"
        rows.append((MONITOR, http_ok(mine, timeout=5), mine))
        return pd.DataFrame([{"component": c, "health": "up" if ok else "down", "where": w} for c, ok, w in rows])

    def status(self) -> pd.DataFrame:
        """One row per engine of the class and their monitor (no pid: the server's)."""
        engines = self.engines().rename(columns={"where": "address"})
        return engines.assign(pid=pd.array([None] * len(engines), dtype="Int64"))

    def up(self, names: list[str] | None = None, progress: bool = True) -> pd.DataFrame:  # type: ignore[override]
        """Check that the class's engines and their monitor answer: nothing to start here.

        Raises:
            StackError: One of them does not answer (one line: tell the instructor).
        """
        status = self.status()
        down = status.query("health != 'up'")
        if len(down):
            raise StackError(f"el servidor de la clase no responde: {', '.join(down['component'])}", "avisa al profesor (`dataops class status`)")
        return status
