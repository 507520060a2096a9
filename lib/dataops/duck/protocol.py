"""What a notebook may call on the DuckDB layer (``p.duck``): SQL on the newest Iceberg data,
read only."""

from __future__ import annotations

from typing import Any, Protocol

import pandas as pd

__all__ = ["Duck"]


class Duck(Protocol):
    """DuckDB with the Iceberg table queryable by name (local profile)."""

    def query(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        """Run SQL on the newest data."""
        ...

    def per_coin(self) -> pd.DataFrame:
        """Records per coin, average price, first and last event time."""
        ...

    def trends(self, minutes: int = 10) -> pd.DataFrame:
        """Tumbling-window trends per coin: average, volatility and direction."""
        ...
