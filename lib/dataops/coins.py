"""The coins the pipeline follows by default: one definition for the whole library.

The ``coins`` setting defaults to this list, the simulator serves it when asked for no
coins in particular (its catalog, :data:`dataops.simulator.CATALOG`, knows more), and the
course's exercises build their sample rows from it. A base module, so the settings can
import it without reaching up into the simulator.
"""

from __future__ import annotations

__all__ = ["DEFAULT_COINS"]

DEFAULT_COINS: tuple[str, ...] = ("bitcoin", "ethereum", "binancecoin", "cardano", "solana")
