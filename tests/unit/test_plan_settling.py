"""The plan waits out the states a connector or a job passes through by itself (a rebalance, a
healer's restart) before calling them drift; a lasting one is still drift."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from dataops.automation import resources as res

pytestmark = pytest.mark.unit


def _layers(states: list[list[str]], jobs: list[str]) -> SimpleNamespace:
    """Layers whose connector ``c`` goes through ``states`` and job ``j`` through ``jobs``, one per read (the last stays)."""
    seen = {"states": 0, "jobs": 0}

    def next_of(key: str, values: list) -> object:
        seen[key] += 1
        return values[min(seen[key], len(values)) - 1]

    connect = SimpleNamespace(config=lambda name: {"name": name, "a": "1"}, states=lambda: {"c": next_of("states", states)},
                              status=lambda name: {"tasks": [{"state": "FAILED", "trace": "boom\n at x"}]})  # fmt: skip
    flink = SimpleNamespace(live_job=lambda name: {"jid": "1", "state": next_of("jobs", jobs)})
    return SimpleNamespace(connect=connect, flink=flink, settings=SimpleNamespace(paths=SimpleNamespace(applied=None)), seen=seen)


def test_a_rebalance_or_a_restart_is_waited_out_not_drift(monkeypatch) -> None:
    monkeypatch.setattr(res.time, "sleep", lambda s: None)
    p = _layers([["RUNNING", "UNASSIGNED"], ["RUNNING", "RESTARTING"], ["RUNNING", "RUNNING"]], ["RESTARTING", "INITIALIZING", "RUNNING"])
    assert res.actual(p, res.Resource("connector", "c", "conector", None, {"a": "1"})) == ({"a": "1"}, "")
    monkeypatch.setattr(res, "applied", lambda settings: {})
    assert res.actual(p, res.Resource("job", "j", "job", None, {"x": "1"})) == ({"x": "1"}, "")
    assert p.seen == {"states": 3, "jobs": 3}


def test_a_lasting_state_is_drift_and_a_failure_is_not_waited_for(monkeypatch) -> None:
    monkeypatch.setattr(res, "SETTLE_S", 0.1)
    stuck = _layers([["RUNNING", "UNASSIGNED"]], ["RESTARTING"])
    assert res.actual(stuck, res.Resource("sink", "c", "sink", None, {"a": "1"}))[1] == "state RUNNING/UNASSIGNED"
    monkeypatch.setattr(res, "applied", lambda settings: {})
    assert res.actual(stuck, res.Resource("job", "j", "job", None, {"x": "1"}))[1] == "state RESTARTING"
    assert stuck.seen["states"] > 1 and stuck.seen["jobs"] > 1
    failed = _layers([["RUNNING", "FAILED"], ["RUNNING", "RUNNING"]], ["RUNNING"])
    assert res.actual(failed, res.Resource("connector", "c", "conector", None, {"a": "1"}))[1] == "FAILED: boom"
    assert failed.seen["states"] == 1  # a person's to read (or apply's to restart): no wait
