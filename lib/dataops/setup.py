"""Helpers of the set-up: wait for a connector, and which steps changed something.

The set-up itself is :mod:`dataops.automation` (the pipeline declaration, applied)."""

from __future__ import annotations

import time

import pandas as pd

from dataops.errors import StackError
from dataops.kafka_connect.layer import ConnectLayer


def wait_running(client: ConnectLayer, name: str, wait_s: float = 60.0) -> str:
    """Wait until the connector and its task are RUNNING; a FAILED task raises."""
    deadline = time.monotonic() + wait_s
    state = "UNASSIGNED"
    while time.monotonic() < deadline:
        try:
            status = client.status(name)
        except Exception:  # noqa: BLE001 - status not there yet right after creation
            time.sleep(0.5)
            continue
        tasks = status.get("tasks", [])
        states = [status["connector"]["state"], *(t["state"] for t in tasks)]
        if "FAILED" in states:
            trace = next((t.get("trace", "") for t in tasks if t["state"] == "FAILED"), "")
            raise StackError(
                f"connector {name} FAILED: {trace.strip().splitlines()[0] if trace else 'see the Connect log'}",
                "see `dataops logs connect`",
            )
        if tasks and all(s == "RUNNING" for s in states):
            return "RUNNING"
        state = "/".join(states)
        time.sleep(0.5)
    raise StackError(f"connector {name} is not RUNNING after {wait_s:.0f} s ({state})", "see `dataops logs connect`")


_NO_OP = ("exists", "unchanged", "running")


def changes(steps: pd.DataFrame) -> pd.DataFrame:
    """The :func:`setup` steps that created, updated or (re)submitted something."""
    return steps[~steps["action"].astype(str).str.startswith(_NO_OP)]


def changed(steps: pd.DataFrame) -> bool:
    """True when a :func:`setup` step created, updated or (re)submitted something."""
    return not changes(steps).empty
