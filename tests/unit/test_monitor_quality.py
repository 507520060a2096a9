"""The monitor's quality metrics (quality_score, frozen_coins) on a crafted row window (no services)."""

from __future__ import annotations

import json
import os
import shutil
import time

import pandas as pd
import pytest

from dataops.config import load_settings
from dataops.metrics import MetricsStore
from dataops.monitor import QUALITY_EVERY_S, QUALITY_MAX_ROWS, QUALITY_WINDOW_S, Monitor
from dataops.monitor.rows import RowsSampler
from dataops.quality import TimedPoll
from dataops.quality import suite as suite_module

BASE = {"bitcoin": 95_000.0, "ethereum": 3_500.0, "binancecoin": 650.0, "cardano": 0.75, "solana": 180.0}


def rows_at(t: float, i: int, frozen_from: int | None = None) -> list[dict]:
    """The exploded rows of poll ``i`` at unix time ``t``; from poll ``frozen_from`` on, the API re-serves
    the same snapshot (prices and timestamps), as the simulator's ``freeze`` does."""
    k = i if frozen_from is None else min(i, frozen_from)
    stamp = int(t - 5 * (i - k))
    iso = pd.Timestamp(stamp, unit="s", tz="UTC").isoformat()
    return [
        {"coin_id": coin, "usd": price * (1 + 0.001 * k), "usd_market_cap": price * 1e6, "usd_24h_vol": price * 1e4,
         "usd_24h_change": 1.0, "last_updated_at": stamp, "event_time": iso,
         "processed_at": pd.Timestamp(t + 1, unit="s", tz="UTC").isoformat()}
        for coin, price in BASE.items()
    ]  # fmt: skip


@pytest.fixture()
def monitor(tmp_path) -> RowsSampler:
    """The rows sampler of a monitor: it keeps the quality window and runs the suite."""
    sampler = Monitor(load_settings(state_dir=str(tmp_path / "state")), store=MetricsStore(tmp_path / "m.db")).samplers["rows"]
    assert isinstance(sampler, RowsSampler)
    return sampler


def feed(monitor: RowsSampler, now: float, polls: int, frozen_from: int | None = None) -> dict[str, float]:
    start = now - 5 * (polls - 1)
    for i in range(polls):
        rows = rows_at(start + 5 * i, i, frozen_from)
        body = {r["coin_id"]: {k: r[k] for k in ("usd", "usd_market_cap", "usd_24h_vol", "usd_24h_change", "last_updated_at")} for r in rows}
        monitor._raw_window.append((start + 5 * i, TimedPoll(json.dumps(body), int((start + 5 * i) * 1000))))
        for row in rows:
            monitor._window.append((start + 5 * i + 1, row))
    out: list = []
    monitor._quality(now + 1, out)
    return {s.metric: s.value for s in out}


def test_healthy_rows_score_100_and_nothing_frozen(monitor: RowsSampler) -> None:
    values = feed(monitor, time.time(), 40)
    assert values == {"quality_score": 100.0, "frozen_coins": 0.0}


def test_a_freeze_longer_than_max_static_s_freezes_every_coin_and_lowers_the_score(monitor: RowsSampler) -> None:
    values = feed(monitor, time.time(), 40, frozen_from=15)  # 25 polls (125 s) of the same snapshot
    assert values["frozen_coins"] == 5
    assert values["quality_score"] == pytest.approx(100 * 8 / 11)  # raw and row frozen_prices, row duplicates fail


def test_the_suite_runs_every_quality_every_s_on_the_last_window(monitor: RowsSampler) -> None:
    now = time.time()
    assert feed(monitor, now, 10)
    out: list = []
    monitor._quality(now + 2, out)
    assert out == []  # too soon
    monitor._window.appendleft((now - QUALITY_WINDOW_S - 10, rows_at(now - QUALITY_WINDOW_S - 10, 0)[0]))
    monitor._quality(now + 1 + QUALITY_EVERY_S, out)
    assert {s.metric for s in out} == {"quality_score", "frozen_coins"}
    assert all(ts >= now + 1 + QUALITY_EVERY_S - QUALITY_WINDOW_S for ts, _ in monitor._window)


def test_no_quality_score_before_the_window_holds_enough_polls(monitor: RowsSampler) -> None:
    """A fresh stack: 3 polls cannot show a 5-poll frozen run, so no score rather than a 100 % on nothing."""
    assert feed(monitor, time.time(), 3) == {}
    assert set(feed(monitor, time.time() + 60, 6)) == {"quality_score", "frozen_coins"}


def test_an_edited_suite_is_picked_up_without_restarting_the_monitor(monitor: RowsSampler, tmp_path, monkeypatch) -> None:
    """A learner's edit of suite.yaml (or reset restoring it) reaches the running monitor's next pass."""
    data = tmp_path / "data"
    for name in ("quality", "schemas"):
        shutil.copytree(suite_module.DATA_DIR / name, data / name)
    monkeypatch.setattr(suite_module, "DATA_DIR", data)
    monkeypatch.setattr(suite_module, "SUITE_PATH", data / "quality" / "suite.yaml")
    now = time.time()
    assert feed(monitor, now, 40, frozen_from=15)["quality_score"] < 100
    suite_yaml = data / "quality" / "suite.yaml"
    doc = suite_module.yaml.safe_load(suite_yaml.read_text())
    for dataset in ("raw_poll", "exploded_row"):  # the learner drops the frozen and duplicate checks
        doc[dataset] = [c for c in doc[dataset] if c["type"] not in ("frozen_prices", "duplicate")]
    suite_yaml.write_text(suite_module.yaml.safe_dump(doc))
    os.utime(suite_yaml, (now + 5, now + 5))
    out: list = []
    monitor._quality(now + 2 + QUALITY_EVERY_S, out)
    assert {s.metric: s.value for s in out}.get("quality_score") == 100.0


def test_a_flood_of_rows_is_judged_on_a_capped_window(monitor: RowsSampler) -> None:
    """A backfill lands days of rows within seconds: the pass judges the newest QUALITY_MAX_ROWS, so
    each sample's work stays bounded (issue: the monitor's cost must not grow with traffic)."""
    now = time.time()
    polls = QUALITY_MAX_ROWS // len(BASE) * 2  # twice the cap, all within the 5-minute window's Kafka time
    start = now - 1
    for i in range(polls):
        rows = rows_at(now - 5 * (polls - i), i)
        for row in rows:
            monitor._window.append((start, row))
    assert len(monitor._window) == QUALITY_MAX_ROWS
    newest = max(row["last_updated_at"] for _, row in monitor._window)
    assert newest == max(r["last_updated_at"] for r in rows_at(now - 5, polls - 1))  # the newest rows were kept
    out: list = []
    monitor._quality(now + 1, out)
    assert {s.metric for s in out} == {"quality_score", "frozen_coins"}
