"""Unit tests of dataops.scenarios: loading, offline rendering, replay with a fake client."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dataops.errors import ConfigError
from dataops.scenarios import Scenario, ScenarioError, load_scenario, render_history, replay, scenarios
from dataops.simulator import DEFAULT_COINS

NAMES = ["api_outage", "eth_flash_crash", "frozen_prices", "processing_lag", "rate_limiting", "schema_drift"]


@pytest.fixture(scope="module")
def rendered() -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    return {name: render_history(name, seed=7) for name in NAMES}


def metric(history: pd.DataFrame, name: str, **labels: str) -> pd.Series:
    part = history[history["metric"] == name]
    for key, value in labels.items():
        part = part[part[key] == value]
    return part.set_index("ts")["value"]


def inside(series: pd.Series, incidents: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    start, end = incidents["start"].iloc[0], incidents["end"].iloc[0]
    mask = (series.index >= start) & (series.index < end)
    return series[mask], series[~mask]


def test_every_scenario_loads() -> None:
    table = scenarios()
    assert sorted(table["name"]) == NAMES
    assert list(table.columns[:3]) == ["name", "description", "incidents"]
    assert (table["incidents"] >= 1).all()
    for name in NAMES:
        sc = load_scenario(name)
        assert isinstance(sc, Scenario) and sc.description and sc.incidents
        assert all(i.expected_rules and i.label for i in sc.incidents)


def test_bad_scenarios_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="escenario desconocido 'nope'"):
        load_scenario("nope")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nduration_s: 100\nincidents:\n  - {start_s: 0, end_s: 10, fault: boom, expected_rules: [x]}\n")
    with pytest.raises(ConfigError) as err:
        load_scenario(bad)
    assert "fallo desconocido 'boom'" in str(err.value) and "\n" not in str(err.value)
    bad.write_text("name: bad\nduration_s: 100\nincidents:\n  - {start_s: 50, end_s: 500, fault: outage, expected_rules: [x]}\n")
    with pytest.raises(ScenarioError, match="fuera de"):
        load_scenario(bad)


def test_render_is_deterministic_and_long_format(rendered) -> None:
    history, incidents = rendered["api_outage"]
    again, again_inc = render_history("api_outage", seed=7)
    pd.testing.assert_frame_equal(history, again)
    pd.testing.assert_frame_equal(incidents, again_inc)
    other, _ = render_history("api_outage", seed=8)
    assert not history["value"].equals(other["value"])
    assert list(history.columns) == ["ts", "metric", "coin", "connector", "group", "state", "topic", "value"]
    assert str(history["ts"].dt.tz) == "UTC"
    expected = {"price", "api_error_rate", "api_response_time", "data_freshness", "data_completeness",
                "data_accuracy", "topic_lag", "connector_status", "pipeline_availability"}  # fmt: skip
    assert expected <= set(history["metric"])
    assert set(history.loc[history["metric"] == "price", "coin"]) == set(DEFAULT_COINS)
    lag = history[history["metric"] == "topic_lag"]
    assert set(lag["group"]) == {"crypto-explode"} and set(lag["topic"]) == {"crypto-prices"}
    assert (history.loc[history["metric"] == "api_error_rate", "coin"] == "").all()
    btc = metric(history, "price", coin="bitcoin")
    assert btc.between(90_000, 100_000).all() and btc.std() > 0
    assert list(incidents.columns[:4]) == ["name", "rule", "start", "end"]
    assert sorted(incidents["rule"]) == ["api_failure", "stale_data"]


def test_outage_effect_only_in_window(rendered) -> None:
    history, incidents = rendered["api_outage"]
    during, outside = inside(metric(history, "api_error_rate"), incidents)
    assert (during == 100).all() and (outside < 5).all()
    fresh_in, fresh_out = inside(metric(history, "data_freshness"), incidents)
    assert fresh_in.is_monotonic_increasing and fresh_in.max() > 600 and fresh_out.max() < 60


def test_rate_limit_effect_only_in_window(rendered) -> None:
    history, incidents = rendered["rate_limiting"]
    during, outside = inside(metric(history, "api_error_rate"), incidents)
    assert during.between(30, 99).all() and (outside < 5).all()


def test_freeze_effect_only_in_window(rendered) -> None:
    history, incidents = rendered["frozen_prices"]
    for coin in DEFAULT_COINS:
        during, outside = inside(metric(history, "price", coin=coin), incidents)
        assert during.nunique() == 1 and outside.diff().abs().sum() > 0
    fresh_in, fresh_out = inside(metric(history, "data_freshness"), incidents)
    assert fresh_in.max() > 600 and fresh_out.max() < 60
    # The monitor's view: every coin frozen once the market stood still 90 s (5 polls of 30 s
    # here); the quality score below the HIGH level's 80 % while the run is in the 5-min window.
    frozen_in, frozen_out = inside(metric(history, "frozen_coins"), incidents)
    start = incidents["start"].iloc[0]
    assert frozen_in[frozen_in > 0].index.min() == start + pd.Timedelta(seconds=150)
    assert frozen_in.max() == len(DEFAULT_COINS) and (frozen_out == 0).all()
    score = metric(history, "quality_score")
    assert (score[score.index < start] == 100).all() and score.min() < 80
    end = incidents["end"].iloc[0]
    assert (score[score.index >= end + pd.Timedelta(minutes=5)] == 100).all()


def test_flash_crash_effect_only_in_window(rendered) -> None:
    history, incidents = rendered["eth_flash_crash"]
    eth = metric(history, "price", coin="ethereum")
    during, outside = inside(eth, incidents)
    low = during.idxmin()
    assert during.min() < 0.65 * 3500 and low - incidents["start"].iloc[0] <= pd.Timedelta(minutes=1)
    assert during.iloc[-1] > during.min() * 1.1  # partial recovery
    assert outside.between(3400, 3600).all()
    btc_in, _ = inside(metric(history, "price", coin="bitcoin"), incidents)
    assert btc_in.between(90_000, 100_000).all()


def test_schema_drift_effect_only_in_window(rendered) -> None:
    history, incidents = rendered["schema_drift"]
    for name in ("data_completeness", "data_accuracy"):
        during, outside = inside(metric(history, name), incidents)
        assert (during < 80).all() and (outside == 100).all()


def test_processing_lag_effect_only_in_window(rendered) -> None:
    history, incidents = rendered["processing_lag"]
    during, outside = inside(metric(history, "topic_lag", group="crypto-explode"), incidents)
    assert during.is_monotonic_increasing and during.max() > 1000 and outside.max() < 5
    avail_in, avail_out = inside(metric(history, "pipeline_availability"), incidents)
    assert (avail_in < 100).all() and (avail_out == 100).all()
    status = history[history["metric"] == "connector_status"]
    assert set(status["connector"]) == {"crypto-prices-source"} and (status["value"] == 1).all()


def test_render_start_and_step() -> None:
    history, incidents = render_history("rate_limiting", step_s=60, start="2025-06-01T12:00:00")
    ts = history["ts"].drop_duplicates()
    assert ts.iloc[0] == pd.Timestamp("2025-06-01T12:00:00Z") and (ts.diff().dropna() == pd.Timedelta(minutes=1)).all()
    assert incidents["start"].iloc[0] == pd.Timestamp("2025-06-01T12:04:00Z")


class FakeClient:
    def __init__(self, clock: list[float]) -> None:
        self.clock = clock
        self.calls: list[tuple[float, str, dict]] = []

    def inject_fault(self, name: str, duration_s: float = 30, **params) -> dict:
        self.calls.append((self.clock[0], name, {"duration_s": duration_s, **params}))
        return {"id": str(len(self.calls)), "name": name}


def fake_sleep(clock: list[float]):
    def sleep(seconds: float) -> None:
        assert seconds > 0
        clock[0] += seconds

    return sleep


@pytest.mark.parametrize(
    ("name", "fault", "params"),
    [
        ("eth_flash_crash", "spike", {"coin": "ethereum", "factor": 0.6}),
        ("api_outage", "outage", {"status": 503}),
        ("rate_limiting", "rate_limit", {"retry_after_s": 60}),
        ("frozen_prices", "freeze", {"keep_timestamps": False}),
        ("schema_drift", "schema_drift", {"mode": "rename"}),
    ],
)
def test_replay_injects_faults_at_offsets(name: str, fault: str, params: dict) -> None:
    clock = [0.0]
    client = FakeClient(clock)
    done = replay(name, client, speed=10.0, sleep=fake_sleep(clock))
    inc = load_scenario(name).incidents[0]
    assert client.calls == [(inc.start_s / 10, fault, {"duration_s": (inc.end_s - inc.start_s) / 10, **params})]
    assert done["kind"].tolist() == [fault] and done["result"].iloc[0]["name"] == fault


def test_replay_delegates_pause_consumer() -> None:
    clock = [0.0]
    client = FakeClient(clock)
    paused: list[tuple[float, float]] = []
    replay("processing_lag", client, pause_consumer=lambda d: paused.append((clock[0], d)), sleep=fake_sleep(clock))
    assert client.calls == [] and paused == [(300.0, 720.0)]
    with pytest.raises(ScenarioError, match="necesita pause_consumer"):
        replay("processing_lag", client, sleep=fake_sleep(clock))
