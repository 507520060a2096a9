"""Block 5's hidden grading cases (instructor's edition only; ``dataops release`` leaves them out).

The learner's edition judges on :mod:`dataops.course.block5`'s formative cases instead.
"""

from __future__ import annotations

from dataops import scenarios
from dataops.course.block5 import _spike


def eth_cases() -> list[tuple[scenarios.Scenario, set[str]]]:
    """The hidden one-hour histories, each with the ETH rules that must fire on it (and no other)."""
    return [
        (_spike("eth-alto", "ethereum", 1.6, None, ("ETH_PRICE_HIGH",), "ETH sube a ~5.600 USD"), {"ETH_PRICE_HIGH"}),
        (_spike("eth-crash", "ethereum", 0.8, -20.0, ("ETH_CRASH",), "la API informa ETH −20 % en 24 h"), {"ETH_CRASH"}),
        (_spike("eth-casi", "ethereum", 1.38, -13.0, (), "ETH en ~4.850 USD y −13 % en 24 h (aún no)"), set()),
        # Near the thresholds (5.000 USD, −15 %): a threshold 2 % off, or >= for >, answers differently here.
        (_spike("eth-justo-encima", "ethereum", 1.443, -15.5, ("ETH_PRICE_HIGH", "ETH_CRASH"), "ETH en ~5.050 USD y −15,5 % en 24 h"),
         {"ETH_PRICE_HIGH", "ETH_CRASH"}),
        (_spike("eth-justo-debajo", "ethereum", 1.414, -15.0, (), "ETH en ~4.950 USD y justo −15 % en 24 h (aún no)"), set()),
        (_spike("sol-crash", "solana", 0.7, -30.0, (), "Solana −30 % en 24 h (otra moneda)"), set()),
        (_spike("btc-crash", "bitcoin", 0.75, -25.0, (), "Bitcoin −25 % en 24 h (otra moneda)"), set()),
    ]  # fmt: skip
