"""The explode job's submitting child started ahead (dataops.flink.prewarm), with a child that
speaks its protocol: warm up, wait for one JSON line on stdin, submit or go away."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from dataops.errors import StackError
from dataops.flink import prewarm

pytestmark = pytest.mark.unit

CHILD = r"""
import json, sys, time
if "--when-told" not in sys.argv:
    print(json.dumps({"jid": "cold", "argv": sys.argv[1:]})); sys.exit(0)
mode = sys.argv[1]
if mode == "dies":
    sys.exit(3)
if mode == "slow":
    time.sleep(60)
print(json.dumps({"ready": True}), flush=True)
line = sys.stdin.readline()
if not line.strip():
    open(sys.argv[2], "w").write("went away"); sys.exit(0)
if mode == "hangs":
    time.sleep(60)
print("planner warm", file=sys.stderr)
print(json.dumps({"jid": "warm", "restored_from": json.loads(line)["restore"]}))
"""


def _cmd(mode: str, tmp_path: Path) -> list[str]:
    return [sys.executable, "-c", CHILD, mode, str(tmp_path / "gone")]


def test_the_child_started_ahead_submits_when_told_and_only_once(tmp_path):
    cmd = _cmd("ok", tmp_path)
    with prewarm.ahead("state", cmd, dict(os.environ)):
        assert prewarm.take("state", [*cmd, "other"]) is None  # another command: not this child
        child = prewarm.take("state", cmd)
        assert child is not None and prewarm.take("state", cmd) is None
        out = child.run(Path("/ckpt/chk-3"), 30, "el envío", "mira el log")
    assert out is not None and out.returncode == 0
    assert [json.loads(line) for line in out.stdout.splitlines()] == [{"ready": True}, {"jid": "warm", "restored_from": "/ckpt/chk-3"}]
    assert "planner warm" in out.stderr
    assert not (tmp_path / "gone").exists()


def _until_ready(child, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not child.ready():
        assert time.monotonic() < deadline, "the child never said it was ready"
        time.sleep(0.05)


def test_a_child_never_told_goes_away_without_submitting(tmp_path):
    with prewarm.ahead("state", _cmd("ok", tmp_path), dict(os.environ)) as child:
        _until_ready(child)
    assert child.proc.returncode == 0 and (tmp_path / "gone").read_text() == "went away"
    assert prewarm.take("state", _cmd("ok", tmp_path)) is None


def test_a_child_still_warming_up_when_up_ends_is_stopped_at_once(tmp_path):
    t0 = time.monotonic()
    with prewarm.ahead("state", _cmd("slow", tmp_path), dict(os.environ)) as child:
        pass
    assert child.proc.returncode is not None and child.proc.returncode != 0 and time.monotonic() - t0 < 10
    assert not child.ready() and not (tmp_path / "gone").exists()


def test_a_child_whose_warm_up_failed_leaves_the_submission_to_a_fresh_one(tmp_path):
    cmd = _cmd("dies", tmp_path)
    with prewarm.ahead("state", cmd, dict(os.environ)):
        child = prewarm.take("state", cmd)
        assert child is not None
        child.proc.wait(30)
        assert child.run(None, 30, "el envío", "mira el log") is None


def test_a_child_that_does_not_finish_is_one_line_and_is_stopped(tmp_path):
    cmd = _cmd("hangs", tmp_path)
    with prewarm.ahead("state", cmd, dict(os.environ)):
        child = prewarm.take("state", cmd)
        with pytest.raises(StackError, match="el envío no terminó en 1 s") as info:
            child.run(None, 1, "el envío", "mira el log")
    assert "\n" not in str(info.value) and child.proc.returncode is not None


def test_the_child_starts_ahead_only_with_cores_and_memory_to_spare(tmp_path):
    from dataops.config import load_settings
    from dataops.flink import job

    settings = load_settings(env_file="/nonexistent", state_dir=str(tmp_path / "state"))
    assert not job.ahead_pays(settings, cpus=2)  # measured here: it slowed the start as much as it saved
    assert job.ahead_pays(settings, cpus=prewarm.MIN_CPUS)
    assert not job.ahead_pays(settings.model_copy(update={"low_memory": True}), cpus=8)
