"""Replay alert rules on a history and score them against labelled incidents.

Pure and vectorized, on the machinery of :mod:`dataops.alerts.evaluation`.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from dataops.alerts.evaluation import _episodes, _Prepared, _timeline
from dataops.alerts.rules import Rule


def backtest(rules: Iterable[Rule], history: pd.DataFrame, incidents: pd.DataFrame, tolerance_s: float = 0.0) -> pd.DataFrame:
    """Replay the rules on a history and score them against labelled incidents.

    Args:
        rules: The rules to test.
        history: Long metric frame.
        incidents: Columns ``start``, ``end``, optionally ``name`` and ``rule``
            (empty/missing rule: the incident applies to every rule).
        tolerance_s: A firing up to this long after an incident's end still detects it.

    Returns:
        One row per rule: episodes (count), firing (list of (start, end)),
        true_episodes, precision, incidents (names), delays_s (per incident, NaN
        when missed), detected, recall, mean_delay_s.
    """
    prep = _Prepared(history)
    inc = incidents.copy()
    inc["start"] = pd.to_datetime(inc["start"], utc=True)
    inc["end"] = pd.to_datetime(inc["end"], utc=True)
    inc["rule"] = inc["rule"].fillna("").astype(str) if "rule" in inc else ""
    inc["name"] = inc["name"].astype(str) if "name" in inc else [f"incident-{i}" for i in range(len(inc))]
    tol = pd.Timedelta(tolerance_s, "s")
    rows = []
    for rule in rules:
        tl = _timeline(rule, prep)
        eps = _episodes(tl)
        mine = inc[(inc["rule"] == "") | (inc["rule"] == rule.name)]
        ep_start, ep_end = pd.to_datetime(eps["start"], utc=True).to_numpy(), pd.to_datetime(eps["end"], utc=True).to_numpy()
        i_start, i_end = mine["start"].to_numpy(), (mine["end"] + tol).to_numpy()
        overlap = (ep_start[:, None] <= i_end[None, :]) & (ep_end[:, None] >= i_start[None, :])
        true_eps = int(overlap.any(axis=1).sum())
        fire_ts = tl["ts"].to_numpy()[tl["firing"].to_numpy()]
        fire_ts.sort()
        pos = np.searchsorted(fire_ts, i_start, side="left")
        found = pos < len(fire_ts)
        first = fire_ts[np.minimum(pos, max(len(fire_ts) - 1, 0))] if len(fire_ts) else i_start
        detected = found & (first <= i_end) if len(fire_ts) else np.zeros(len(mine), dtype=bool)
        delays = np.where(detected, (first - i_start) / np.timedelta64(1, "s"), np.nan) if len(mine) else np.array([])
        rows.append(
            {
                "rule": rule.name,
                "severity": rule.severity,
                "episodes": len(eps),
                "firing": list(zip(pd.to_datetime(ep_start, utc=True), pd.to_datetime(ep_end, utc=True))),
                "true_episodes": true_eps,
                "precision": true_eps / len(eps) if len(eps) else np.nan,
                "incidents": list(mine["name"]),
                "delays_s": [float(d) for d in delays],
                "detected": int(detected.sum()),
                "recall": float(detected.sum()) / len(mine) if len(mine) else np.nan,
                "mean_delay_s": float(np.nanmean(delays)) if detected.any() else np.nan,
            }
        )
    return pd.DataFrame(rows)
