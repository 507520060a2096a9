"""`dataops scenario NAME --replay`, the real command against the running simulator and connector."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from tests.integration.helpers import connector_polls, wait_for

pytestmark = pytest.mark.integration


def replay(name: str, speed: float, watch=None) -> tuple[subprocess.CompletedProcess, list]:
    """Run the command; ``watch()`` is sampled every half second while it runs."""
    cmd = [sys.executable, "-m", "dataops.cli", "scenario", name, "--replay", "--speed", f"{speed:g}"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if watch is not None:
            seen.append(watch())
        time.sleep(0.5)
    out, err = proc.communicate(timeout=max(deadline - time.monotonic(), 1))
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err), seen


def _eth_usd(body: str) -> float:
    return float(json.loads(body)["ethereum"]["usd"])


def test_a_replayed_flash_crash_reaches_the_simulator_and_the_served_prices(pipeline):
    p = pipeline
    seq0 = p.source.last_seq()
    # eth_flash_crash: a spike of ethereum x0.6 from 300 s to 480 s; at 20x, from 15 s for 9 s
    done, _ = replay("eth_flash_crash", 20)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Replaying eth_flash_crash at 20x (45 s)…"
    assert len(lines) == 3 and lines[2].split()[:3] == ["15.0", "spike", "9.0"], done.stdout
    assert "'id': 'spike-" in lines[2] and "'coin': 'ethereum', 'factor': 0.6" in lines[2]  # the simulator's answer
    active = p.source.faults()  # the command returns once it has injected the last incident
    assert list(active["name"]) == ["spike"] and active["params"].iloc[0] == {"coin": "ethereum", "factor": 0.6}

    def spiked():
        polls = connector_polls(p, seq0).query("status == 200").reset_index(drop=True)
        hit = polls.index[polls["faults"].map(lambda f: "spike" in f)]
        return polls.loc[hit[0] - 1: hit[0]] if len(hit) and hit[0] > 0 else None

    before, during = wait_for(spiked, 30, "a poll served during the spike")["body"]
    assert _eth_usd(during) / _eth_usd(before) == pytest.approx(0.6, rel=0.05)
    wait_for(lambda: p.source.faults().empty, 30, "the spike to end by itself")


def test_a_replayed_stopped_consumer_pauses_the_sink_and_resumes_it_before_returning(pipeline):
    p = pipeline
    name = p.settings.iceberg_connector_name
    # processing_lag: the consumer stopped from 300 s to 1020 s; at 100x, from 3 s for 7.2 s
    done, seen = replay("processing_lag", 100, watch=lambda: p.connect.states().get(name, []))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Replaying processing_lag at 100x (15 s)…" and len(lines) == 3, done.stdout
    assert lines[2].split()[:4] == ["3.0", "pause_consumer", "7.2", "{}"] and lines[2].endswith(f"{name} paused for 7.2 s")
    assert any("PAUSED" in states for states in seen), seen
    assert "PAUSED" not in p.connect.states().get(name, []), "the sink was left paused"


def test_a_sink_the_replay_could_not_resume_is_one_line_and_a_failing_exit_not_a_silent_pause(pipeline):
    """Connect dies during the scenario's pause: the command cannot resume the sink when the pause
    ends. It must say so (the sink stays paused where Connect keeps its state) and fail; `up` fixes it."""
    p = pipeline
    name = p.settings.iceberg_connector_name
    killed = []

    def kill_connect_once_paused():
        states = p.connect.states().get(name, []) if not killed else []
        if "PAUSED" in states:
            killed.append(p.stack.stop("connect", signal.SIGKILL))
        return states

    try:
        done, _ = replay("processing_lag", 60, watch=kill_connect_once_paused)  # paused from 5 s for 12 s
        assert killed == [True]
        assert done.returncode != 0 and done.stderr.count("\n") == 1, done.stderr
        assert done.stderr.startswith(f"error: no se pudo reanudar el conector {name} al acabar la pausa del escenario ("), done.stderr
        assert "`dataops up`" in done.stderr
    finally:
        p.up(progress=False, ready_timeout_s=None)  # Connect back, the sink resumed (a pause by hand is drift)
    assert p.connect.states().get(name) and "PAUSED" not in p.connect.states()[name]
