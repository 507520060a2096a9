"""Kafka Connect layer: connectors and tasks through the Connect REST API."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import pandas as pd
import requests

from dataops.errors import HTTPError, ServiceUnavailableError

logger = logging.getLogger(__name__)


def _rebalancing(status: int, detail: str) -> bool:
    """Connect's answers while its group rebalances: 409 (a conflicting operation, e.g. a worker
    rebalance) and 500 "Request cannot be completed because a rebalance is expected"."""
    return status == 409 or (status == 500 and "rebalance" in detail.lower())


class ConnectLayer:
    """A thin client of the Kafka Connect REST API.

    Args:
        url: Base URL of a Connect worker, e.g. ``http://127.0.0.1:8083``.
        timeout: Seconds per request.
        headers: Sent with every request (a class server's front wants the learner's token).
    """

    def __init__(self, url: str, timeout: float = 15.0, rebalance_wait_s: float = 60.0, headers: dict[str, str] | None = None) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.rebalance_wait_s = rebalance_wait_s
        self.headers = dict(headers or {})

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        """One REST call. A worker that has just (re)joined its group answers 409, or 500 "a rebalance
        is expected", until the rebalance ends: that is retried for up to ``rebalance_wait_s``."""
        deadline = time.monotonic() + self.rebalance_wait_s
        delay = 0.5
        while True:
            try:
                resp = requests.request(method, f"{self.url}{path}", timeout=self.timeout, headers=self.headers or None, **kwargs)
            except requests.RequestException:
                raise ServiceUnavailableError("Kafka Connect", self.url) from None
            if resp.status_code < 400:
                return resp.json() if resp.content else None
            try:
                detail = resp.json().get("message", resp.text)
            except ValueError:
                detail = resp.text
            if _rebalancing(resp.status_code, str(detail)) and time.monotonic() + delay < deadline:
                logger.info("Kafka Connect is rebalancing (%s %s: %s); retrying", method, path, detail)
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            raise HTTPError("Kafka Connect", resp.status_code, method, path, str(detail)[:300])

    def plugins(self) -> pd.DataFrame:
        return pd.DataFrame(self._request("GET", "/connector-plugins"))

    def config(self, name: str) -> dict[str, str] | None:
        """The connector's config, or None when it does not exist."""
        try:
            config: dict[str, str] = self._request("GET", f"/connectors/{name}/config")
        except HTTPError as exc:
            if exc.status == 404:
                return None
            raise
        return config

    def put_config(self, name: str, config: dict[str, str]) -> dict[str, Any]:
        """Create or update a connector (idempotent)."""
        answer: dict[str, Any] = self._request("PUT", f"/connectors/{name}/config", json=config)
        return answer

    def status(self, name: str) -> dict[str, Any]:
        status: dict[str, Any] = self._request("GET", f"/connectors/{name}/status")
        return status

    def pause(self, name: str) -> None:
        self._request("PUT", f"/connectors/{name}/pause")

    def resume(self, name: str) -> None:
        self._request("PUT", f"/connectors/{name}/resume")

    def restart(self, name: str) -> None:
        self._request("POST", f"/connectors/{name}/restart?includeTasks=true&onlyFailed=false")

    def delete(self, name: str) -> None:
        self._request("DELETE", f"/connectors/{name}")

    def states(self) -> dict[str, list[str]]:
        """Connector name → its state followed by its tasks' states (one cheap request)."""
        data = self._request("GET", "/connectors?expand=status") or {}
        return {
            name: [item["status"]["connector"]["state"], *(t["state"] for t in item["status"].get("tasks", []))]
            for name, item in data.items()
        }

    def connectors(self) -> pd.DataFrame:
        """One row per task: connector, type, connector state, task id, task state, worker, error trace."""
        data = self._request("GET", "/connectors?expand=status&expand=info") or {}
        rows = []
        for name, item in sorted(data.items()):
            status = item.get("status", {})
            conn = status.get("connector", {})
            tasks = status.get("tasks") or [{}]
            for task in tasks:
                trace = task.get("trace") or conn.get("trace") or ""
                rows.append(
                    {
                        "connector": name,
                        "type": status.get("type"),
                        "state": conn.get("state"),
                        "task": task.get("id"),
                        "task_state": task.get("state"),
                        "worker": task.get("worker_id") or conn.get("worker_id"),
                        # First line only: the full Java trace is in `dataops logs connect`.
                        "error": trace.strip().splitlines()[0] if trace else "",
                    }
                )
        return pd.DataFrame(rows, columns=["connector", "type", "state", "task", "task_state", "worker", "error"])


if TYPE_CHECKING:  # mypy checks the class against the protocol the Pipeline returns it as
    from dataops.kafka_connect.protocol import Connect

    _CHECKED: type[Connect] = ConnectLayer
