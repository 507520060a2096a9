"""The real submitting child started ahead (pyflink's JVM, Flink's planner): warmed, then let go
without a word, it exits without submitting anything."""

from __future__ import annotations

import time

import pytest

from dataops.flink import job, prewarm

pytestmark = pytest.mark.integration


def test_the_real_child_warms_up_and_goes_away_untold_without_submitting(pipeline):
    p = pipeline
    before = set(p.flink.jobs()["jid"])
    cmd, env = job.submit_command(p.settings)
    t0 = time.monotonic()
    with prewarm.ahead("live-test", cmd, env) as child:
        while not child.ready():  # the JVM started, the planner warm: it waits to be told
            assert child.proc.poll() is None and time.monotonic() - t0 < 120, child.proc.returncode
            time.sleep(0.2)
        warm_s = time.monotonic() - t0
    assert child.proc.returncode == 0, child.proc.returncode  # untold: it went away by itself
    print(f"\nthe submitting child warmed up in {warm_s:.1f} s")
    assert set(p.flink.jobs()["jid"]) == before  # nothing submitted
