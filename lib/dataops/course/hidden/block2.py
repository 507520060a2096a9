"""Block 2's hidden grading cases (instructor's edition only; ``dataops release`` leaves them out).

The learner's edition judges on :mod:`dataops.course.block2`'s formative cases instead.
"""

from __future__ import annotations

import pandas as pd

from dataops.course.block2 import _samples


def frozen_cases() -> list[tuple[str, pd.DataFrame, set[str], str]]:
    """The detector's hidden labelled cases: ``(case, samples, the frozen coins, hint)``."""
    return [
        ("mercado normal: nada congelado", _samples(12), set(), "no marques monedas que cambian de precio"),
        ("solana congelada 6 muestras mientras las demás se mueven", _samples(12, {"solana": (3, 6)}), {"solana"},
         "recorre todas las monedas, no solo la primera"),
        ("rachas de 2, 3 y 4 precios iguales no son congelación", _samples(20, {"bitcoin": [(1, 3), (8, 3)], "ethereum": (5, 2), "cardano": (10, 4)}), set(),
         "hacen falta 5 muestras seguidas o más"),
        ("una racha de exactamente 5 cuenta", _samples(12, {"ethereum": (4, 5)}), {"ethereum"}, "5 o más, no más de 5"),
        ("dos monedas congeladas a la vez", _samples(15, {"binancecoin": (0, 9), "cardano": (6, 7)}), {"binancecoin", "cardano"},
         "devuelve todas las monedas congeladas"),
    ]  # fmt: skip
