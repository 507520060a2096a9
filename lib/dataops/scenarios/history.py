"""Offline history: a scenario rendered, deterministically from a seed, as a metric history
in the long format of ``MetricsStore.query()`` plus the labelled incidents a backtest
compares alerts against."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dataops.config import Settings
from dataops.monitor import QUALITY_WINDOW_S
from dataops.scenarios.loading import Incident, Scenario, resolve
from dataops.simulator import CATALOG

__all__ = ["CONNECTOR", "DEFAULT_START", "GROUP", "HISTORY_COLUMNS", "INCIDENT_COLUMNS", "LABELS", "TOPIC", "render_history"]

DEFAULT_START = pd.Timestamp("2025-01-01T00:00:00Z")
LABELS: tuple[str, ...] = ("coin", "connector", "group", "state", "topic")
HISTORY_COLUMNS: list[str] = ["ts", "metric", *LABELS, "value"]
INCIDENT_COLUMNS: list[str] = ["name", "rule", "start", "end", "fault", "label"]
# The rendered series carry the pipeline's default names (one place: the settings).
GROUP, TOPIC, CONNECTOR = (Settings.model_fields[f].default for f in ("flink_job_name", "topic_raw", "connector_name"))


def render_history(
    scenario: Scenario | str,
    seed: int = 0,
    step_s: float = 5,
    start: pd.Timestamp | str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Synthetic metric history of a scenario, deterministic from ``seed``.

    Args:
        scenario: A :class:`Scenario` or a scenario name.
        seed: Seed of the noise.
        step_s: Seconds between samples.
        start: Timestamp of offset 0 (default 2025-01-01 00:00 UTC, so the output is reproducible).

    Returns:
        ``(history, incidents)``: history in the long format of ``MetricsStore.query()``
        (``ts, metric, coin, connector, group, state, topic, value``; "" for absent labels),
        and the labelled incidents (``name, rule, start, end, fault, label``), one row per expected rule.
    """
    sc = resolve(scenario)
    origin = DEFAULT_START if start is None else pd.Timestamp(start)
    origin = origin.tz_localize("UTC") if origin.tzinfo is None else origin.tz_convert("UTC")
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, sc.duration_s + 1e-9, float(step_s))
    n = len(t)
    base = sc.baseline
    poll_s = float(base.get("poll_interval_s", 30))
    series: list[tuple[str, dict[str, str], np.ndarray]] = []

    def window(inc: Incident) -> np.ndarray:
        return (t >= inc.start_s) & (t < inc.end_s)

    # Prices: a small mean-reverting noise around the catalogue level.
    prices: dict[str, np.ndarray] = {}
    for coin in sc.coins:
        noise = np.zeros(n)
        shocks = rng.normal(0.0, 0.0004, n)
        for i in range(1, n):
            noise[i] = 0.98 * noise[i - 1] + shocks[i]
        prices[coin] = CATALOG[coin].price_usd * np.exp(noise)
    level = np.random.default_rng(seed + 1).normal(0.0, 2.0, len(sc.coins))  # own draws: the other series stay as they were
    change = {coin: level[i] + 100.0 * (prices[coin] / prices[coin][0] - 1.0) for i, coin in enumerate(sc.coins)}  # 24h change, %

    error = np.abs(rng.normal(0.0, 0.3, n)).clip(0, 2)
    response = float(base.get("response_time_ms", 120)) + rng.normal(0.0, 10.0, n)
    freshness = (t % poll_s) + 2.0 + np.abs(rng.normal(0.0, 1.0, n))
    completeness = np.full(n, 100.0)
    accuracy = np.full(n, 100.0)
    lag = rng.integers(0, 3, n).astype(float)
    availability = np.full(n, 100.0)
    connector_state = np.array(["RUNNING"] * n, dtype=object)
    # The monitor's quality metrics: checks of data/quality/suite.yaml failing, judged on 5-min windows.
    suite_checks, min_polls, max_static_s, max_age_s = _suite_shape()
    failed_checks = np.zeros(n)
    frozen = np.zeros(n)

    def fail_checks(inc: Incident, count: int, after_s: float = 0.0, tail: bool = True) -> None:
        """``count`` suite checks fail from ``after_s`` into the incident until its rows leave
        the window (``tail``) or until the incident ends."""
        span = (t >= inc.start_s + after_s) & (t < inc.end_s + (QUALITY_WINDOW_S if tail else 0.0))
        failed_checks[span] = np.maximum(failed_checks[span], count)

    for inc in sorted(sc.incidents, key=lambda i: i.start_s):
        w, eff, since = window(inc), inc.effect, t - inc.start_s
        kind = inc.kind
        if kind == "outage":
            error[w] = 100.0
            response[w] = float(eff.get("response_time_ms", 15))
            freshness[w] = freshness[np.argmax(w)] + since[w]
        elif kind == "rate_limit":
            error[w] = float(eff.get("error_rate", 60)) + rng.normal(0.0, 3.0, int(w.sum()))
        elif kind == "latency":
            response[w] = 1000.0 * float(inc.params.get("delay_s", 3.0)) + rng.normal(0.0, 20.0, int(w.sum()))
        elif kind == "freeze":
            first = int(np.argmax(w))
            held = [inc.params["coin"]] if "coin" in inc.params else list(sc.coins)
            for coin in held:
                if coin in prices:
                    prices[coin][w] = prices[coin][first]
            # Re-served timestamps duplicate keys from the next poll (row_duplicates); the frozen
            # run is caught by raw and row frozen_prices after min_polls polls when the other coins
            # move, after max_static_s when the whole market stands still; then the freshness checks.
            dup = 0 if inc.params.get("keep_timestamps") else 1
            after = min_polls * poll_s if "coin" in inc.params else max(max_static_s, min_polls * poll_s)
            fail_checks(inc, dup, poll_s)
            fail_checks(inc, dup + 2, after)
            if "coin" not in inc.params:
                freshness[w] = freshness[first] + since[w]
                if dup:
                    fail_checks(inc, dup + 4, max_age_s, tail=False)  # fresh rows end it at once
            frozen[w & (since >= after)] = len(held)
        elif kind == "spike":
            coin = str(inc.params.get("coin", "bitcoin"))
            factor = float(inc.params.get("factor", 1.5))
            ramp = float(eff.get("ramp_s", 30))
            recovery = float(eff.get("recovery", 0.0))
            length = inc.end_s - inc.start_s
            depth = np.where(since < ramp, since / ramp, 1.0 - recovery * (since - ramp) / max(length - ramp, 1e-9))
            if coin in prices:
                prices[coin][w] *= 1.0 + (factor - 1.0) * depth[w]
                told = inc.params.get("change_24h")  # what the API reports, else the move itself
                change[coin][w] = float(told) if told is not None else change[coin][w] + 100.0 * (factor - 1.0) * depth[w]
        elif kind in ("schema_drift", "malformed"):
            completeness[w] = float(eff.get("completeness", 0))
            accuracy[w] = float(eff.get("accuracy", 0))
            fail_checks(inc, 2 if kind == "schema_drift" else 1)  # raw schema (+ raw completeness)
        elif kind == "missing_coin":
            completeness[w] = 100.0 * (len(sc.coins) - 1) / len(sc.coins)
            fail_checks(inc, 2)  # raw and row completeness
        elif kind == "pause_consumer":
            lag[w] = lag[np.argmax(w)] + float(eff.get("lag_per_s", 2.0)) * since[w]
            freshness[w] = freshness[np.argmax(w)] + since[w]
            availability[w] = float(eff.get("availability", 80))
        if "connector_state" in eff:
            connector_state[w] = str(eff["connector_state"])

    for coin in sc.coins:
        series += [("price", {"coin": coin}, prices[coin]), ("price_change_24h", {"coin": coin}, change[coin])]
    series += [
        ("api_error_rate", {}, error.clip(0, 100)),
        ("api_response_time", {}, response.clip(1, None)),
        ("data_freshness", {}, freshness),
        ("data_completeness", {}, completeness),
        ("data_accuracy", {}, accuracy),
        ("quality_score", {}, 100.0 * (suite_checks - failed_checks) / suite_checks),
        ("frozen_coins", {}, frozen),
        ("topic_lag", {"group": GROUP, "topic": TOPIC}, np.round(lag)),
        ("pipeline_availability", {}, availability),
    ]
    ts = origin + pd.to_timedelta(t, unit="s")
    frames = [_long(ts, metric, labels, values) for metric, labels, values in series]
    status = pd.DataFrame({"ts": ts, "metric": "connector_status", "state": connector_state})
    status["value"] = (connector_state == "RUNNING").astype(float)
    status["connector"] = CONNECTOR
    frames.append(status)
    history = pd.concat(frames, ignore_index=True)
    for label in LABELS:
        history[label] = history[label].fillna("").astype(str) if label in history else ""
    history = history[HISTORY_COLUMNS].sort_values(["ts", "metric", *LABELS], kind="stable").reset_index(drop=True)
    return history, _incident_frame(sc, origin)


