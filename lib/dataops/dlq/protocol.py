"""What a notebook may call on the dead letters (``p.dlq``): them by reason, and the two calls
that change something: exporting them to a file and replaying them through the pipeline."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from dataops.protocols import action

__all__ = ["DeadLetterQueue"]


class DeadLetterQueue(Protocol):
    """The pipeline's dead letters: what the Flink job or the Iceberg sink rejected."""

    @property
    def topic(self) -> str:
        """The dead-letter topic (``topic_dlq``)."""
        ...

    def letters(self, minutes: float | None = None) -> pd.DataFrame:
        """Every dead letter (of the last ``minutes``), oldest first."""
        ...

    def by_reason(self, minutes: float | None = None) -> pd.DataFrame:
        """Dead letters by reason: ``reason``, ``count``, ``newest``, ``example``."""
        ...

    @action
    def export(self, path: str | Path, reason: str | None = None, minutes: float | None = None) -> int:
        """Write the dead letters (of one ``reason``) as JSONL to edit and replay; how many."""
        ...

    @action
    def replay(
        self,
        lines: str | Path | Iterable[dict[str, Any]] | None = None,
        fix: Callable[[str, Any], Any] | None = None,
        reason: str | None = None,
        wait_s: float = 60.0,
        dry_run: bool = False,
    ) -> pd.DataFrame:
        """Send fixed dead letters back through the pipeline, each ``(coin_id, last_updated_at)`` once."""
        ...
