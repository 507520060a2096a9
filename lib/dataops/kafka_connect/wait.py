"""Wait until a connector and its task run: what ``apply`` does after it creates or restarts one."""

from __future__ import annotations

import time

from dataops.errors import StackError
from dataops.kafka_connect.protocol import Connect


def wait_running(client: Connect, name: str, wait_s: float = 60.0) -> str:
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
                f"el conector {name} está FAILED: {trace.strip().splitlines()[0] if trace else 'mira el log de Connect'}",
                "mira `dataops logs connect`",
            )
        if tasks and all(s == "RUNNING" for s in states):
            return "RUNNING"
        state = "/".join(states)
        time.sleep(0.5)
    raise StackError(f"el conector {name} no está RUNNING tras {wait_s:.0f} s ({state})", "mira `dataops logs connect`")