def _suite_shape() -> tuple[int, int, float, float]:
    """Of the default quality suite: its number of checks, frozen_prices ``min_polls`` and
    ``max_static_s``, and the freshness checks' ``max_age_s``."""
    from dataops.quality import load_suite

    suite = load_suite()
    frozen = next((c.params for c in suite.checks if c.type == "frozen_prices"), {})
    ages = [float(c.params["max_age_s"]) for c in suite.checks if c.type == "freshness" and "max_age_s" in c.params]
    return len(suite.checks), int(frozen.get("min_polls", 5)), float(frozen.get("max_static_s") or 90.0), min(ages, default=600.0)


def _long(ts: pd.DatetimeIndex, metric: str, labels: dict[str, str], values: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame({"ts": ts, "metric": metric, "value": np.asarray(values, dtype=float)})
    for key, value in labels.items():
        frame[key] = value
    return frame


def _incident_frame(sc: Scenario, origin: pd.Timestamp) -> pd.DataFrame:
    rows = [
        {
            "name": sc.name,
            "rule": rule,
            "start": origin + pd.Timedelta(seconds=inc.start_s),
            "end": origin + pd.Timedelta(seconds=inc.end_s),
            "fault": inc.kind,
            "label": inc.label,
        }
        for inc in sc.incidents
        for rule in inc.expected_rules
    ]
    return pd.DataFrame(rows, columns=INCIDENT_COLUMNS)
