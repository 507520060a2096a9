"""A learner's session on the class server: root stops only the learner's own monitor, whatever
the pid file (which the learner can write) names; the Flink front keeps a learner to two jobs and
answers a name not theirs with its own line."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from dataops.classroom import access, session
from dataops.config import load_settings
from dataops.paths import StatePaths
from dataops.stack.supervisor import start_ticks

pytestmark = pytest.mark.unit


def _class_with(tmp_path, learner: str):
    s = load_settings(env_file="/nonexistent.env", profile="local", state_dir=tmp_path / "class")
    folder = tmp_path / "sessions" / learner
    access.env_file(s.paths, learner).parent.mkdir(parents=True, exist_ok=True)
    access.env_file(s.paths, learner).write_text(f"DATAOPS_STATE_DIR={folder}\n")
    pid_file = StatePaths(folder).pid_file("monitor")
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    return s, pid_file


def test_a_pid_file_naming_another_process_stops_nothing(tmp_path):
    s, pid_file = _class_with(tmp_path, "zz-nobody")
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        pid_file.write_text(json.dumps({"pid": other.pid, "start_ticks": start_ticks(other.pid)}))
        assert session.stop_monitors(s, "zz-nobody") == 0
        assert other.poll() is None  # still alive: it is no monitor of theirs
    finally:
        other.kill()
        other.wait()


def test_a_fifo_or_a_link_as_the_pid_file_neither_hangs_nor_stops_anything(tmp_path):
    s, pid_file = _class_with(tmp_path, "zz-nobody")
    os.mkfifo(pid_file)  # reading it would block root for good
    assert session.stop_monitors(s, "zz-nobody") == 0
    pid_file.unlink()
    real = tmp_path / "elsewhere.json"
    real.write_text(json.dumps({"pid": os.getpid(), "start_ticks": start_ticks(os.getpid())}))
    pid_file.symlink_to(real)
    assert session.stop_monitors(s, "zz-nobody") == 0
    assert real.exists()


def _flink_front(tmp_path, monkeypatch, jobs):
    from dataops.classroom import flink, flink_front
    from dataops.flink import job

    s = load_settings(env_file="/nonexistent.env", profile="local", state_dir=tmp_path)
    access.env_file(s.paths, "ana").parent.mkdir(parents=True, exist_ok=True)
    access.env_file(s.paths, "ana").write_text("DATAOPS_PROFILE=class\nDATAOPS_LEARNER=ana\n")
    monkeypatch.setattr(flink, "jobs", lambda s: jobs)
    submitted = []
    monkeypatch.setattr(job, "ensure_explode_job", lambda mine, **kw: submitted.append(mine.flink_job_name) or "enviado")
    return s, flink_front, submitted


def test_a_learner_runs_two_jobs_at_most_on_the_class_cluster(tmp_path, monkeypatch):
    import json

    jobs = [{"name": "ana.crypto-explode", "state": "RUNNING"}, {"name": "ana.demo-manual-crypto-explode", "state": "RUNNING"},
            {"name": "ana.old", "state": "CANCELED"}, {"name": "bruno.crypto-explode", "state": "RUNNING"}]  # fmt: skip
    s, front, submitted = _flink_front(tmp_path, monkeypatch, jobs)
    third = json.dumps({"job": "ana.loop-1"}).encode()
    status, answer = front.handle(s, "ana", "POST", "/flink/dataops/explode", third)
    assert status == 409 and "ya tienes 2 jobs en marcha" in answer["message"] and submitted == []
    status, answer = front.handle(s, "ana", "POST", "/flink/dataops/explode", b"")  # the course's, running: allowed
    assert status == 200 and submitted == ["ana.crypto-explode"]
    jobs[1]["state"] = "CANCELED"  # one cancelled: room again
    assert front.handle(s, "ana", "POST", "/flink/dataops/explode", third)[0] == 200 and submitted[-1] == "ana.loop-1"


def test_a_job_name_not_theirs_is_refused_with_its_own_status(tmp_path, monkeypatch):
    import json

    from dataops.errors import RefusedError

    s, front, submitted = _flink_front(tmp_path, monkeypatch, [])
    with pytest.raises(RefusedError) as refused:
        front.handle(s, "ana", "POST", "/flink/dataops/explode", json.dumps({"job": "bruno.crypto-explode"}).encode())
    assert refused.value.status == 403 and submitted == []


def test_a_grading_out_of_time_is_stopped_with_the_kernels_it_started():
    """The kernels jupyter_client starts are in sessions of their own: killing the child's group misses them."""
    import time

    import psutil

    from dataops.classroom.grading import _stop_tree

    code = ("import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], "
            "start_new_session=True); time.sleep(60)")  # fmt: skip
    child = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    deadline = time.monotonic() + 20
    while not psutil.Process(child.pid).children() and time.monotonic() < deadline:
        time.sleep(0.1)
    kernel = psutil.Process(child.pid).children()[0]
    _stop_tree(child)
    kernel.wait(timeout=10)
    assert child.poll() is not None and not kernel.is_running()
