"""The monitor schedules one sampler per area the profile samples (no services: fake samplers)."""

from __future__ import annotations

import pytest

from dataops import profiles
from dataops.config import load_settings
from dataops.metrics import MetricsStore, Sample
from dataops.monitor import MetricsReader, Monitor
from dataops.monitor.scheduler import SAMPLERS
from dataops.sampling import Sampler

pytestmark = pytest.mark.unit


class Fake(Sampler):
    """Appends ``samples``; then raises ``error`` (if any) or answers ``healthy``."""

    def __init__(self, name: str, samples: list[Sample], healthy: bool = True, error: Exception | None = None,
                 availability: bool = True) -> None:  # fmt: skip
        self.name, self.counts_availability = name, availability  # type: ignore[misc]
        self.samples, self.healthy, self.error = samples, healthy, error
        self.resets = self.closes = 0

    def measure(self, now: float, elapsed: float | None, out: list[Sample]) -> bool:
        out.extend(self.samples)
        if self.error is not None:
            raise self.error
        return self.healthy

    def reset(self) -> None:
        self.resets += 1

    def close(self) -> None:
        self.closes += 1


def monitor(tmp_path, **overrides) -> Monitor:
    return Monitor(load_settings(state_dir=str(tmp_path / "state"), **overrides), store=MetricsStore(tmp_path / "m.db"))


def test_every_area_a_profile_may_sample_has_a_sampler():
    assert set(SAMPLERS) == set(profiles.SAMPLED)
    assert list(SAMPLERS).index("rows") < list(SAMPLERS).index("iceberg")  # the rows feed the table's freshness


def test_the_profile_lists_the_areas_sampled(tmp_path):
    assert list(monitor(tmp_path).samplers) == ["source", "connect", "kafka", "flink", "rows", "iceberg", "resources"]
    cloud = monitor(tmp_path, profile="confluent", kafka_bootstrap="broker:9092", kafka_api_key="k", kafka_api_secret="s")
    assert list(cloud.samplers) == ["kafka", "rows", "iceberg"]
    assert {s.name for s in cloud.samplers.values()} == set(cloud.samplers)


def test_a_layer_that_is_down_is_a_measurement_not_a_crash(tmp_path):
    m = monitor(tmp_path)
    now = 1_000.0
    fakes = [
        Fake("source", [Sample("http_status_codes", 8, {"code": "200"}, now), Sample("http_status_codes", 2, {"code": "429"}, now)]),
        Fake("connect", [Sample("connector_status", 0.0, {"connector": "c", "state": "PAUSED"}, now)], healthy=False),
        Fake("kafka", [Sample("messages_produced", 5, {"topic": "t"}, now)], error=RuntimeError("broker gone")),
        Fake("rows", [Sample("dlq_records", 1, {}, now)], availability=False),
        Fake("iceberg", []),
        Fake("resources", [], error=RuntimeError("no process"), availability=False),
    ]
    m.samplers = {f.name: f for f in fakes}
    out = {s.metric: s.value for s in m.sample(now)}
    assert out["messages_produced"] == 5  # measured before the failure: kept
    assert out["error_rate"] == pytest.approx(100.0 * (2 + 1) / 10)  # failed polls and dead letters per poll
    assert out["pipeline_availability"] == pytest.approx(100.0 * 2 / 4)  # source, iceberg up; connect, kafka down
    assert dict(m.errors) == {"kafka": 1, "resources": 1}
    assert (fakes[2].resets, fakes[0].resets) == (1, 0)
    assert set(m.store.latest()["metric"]) == set(out)
    m.stop()
    assert all(f.closes == 1 for f in fakes)


def test_no_error_rate_when_the_source_could_not_be_read(tmp_path):
    m = monitor(tmp_path)
    m.samplers = {"source": Fake("source", [Sample("http_status_codes", 3, {"code": "200"})], error=OSError("down"))}
    out = {s.metric: s.value for s in m.sample(1_000.0)}
    assert out == {"http_status_codes": 3, "pipeline_availability": 0.0}


def test_the_pipeline_reads_the_store_without_samplers(tmp_path):
    import dataops

    p = dataops.connect(state_dir=str(tmp_path / "state"))
    assert type(p.monitor) is MetricsReader and not hasattr(p.monitor, "samplers")
    p.monitor.store.write([Sample("pipeline_availability", 100.0)])
    assert list(p.metrics()["metric"]) == ["pipeline_availability"]
    assert list(p.monitor.latest()["metric"]) == ["pipeline_availability"]


def test_a_slow_layer_is_named_in_the_log(tmp_path, monkeypatch, caplog):
    from dataops.monitor import scheduler

    class Slow(Fake):
        def measure(self, now, elapsed, out):
            clock[0] += 30.0  # this layer took 30 s
            return super().measure(now, elapsed, out)

    clock = [0.0]
    monkeypatch.setattr(scheduler.time, "monotonic", lambda: clock[0])
    m = monitor(tmp_path)
    m.samplers = {"source": Fake("source", []), "iceberg": Slow("iceberg", [])}
    with caplog.at_level("WARNING", logger="dataops.monitor.scheduler"):
        m.sample(1_000.0)
    assert [r.getMessage() for r in caplog.records] == ["sampling iceberg took 30 s (ok)"]


def test_a_poll_every_two_minutes_still_reads_as_the_sources_latest(tmp_path):
    """The source is sampled only in rounds with a poll: with polls 2 min apart, its newest sample
    (90 s old) is still the latest; the monitor's own rounds older than two polls are not."""
    import time

    from dataops.monitor import health

    reader = MetricsReader(load_settings(state_dir=str(tmp_path / "state"), poll_interval_s=120), store=MetricsStore(tmp_path / "m.db"))
    now = time.time()
    reader.store.write([Sample("api_error_rate", 0.0, {}, now - 90), Sample("pipeline_availability", 100.0, {}, now - 300)])
    assert list(reader.latest()["metric"]) == ["api_error_rate"]
    table = health(reader.latest(), reader.settings, expected_since=now - 600, now=now).set_index("layer")
    assert table.loc["Fuente", "state"] == "green"
    short = MetricsReader(load_settings(state_dir=str(tmp_path / "state")), store=reader.store)  # polls every 5 s
    assert short.latest().empty
