"""The end-to-end validation's checks: kinds side by side, one kind in order, outcomes in declared order."""

from __future__ import annotations

import threading
import time

import pytest

from dataops.automation import checks
from dataops.automation.declaration import Check

pytestmark = pytest.mark.unit


def _recording(monkeypatch, seconds: float) -> list[tuple[str, float, float]]:
    """Every kind replaced by a wait of ``seconds`` that records (name, start, end)."""
    spans: list[tuple[str, float, float]] = []
    lock = threading.Lock()

    def slow(p, c: Check) -> checks.Outcome:
        start = time.monotonic()
        time.sleep(seconds)
        with lock:
            spans.append((c.name, start, time.monotonic()))
        return checks.Outcome(c.name, c.name != "bad", f"{c.kind} visto")

    monkeypatch.setattr(checks, "_CHECKS", {kind: slow for kind in checks._CHECKS})
    return spans


def test_checks_of_different_kinds_wait_side_by_side_and_keep_their_order(monkeypatch):
    spans = _recording(monkeypatch, 0.4)
    declared = [Check(name="fresh", kind="table_fresh", table="t"), Check(name="flowing", kind="topic_flowing", topic="x"),
                Check(name="bad", kind="topic_flowing", topic="y")]  # fmt: skip
    t0 = time.monotonic()
    outcomes = checks.run_checks(None, declared)
    took = time.monotonic() - t0
    assert [o.name for o in outcomes] == ["fresh", "flowing", "bad"]
    assert [o.ok for o in outcomes] == [True, True, False]
    assert 0.75 < took < 1.15, took  # two kinds at once: the topic's two checks in a row (0.8 s), not all three (1.2 s)
    by_name = {name: (start, end) for name, start, end in spans}
    assert by_name["bad"][0] >= by_name["flowing"][1]  # one kind: one after the other, in order
    assert by_name["fresh"][0] < by_name["flowing"][1]  # two kinds: at the same time


def test_an_error_in_a_check_is_raised_as_before(monkeypatch):
    def broken(p, c):
        raise RuntimeError("boom")

    monkeypatch.setattr(checks, "_CHECKS", {**checks._CHECKS, "tcp": broken})
    declared = [Check(name="a", kind="tcp", host="127.0.0.1", port=1), Check(name="b", kind="http", url="http://127.0.0.1:1/")]
    with pytest.raises(RuntimeError, match="boom"):
        checks.run_checks(None, declared)
