"""The course's explode job: its Flink SQL, configuration, submission and resumption.

Inspection of the running job is :class:`dataops.flink.FlinkLayer`; the planning
itself runs in a child process, :mod:`dataops.flink_submit`.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path

from dataops import subproc
from dataops.config import PROJECT_ROOT, Settings
from dataops.contract import contract_for
from dataops.errors import StackError
from dataops.flink import FlinkLayer

logger = logging.getLogger(__name__)

EXPLODE_SQL = Path(__file__).with_name("sql") / "explode.sql"


def job_ids_file(settings: Settings) -> Path:
    """The ids of every run of the job (its checkpoints are found through them)."""
    return settings.paths.flink_checkpoints / f".{settings.flink_job_name}.job-ids"


def latest_checkpoint(settings: Settings) -> Path | None:
    """Newest retained checkpoint of any earlier run of the explode job."""
    ids_file = job_ids_file(settings)
    if not ids_file.exists():
        return None
    root = ids_file.parent
    metas = [m for jid in ids_file.read_text().split() for m in (root / jid).glob("chk-*/_metadata")]
    return max(metas, key=lambda m: m.stat().st_mtime).parent if metas else None


def job_config(settings: Settings) -> dict[str, str]:
    """Flink configuration of the explode job (checkpointing on, exactly once)."""
    paths = settings.paths
    return {
        "execution.target": "remote",
        "rest.address": settings.host,
        "rest.port": str(settings.flink_port),
        "pipeline.name": settings.flink_job_name,
        "pipeline.jars": paths.flink_connector_jar.as_uri(),
        "parallelism.default": str(settings.flink_parallelism),
        "execution.checkpointing.interval": f"{int(settings.flink_checkpoint_interval_s * 1000)} ms",
        "execution.checkpointing.mode": "EXACTLY_ONCE",
        "execution.checkpointing.dir": paths.flink_checkpoints.as_uri(),
        "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
        "table.local-time-zone": "UTC",
        "table.exec.source.idle-timeout": "30 s",
    }


def job_params(settings: Settings) -> dict[str, str]:
    """The ``${placeholders}`` of ``sql/explode.sql``: names from the settings, columns from the contract."""
    contract = contract_for(settings)
    return {
        "bootstrap": f"{settings.host}:{settings.kafka_port}",
        "source_topic": settings.topic_raw,
        "good_topic": settings.topic_exploded,
        "dlq_topic": settings.topic_dlq,
        "group_id": settings.flink_job_name,
        "txn_prefix": settings.flink_job_name,
        "cur": contract.price,
        "exploded_columns": contract.flink_columns(),
        **contract.flink_extraction(),
        "coin_checks": contract.flink_checks(),
    }


def submit_sql_job(settings: Settings, restore: Path | None = None) -> str:
    """Plan and submit the explode job in a child process; returns the job id."""
    paths = settings.paths
    params = job_params(settings)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(paths.flink_python), str(PROJECT_ROOT / "lib")])
    env["_python_worker_execution_mode"] = "process"
    cmd = [
        sys.executable, "-m", "dataops.flink_submit",
        "--sql", str(EXPLODE_SQL),
        "--params", json.dumps(params),
        "--config", json.dumps(job_config(settings)),
    ]  # fmt: skip
    if restore:
        cmd += ["--restore", str(restore)]
    log = paths.log_file("flink-submit")
    out = subproc.run(cmd, "submitting the Flink job", f"see {log} and `dataops logs flink-jobmanager`", 300,
                      capture_output=True, text=True, env=env)  # fmt: skip
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
    ids = job_ids_file(settings)
    ids.parent.mkdir(parents=True, exist_ok=True)
    with ids.open("a") as fh:
        fh.write(result["jid"] + "\n")
    return result["jid"]


def ensure_explode_job(settings: Settings, wait_s: float = 120.0) -> str:
    """Submit the explode job unless a copy is alive; resume from the last checkpoint.

    Returns:
        What was done: ``running`` (left alone), ``submitted`` or ``resumed from chk-N``.
    """
    client = FlinkLayer(settings.flink_url, job_name=settings.flink_job_name)
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
