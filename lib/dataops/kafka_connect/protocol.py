"""What a notebook may call on the Kafka Connect layer (``p.connect``): connectors and their
tasks; putting a config, pausing, resuming, restarting and deleting change something."""

from __future__ import annotations

from typing import Any, Protocol

import pandas as pd

from dataops.protocols import action

__all__ = ["Connect"]


class Connect(Protocol):
    """Kafka Connect's connectors and tasks (local profile)."""

    def plugins(self) -> pd.DataFrame:
        """The connector plugins the worker has."""
        ...

    def connectors(self) -> pd.DataFrame:
        """One row per task: connector, type, state, task, task state, worker, error."""
        ...

    def states(self) -> dict[str, list[str]]:
        """Connector name → its state followed by its tasks' states."""
        ...

    def status(self, name: str) -> dict[str, Any]:
        """The connector's status as Kafka Connect reports it."""
        ...

    def config(self, name: str) -> dict[str, str] | None:
        """The connector's config, or None when it does not exist."""
        ...

    @action
    def put_config(self, name: str, config: dict[str, str]) -> dict[str, Any]:
        """Create or update a connector (idempotent)."""
        ...

    @action
    def pause(self, name: str) -> None:
        """Pause a connector and its tasks."""
        ...

    @action
    def resume(self, name: str) -> None:
        """Resume a paused connector."""
        ...

    @action
    def restart(self, name: str) -> None:
        """Restart a connector and all its tasks."""
        ...

    @action
    def delete(self, name: str) -> None:
        """Delete a connector."""
        ...
