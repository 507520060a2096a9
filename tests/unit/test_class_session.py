"""A learner's session on the class server: the Flink front keeps a learner to two jobs and answers a
name not theirs with its own line; a grading out of time is stopped with its kernels; the instructor's
notebook reads the room from the front."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from dataops.classroom import access
from dataops.config import load_settings

pytestmark = pytest.mark.unit


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


def test_the_instructors_notebook_on_the_hub_reads_the_room_from_the_front_with_their_token_only(tmp_path, monkeypatch):
    """The instructor's server runs as their Unix user, who cannot read the class's state: ``room.live()``
    there asks the class front (a real one, on a port of its own) with the room token the hub put in
    their home. A learner's token, or none, is refused with one line."""
    import threading
    from http.server import ThreadingHTTPServer

    import pandas as pd

    from dataops.classroom import front, hub, room
    from dataops.errors import DataOpsError
    from tests.ports import free_port

    s = load_settings(env_file="/nonexistent.env", profile="local", state_dir=tmp_path / "class", class_front_port=free_port())
    (s.paths.classroom).mkdir(parents=True, exist_ok=True)
    (s.paths.classroom / "roster.yaml").write_text("learners: [ana, bruno]\n")
    token = hub.hub_secrets(s.paths)["room_token"]
    asked = []
    rows = pd.DataFrame([{c: f"{name}-{c}" for c in room.RoomTable.COLUMNS} | {"learner": name} for name in ("ana", "bruno")])
    monkeypatch.setattr(room, "status", lambda settings, learners: asked.append(learners) or rows)
    server = ThreadingHTTPServer((s.host, s.class_front_port), front.handler(s))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    home = tmp_path / "instructor"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("DATAOPS_STATE_DIR", str(home / ".dataops" / "state"))  # as the hub sets it: no class state there
    try:
        from dataops.classroom.connect import front_url
        from dataops.classroom.hub_config import ROOM_ACCESS

        (home / ROOM_ACCESS).parent.mkdir(parents=True)
        (home / ROOM_ACCESS).write_text(json.dumps({"url": front_url(s), "token": token}))
        live = room.RoomTable(refresh_s=0)
        assert live.remote is not None and asked == [("ana", "bruno")]  # read once, by the front, for the roster
        assert sorted(live.frame()["learner"]) == ["ana", "bruno"] and "bruno-checks" in live.table.value
        for wrong in ("not-it", ""):
            (home / ROOM_ACCESS).write_text(json.dumps({"url": front_url(s), "token": wrong or " "}))
            with pytest.raises(DataOpsError, match="403 la vista de la clase es solo del profesor"):
                room.remote_status(room.remote_access() or {"url": front_url(s), "token": wrong})
        access.env_file(s.paths, "ana").parent.mkdir(parents=True, exist_ok=True)
        access.env_file(s.paths, "ana").write_text("DATAOPS_SIMULATOR_TOKEN=ana-token\n")
        with pytest.raises(DataOpsError, match="solo del profesor"):
            room.remote_status({"url": front_url(s), "token": "ana-token"})  # a learner's class token
        assert len(asked) == 2  # the refused asks never reached the room

        def down(settings, learners):
            raise RuntimeError("la Kafka de la clase no responde")

        monkeypatch.setattr(room, "status", down)  # an engine down: one line back, not a dropped connection
        with pytest.raises(DataOpsError, match="503 RuntimeError: la Kafka de la clase no responde"):
            room.remote_status({"url": front_url(s), "token": token})
    finally:
        server.shutdown()
        server.server_close()
