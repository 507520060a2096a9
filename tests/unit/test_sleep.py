"""A laptop put to sleep: how `up` tells it from the monitor's samples, and the one line it prints."""

from __future__ import annotations

import json
import os
import time

import pandas as pd
import psutil
import pytest

from dataops import load_settings
from dataops.automation import repaired
from dataops.metrics import Sample
from dataops.pipeline import Pipeline
from dataops.stack.sleep import sleep_line

pytestmark = pytest.mark.unit


@pytest.fixture()
def pipeline(tmp_path):
    return Pipeline(load_settings(env_file=tmp_path / "none.env", state_dir=tmp_path / "state"))


def _monitor_running_since(p: Pipeline, started_at: float) -> None:
    """This test's own process stands in for the monitor (a live pid with its real start time)."""
    p.settings.paths.make()
    me = psutil.Process(os.getpid())
    rec = {"pid": me.pid, "create_time": me.create_time(), "started_at": started_at}
    p.settings.paths.pid_file("monitor").write_text(json.dumps(rec))


def _rounds(p: Pipeline, stamps) -> None:
    p.monitor.store.write(Sample("pipeline_availability", 100.0, {}, ts) for ts in stamps)


def test_a_hole_in_the_samples_of_a_monitor_that_kept_running_is_a_sleep(pipeline):
    now = time.time()
    _monitor_running_since(pipeline, now - 1000)
    before = [now - 900 + 5 * i for i in range(20)]  # every 5 s until now - 805
    after = [now - 400 + 5 * i for i in range(20)]  # asleep from now - 805 to now - 400
    _rounds(pipeline, before + after)
    assert pipeline.last_sleep() == pytest.approx((now - 805, now - 400))


def test_no_sleep_without_a_hole_or_before_the_monitor_started_or_already_told(pipeline):
    now = time.time()
    _rounds(pipeline, [now - 900 + 5 * i for i in range(20)] + [now - 400 + 5 * i for i in range(20)])
    assert pipeline.last_sleep() is None  # no monitor running: nothing to tell it by
    _monitor_running_since(pipeline, now - 600)  # started after the hole began: it was down, not asleep
    assert pipeline.last_sleep() is None
    _monitor_running_since(pipeline, now - 1000)
    assert pipeline.last_sleep() is not None
    pipeline.settings.paths.last_up.write_text(json.dumps({"seconds": 30, "started": 0, "at": now - 300}))
    assert pipeline.last_sleep() is None  # an `up` after the wake-up already said so
    _rounds(pipeline, [now - 260])  # 45 s after the last round: a slow round, no sleep
    assert pipeline.last_sleep() is None


def _steps(*rows):
    return pd.DataFrame(rows, columns=["step", "action"])


def test_the_sleep_line_says_how_long_and_what_up_repaired_in_spanish():
    start = time.mktime((2026, 3, 2, 10, 58, 0, 0, 0, -1))
    healed = _steps(("topic crypto-prices", "exists"), ("connector crypto-prices-source", "unchanged"),
                    ("job crypto-explode", "running (RUNNING)"))  # fmt: skip
    line = sleep_line((start, start + 330), healed)
    assert line == "  ✔ El equipo estuvo en suspensión 6 min (10:58–11:03) y el pipeline se recuperó solo"
    fixed = _steps(("topic crypto-prices", "exists"), ("sink crypto-prices-iceberg", "unchanged, reiniciado (estaba FAILED)"))
    line = sleep_line((start, start + 65), fixed)
    assert line.startswith("  ↻ El equipo estuvo en suspensión 65 s (10:58–10:59); `up` ha arreglado")
    assert line.endswith("sink crypto-prices-iceberg (unchanged, reiniciado (estaba FAILED))") and "\n" not in line


@pytest.mark.parametrize(("action", "did"), [
    ("exists", False), ("unchanged", False), ("running (RESTARTING)", False), ("created", True),
    ("unchanged, reiniciado (estaba FAILED)", True), ("unchanged, reanudado (estaba en pausa)", True),
    ("resumed from chk-12", True), ("updated partitions 1 → 3", True),
])  # fmt: skip
def test_repaired_tells_a_no_op_from_a_fix(action, did):
    assert repaired(action) is did
