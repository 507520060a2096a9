"""Several learners' simulators in one process (a class server's, :mod:`dataops.simulator.many`): each
with its own port, token and faults; at SIGHUP the spec is read again and only what changed moves."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from pydantic import SecretStr

from dataops.errors import DataOpsError
from dataops.source.layer import SimulatorLayer

pytestmark = pytest.mark.unit
LIB = Path(__file__).resolve().parents[2] / "lib"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _entry(folder: Path, name: str, port: int, coins: str = "bitcoin,ethereum") -> list[str]:
    token = folder / f"{name}.token"
    token.write_text(f"token-of-{name}")
    return ["--port", str(port), "--coins", coins, "--log", str(folder / f"{name}.jsonl"), "--control-token-file", str(token)]


def _answers(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/_sim/health", timeout=1).ok
    except requests.RequestException:
        return False


def _until(check, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _layer(name: str, port: int) -> SimulatorLayer:
    return SimulatorLayer(f"http://127.0.0.1:{port}", control_token=SecretStr(f"token-of-{name}"))


def test_one_process_serves_each_learner_apart_and_a_hangup_moves_only_what_changed(tmp_path: Path) -> None:
    ana, bruno, carla, bad = (_free_port() for _ in range(4))
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"ana": _entry(tmp_path, "ana", ana), "bruno": _entry(tmp_path, "bruno", bruno),
                                "dani": _entry(tmp_path, "dani", bad, coins="no-such-coin")}))  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-m", "dataops.simulator.many", "--spec", str(spec)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONPATH": str(LIB)})  # fmt: skip
    try:
        assert _until(lambda: _answers(ana) and _answers(bruno)), "the two learners' simulators never answered"
        assert not _answers(bad)  # a wrong entry is logged and left out; the others run
        fault = _layer("ana", ana).inject_fault("freeze", duration_s=300)
        assert _layer("bruno", bruno).faults().empty  # ana's fault hits ana only
        with pytest.raises(DataOpsError, match="no acepta tu token de control"):
            SimulatorLayer(f"http://127.0.0.1:{bruno}", control_token=SecretStr("token-of-ana")).inject_fault("outage", duration_s=5)
        requests.get(f"http://127.0.0.1:{bruno}/api/v3/simple/price?ids=bitcoin&vs_currencies=usd", timeout=2).raise_for_status()
        assert (tmp_path / "bruno.jsonl").read_text().strip() and not (tmp_path / "ana.jsonl").read_text().strip()

        entries = json.loads(spec.read_text())
        del entries["bruno"], entries["dani"]
        entries["carla"] = _entry(tmp_path, "carla", carla)
        spec.write_text(json.dumps(entries))
        proc.send_signal(signal.SIGHUP)
        assert _until(lambda: _answers(carla) and not _answers(bruno)), "bruno not stopped or carla not started at the hang-up"
        assert list(_layer("ana", ana).faults()["id"]) == [fault["id"]]  # ana untouched: her fault still there
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0, out
    assert "dani: simulator not started" in out and "no-such-coin" in out
    assert "bruno: simulator stopped" in out and "ana: simulator stopped" in out
