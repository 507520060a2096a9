"""Every learner's monitor in one process (a class server's, :mod:`dataops.monitor.many`): each logged
in with their own settings file, writing in their own folder, on their own port; at SIGHUP the spec is
read again and only what changed moves. A learner reads their store, which they cannot write, and
their own metrics go to a store of theirs (:class:`dataops.metrics.MetricsStore`'s overlay)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from dataops.metrics import MetricsStore, Sample
from tests.ports import free_port

pytestmark = pytest.mark.unit
LIB = Path(__file__).resolve().parents[2] / "lib"


def _answers(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/metrics", timeout=1).ok
    except requests.RequestException:
        return False


def _until(check, within: float = 40.0) -> bool:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def _learner(tmp_path: Path, name: str, port: int) -> dict[str, str]:
    """A learner's settings file (the local profile, every engine on a port nothing listens on) and folder."""
    dead = free_port(9)
    keys = ("SIMULATOR", "KAFKA", "KAFKA_CONTROLLER", "CONNECT", "FLINK", "FLINK_RPC", "FLINK_BLOB", "FLINK_TASKMANAGER", "SCHEMA_REGISTRY")
    lines = [f"DATAOPS_{key}_PORT={dead + i}" for i, key in enumerate(keys)]
    settings = tmp_path / f"{name}.env"
    settings.write_text("\n".join(["DATAOPS_PROFILE=local", f"DATAOPS_MONITOR_PORT={port}", f"DATAOPS_STATE_DIR={tmp_path / 'home' / name}", *lines]) + "\n")
    return {"settings": str(settings), "folder": str(tmp_path / "monitors" / name)}


def test_one_process_monitors_each_learner_apart_and_a_hangup_moves_only_what_changed(tmp_path: Path) -> None:
    ana, bruno, moved, decoy = (free_port() for _ in range(4))
    spec = tmp_path / "monitors.json"
    entries = {"ana": _learner(tmp_path, "ana", ana), "bruno": _learner(tmp_path, "bruno", bruno)}
    spec.write_text(json.dumps(entries))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATAOPS_")}
    # The server's settings are the process's environment (its stack passes them): none may reach a learner's
    # (a job or topic name there would win over their namespace's); here, a host their /metrics would bind.
    env.update(PYTHONPATH=str(LIB), DATAOPS_MONITOR_PORT=str(decoy), DATAOPS_HOST="127.0.0.2", DATAOPS_ENV_FILE="/nonexistent.env")
    proc = subprocess.Popen([sys.executable, "-m", "dataops.monitor.many", "--spec", str(spec), "--interval", "1"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert _until(lambda: _answers(ana) and _answers(bruno)), "each learner's /metrics on their own port"
        assert not _answers(decoy)
        stores = {name: Path(entry["folder"]) / "metrics.db" for name, entry in entries.items()}
        assert _until(lambda: all(p.is_file() and len(MetricsStore(p).query("pipeline_availability")) for p in stores.values()))
        assert not (tmp_path / "home").exists(), "nothing written in a learner's own folder"
        bruno_samples = len(MetricsStore(stores["bruno"]).query())

        entries.pop("bruno")
        entries["ana"] = _learner(tmp_path, "ana", moved)  # their settings file changed (a reset): theirs anew
        spec.write_text(json.dumps(entries))
        proc.send_signal(signal.SIGHUP)
        assert _until(lambda: not _answers(bruno) and not _answers(ana) and _answers(moved), within=30)
        time.sleep(2.5)
        assert len(MetricsStore(stores["bruno"]).query()) == bruno_samples, "bruno's monitor stopped sampling"
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err[-2000:]
    assert "ana: monitor stopped" in err and "bruno: monitor stopped" in err


READER = """
import sys
from dataops.metrics import MetricsStore, Sample
store = MetricsStore(sys.argv[1], overlay=sys.argv[2])
assert store.read_only and store.overlay is not None
store.write([Sample("mi_metrica", 7.0)])
print(sorted(store.metrics()), store.query("price")["value"].tolist(), store.query("mi_metrica")["value"].tolist())
print(store.delete(["price", "mi_metrica"]), sorted(store.metrics()))
"""


def test_a_learner_reads_the_store_they_cannot_write_and_their_own_metrics_go_to_theirs(tmp_path: Path) -> None:
    shared = tmp_path / "monitors" / "ana" / "metrics.db"
    writer = MetricsStore(shared)
    writer.write([Sample("price", 1.0, {"coin": "bitcoin"}), Sample("price", 2.0, {"coin": "ethereum"})])
    home = tmp_path / "home"
    home.mkdir()
    shared.parent.chmod(0o555)  # the server's folder: the reader may not write in it
    # root writes anywhere by its capabilities: the reader runs without them (files' owner bits then apply)
    drop = ["setpriv", "--bounding-set=-all", "--inh-caps=-all"] if os.geteuid() == 0 else []
    try:
        done = subprocess.run([*drop, sys.executable, "-c", READER, str(shared), str(home / "metrics.db")], capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(LIB)}, timeout=60)  # fmt: skip
    finally:
        shared.parent.chmod(0o755)
    assert done.returncode == 0, done.stderr[-2000:]
    both, after = done.stdout.splitlines()
    assert both == "['mi_metrica', 'price'] [1.0, 2.0] [7.0]"  # the monitor's samples and theirs, read together
    assert after == "1 ['price']"  # only theirs deleted: the monitor's are not theirs to delete
    assert MetricsStore(shared).metrics() == ["price"] and len(MetricsStore(shared).query()) == 2
