"""What a notebook may call on the source layer (``p.source``): the CoinGecko API the pipeline
polls, the simulator's served log, and its faults (the only calls that change something)."""

from __future__ import annotations

from typing import Any, Protocol

import pandas as pd

from dataops.protocols import action

__all__ = ["Source"]


class Source(Protocol):
    """The CoinGecko API as the pipeline polls it (the simulator, local profile)."""

    # ---- the price API ---------------------------------------------------------
    def ping(self) -> dict[str, Any]:
        """``/api/v3/ping`` (``{"gecko_says": …}`` when healthy)."""
        ...

    def raw_price(self, ids: list[str] | str, vs_currencies: list[str] | str = "usd", **params: Any) -> tuple[int, str]:
        """``/api/v3/simple/price`` untouched: ``(status, body_text)``."""
        ...

    def price(self, coins: list[str] | str | None = None, vs_currency: str = "usd") -> pd.DataFrame:
        """Current prices, one row per coin."""
        ...

    def current_prices(self, coins: list[str] | str | None = None, vs_currency: str = "usd") -> pd.DataFrame:
        """Alias of :meth:`price`."""
        ...

    # ---- the simulator ---------------------------------------------------------
    def health(self) -> dict[str, Any]:
        """Status, served coins, seed, refresh_s, started_at, served count."""
        ...

    def coins(self) -> list[str]:
        """Coin ids the simulator serves."""
        ...

    def faults(self) -> pd.DataFrame:
        """Active faults: ``id, name, params, started_at, ends_at``."""
        ...

    def served(self, since: int = 0, limit: int = 10_000) -> pd.DataFrame:
        """The served log (ground truth), oldest first."""
        ...

    def last_seq(self) -> int:
        """The ``seq`` of the newest answer in the served log."""
        ...

    def requests(self, last: int = 50) -> pd.DataFrame:
        """The ``last`` requests answered, newest first."""
        ...

    @action
    def inject_fault(self, name: str, duration_s: float = 30, **params: Any) -> dict[str, Any]:
        """Activate a fault for ``duration_s`` seconds; the created fault."""
        ...

    @action
    def clear_faults(self, fault_id: str | None = None) -> int:
        """Clear one fault (by id) or all of them; how many were cleared."""
        ...
