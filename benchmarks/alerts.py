"""Alert engine speed and detection delay per labelled scenario.

Prints:
  alert_eval_s            10 rules over 1,000,000 metric points (best of 3)
  detect_s_<scenario>     seconds from the incident's start until the first of its expected
                          rules fires, on its offline history rendered from seed 0
No running stack needed.
Usage: .venv/bin/python benchmarks/alerts.py
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from _common import dataops  # noqa: F401 - puts lib/ on the path

from dataops.alerts import Rule, backtest, evaluate, load_rules
from dataops.scenarios import load_scenario, render_history, scenarios


def synthetic_history(points: int = 1_000_000, series: int = 10, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    per = points // series
    ts = pd.date_range("2025-01-01", periods=per, freq="5s", tz="UTC")
    frames = []
    # Every metric the rules read; two price series (labels coin=bitcoin / ethereum).
    metrics = ["api_error_rate", "data_freshness", "topic_lag", "data_completeness", "data_accuracy",
               "quality_score", "frozen_coins", "price", "price", "api_response_time"]  # fmt: skip
    coins = iter(["bitcoin", "ethereum"] * series)
    for i in range(series):
        metric = metrics[i % len(metrics)]
        frames.append(
            pd.DataFrame(
                {"ts": ts, "metric": metric, "coin": next(coins) if metric == "price" else "", "group": "", "topic": "",
                 "value": rng.normal(50, 20, per).clip(0) * (2000 if metric == "price" else 1)}
            )
        )  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def main() -> None:
    rules = load_rules()
    extra = [
        Rule("lag_rate", "topic_lag", condition="rate", op=">", value=60, window_s=300, agg="mean", severity="HIGH"),
        Rule("fresh_for", "data_freshness", op=">", value=90, for_s=60, severity="MEDIUM"),
        Rule("err_change", "api_error_rate", condition="rate_of_change", value=0.5, window_s=60, severity="LOW"),
        Rule("price_low", "price", op="<", value=30000, labels={"coin": "bitcoin"}, severity="HIGH"),
        Rule("quality_mean", "data_completeness", condition="rate", op="<", value=40, window_s=600, severity="HIGH"),
    ]
    rules = (rules + extra)[:10]
    history = synthetic_history()
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        evaluate(rules, history)
        best = min(best, time.perf_counter() - t0)
    print(f"alert_eval_points={len(history)}")
    print(f"alert_eval_rules={len(rules)}")
    print(f"alert_eval_s={best:.2f}")

    course_rules = load_rules()
    for name in scenarios()["name"]:
        history, incidents = render_history(load_scenario(name), seed=0)
        wanted = set(incidents["rule"])
        report = backtest([r for r in course_rules if r.name in wanted], history, incidents)
        delays = report["mean_delay_s"].dropna() if len(report) else pd.Series(dtype=float)
        print(f"detect_s_{name}={delays.min():.0f}" if len(delays) else f"detect_s_{name}=nan")


if __name__ == "__main__":
    main()
