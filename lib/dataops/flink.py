"""Flink layer: the session cluster's REST API and the course's explode job."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import requests

from dataops.config import PROJECT_ROOT, Settings
from dataops.errors import DataOpsError, ServiceUnavailableError, StackError

logger = logging.getLogger(__name__)

TERMINAL = {"FINISHED", "CANCELED", "FAILED"}
EXPLODE_SQL = Path(__file__).with_name("sql") / "explode.sql"


class FlinkClient:
    """A thin client of the Flink REST API.

    Args:
        url: Base URL, e.g. ``http://127.0.0.1:8081``.
    """

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _get(self, path: str) -> Any:
        try:
            resp = requests.get(f"{self.url}{path}", timeout=self.timeout)
        except requests.RequestException:
            raise ServiceUnavailableError("Flink", self.url) from None
        if resp.status_code >= 400:
            raise DataOpsError(f"Flink answered {resp.status_code} to GET {path}: {resp.text[:200]}")
        return resp.json()

    def overview(self) -> dict[str, Any]:
        return self._get("/overview")

    def jobs(self) -> pd.DataFrame:
        """One row per job: name, id, state, start time, duration."""
        jobs = self._get("/jobs/overview")["jobs"]
        rows = [
            {
                "name": j["name"],
                "jid": j["jid"],
                "state": j["state"],
                "start_time": pd.to_datetime(j["start-time"], unit="ms", utc=True),
                "duration_s": round(j["duration"] / 1000, 1),
                "tasks_running": j["tasks"].get("running", 0),
                "tasks_total": j["tasks"].get("total", 0),
            }
            for j in jobs
        ]
        return pd.DataFrame(rows, columns=["name", "jid", "state", "start_time", "duration_s", "tasks_running", "tasks_total"])

    def live_job(self, name: str) -> dict[str, Any] | None:
        """The job named ``name`` that is not finished, canceled or failed (restarting counts)."""
        for job in self._get("/jobs/overview")["jobs"]:
            if job["name"] == name and job["state"] not in TERMINAL:
                return job
        return None

    def job(self, jid: str) -> dict[str, Any]:
        return self._get(f"/jobs/{jid}")

    def checkpoints(self, jid: str) -> dict[str, Any]:
        return self._get(f"/jobs/{jid}/checkpoints")

    def cancel(self, jid: str) -> None:
        """Cancel a job (its last checkpoint is retained, so a resubmission resumes from it)."""
        try:
            requests.patch(f"{self.url}/jobs/{jid}?mode=cancel", timeout=self.timeout)
        except requests.RequestException:
            raise ServiceUnavailableError("Flink", self.url) from None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.job(jid)["state"] not in TERMINAL:
            time.sleep(0.3)

    def wait_running(self, jid: str, timeout: float = 90.0) -> str:
        """Wait until the job and all its vertices run; returns the final state seen."""
        deadline = time.monotonic() + timeout
        state = "?"
        while time.monotonic() < deadline:
            detail = self.job(jid)
            state = detail["state"]
            if state == "RUNNING" and all(v["status"] == "RUNNING" for v in detail["vertices"]):
                return state
            if state in TERMINAL:
                return state
            time.sleep(0.3)
        return state


def _job_ids_file(settings: Settings) -> Path:
    return Path(settings.state_dir) / "data" / "flink" / "checkpoints" / f".{settings.flink_job_name}.job-ids"


def latest_checkpoint(settings: Settings) -> Path | None:
    """Newest retained checkpoint of any earlier run of the explode job."""
    ids_file = _job_ids_file(settings)
    if not ids_file.exists():
        return None
    root = ids_file.parent
    metas = [m for jid in ids_file.read_text().split() for m in (root / jid).glob("chk-*/_metadata")]
    return max(metas, key=lambda m: m.stat().st_mtime).parent if metas else None


def job_config(settings: Settings, paths_root: Path) -> dict[str, str]:
    """Flink configuration of the explode job (checkpointing on, exactly once)."""
    from dataops.stack import StatePaths

    paths = StatePaths(paths_root)
    return {
        "execution.target": "remote",
        "rest.address": settings.host,
        "rest.port": str(settings.flink_port),
        "pipeline.name": settings.flink_job_name,
        "pipeline.jars": paths.flink_connector_jar.as_uri(),
        "parallelism.default": str(settings.flink_parallelism),
        "execution.checkpointing.interval": f"{int(settings.flink_checkpoint_interval_s * 1000)} ms",
        "execution.checkpointing.mode": "EXACTLY_ONCE",
        "execution.checkpointing.dir": (paths.data / "flink" / "checkpoints").as_uri(),
        "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
        "table.local-time-zone": "UTC",
        "table.exec.source.idle-timeout": "30 s",
    }


def submit_sql_job(settings: Settings, restore: Path | None = None) -> str:
    """Plan and submit the explode job in a child process; returns the job id."""
    from dataops.stack import StatePaths

    paths = StatePaths(Path(settings.state_dir))
    params = {
        "bootstrap": f"{settings.host}:{settings.kafka_port}",
        "source_topic": settings.topic_raw,
        "good_topic": settings.topic_exploded,
        "dlq_topic": settings.topic_dlq,
        "group_id": settings.flink_job_name,
        "txn_prefix": settings.flink_job_name,
    }
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(paths.flink_python), str(PROJECT_ROOT / "lib")])
    env["_python_worker_execution_mode"] = "process"
    cmd = [
        sys.executable, "-m", "dataops.flink_submit",
        "--sql", str(EXPLODE_SQL),
        "--params", json.dumps(params),
        "--config", json.dumps(job_config(settings, paths.root)),
    ]  # fmt: skip
    if restore:
        cmd += ["--restore", str(restore)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    log = paths.log_file("flink-submit")
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as fh:
        fh.write(f"\n===== {time.strftime('%Y-%m-%d %H:%M:%S')} submit (restore={restore}) =====\n")
        fh.write(out.stdout + out.stderr)
    result = {}
    for line in reversed(out.stdout.strip().splitlines()):
        if line.startswith("{"):
            result = json.loads(line)
            break
    if out.returncode != 0 or "jid" not in result:
        raise StackError(
            f"submitting the Flink job failed ({result.get('error') or (out.stderr.strip().splitlines() or ['?'])[-1][:200]})",
            f"see {log}",
        )
    ids = _job_ids_file(settings)
    ids.parent.mkdir(parents=True, exist_ok=True)
    with ids.open("a") as fh:
        fh.write(result["jid"] + "\n")
    return result["jid"]


def ensure_explode_job(settings: Settings, wait_s: float = 120.0) -> str:
    """Submit the explode job unless a copy is alive; resume from the last checkpoint.

    Returns:
        What was done: ``running`` (left alone), ``submitted`` or ``resumed from chk-N``.
    """
    client = FlinkClient(settings.flink_url)
    live = client.live_job(settings.flink_job_name)
    if live:
        return f"running ({live['state']})"
    restore = latest_checkpoint(settings)
    try:
        jid = submit_sql_job(settings, restore)
    except StackError:
        if restore is None:
            raise
        # An incompatible checkpoint (the SQL changed): start from the committed group offsets.
        logger.warning("could not resume from %s; submitting from the committed offsets", restore)
        restore = None
        jid = submit_sql_job(settings, None)
    state = client.wait_running(jid, wait_s)
    if state != "RUNNING":
        raise StackError(f"the Flink job {settings.flink_job_name} is {state}", "see `dataops logs flink-jobmanager`")
    return f"resumed from {restore.name}" if restore else "submitted"
