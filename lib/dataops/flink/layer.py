"""Flink layer: the session cluster's REST API (jobs, vertices, checkpoints).

The course's explode job (its SQL, configuration and submission) lives in
:mod:`dataops.flink.job`.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import pandas as pd
import requests

from dataops.config import Settings
from dataops.errors import DataOpsError, HTTPError, ServiceUnavailableError

if TYPE_CHECKING:
    from pandas.api.typing import NaTType

logger = logging.getLogger(__name__)

TERMINAL = {"FINISHED", "CANCELED", "FAILED"}
DEFAULT_JOB = Settings.model_fields["flink_job_name"].default
BACKPRESSURE_LEVELS = ("ok", "low", "high")  # worst last
JOB_DETAIL_COLUMNS = [
    "name", "jid", "state", "start_time", "uptime_s", "restarts", "records_in", "records_out",
    "backpressure", "backpressure_ratio", "checkpoints_completed", "checkpoints_failed",
    "last_checkpoint_id", "last_checkpoint_at", "last_checkpoint_duration_ms", "last_checkpoint_size_bytes",
]  # fmt: skip
VERTEX_COLUMNS = [
    "vertex_id", "name", "parallelism", "status", "records_in", "records_out", "records_sent",
    "sources", "sinks", "backpressure", "backpressure_ratio", "busy_ratio",
]  # fmt: skip
CHECKPOINT_COLUMNS = [
    "checkpoint_id", "status", "type", "triggered_at", "completed_at", "duration_ms",
    "state_size_bytes", "checkpointed_size_bytes", "acked_subtasks", "subtasks", "path", "failure",
]  # fmt: skip


class FlinkLayer:
    """A thin client of the Flink REST API.

    Args:
        url: Base URL, e.g. ``http://127.0.0.1:8081``.
        timeout: Seconds per request.
        job_name: The job the inspection methods look at when given no name or id
            (pass ``settings.flink_job_name``).
        http: What sends the requests: ``requests`` itself, or a session of its (a client
            certificate, a learner's token).
    """

    def __init__(self, url: str, timeout: float = 10.0, job_name: str = DEFAULT_JOB, http: Any = requests) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.job_name = job_name
        self.http = http

    def _get(self, path: str) -> dict[str, Any]:
        """GET a JSON object of Flink's REST API."""
        try:
            resp = self.http.get(f"{self.url}{path}", timeout=self.timeout)
        except requests.RequestException:
            raise ServiceUnavailableError("Flink", self.url) from None
        if resp.status_code >= 400:
            raise HTTPError("Flink", resp.status_code, "GET", path, resp.text[:200])
        answer: dict[str, Any] = resp.json()
        return answer

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
        jobs: list[dict[str, Any]] = self._get("/jobs/overview")["jobs"]
        for job in jobs:
            if job["name"] == name and job["state"] not in TERMINAL:
                return job
        return None

    def job(self, jid: str) -> dict[str, Any]:
        return self._get(f"/jobs/{jid}")

    def checkpoints(self, jid: str) -> dict[str, Any]:
        return self._get(f"/jobs/{jid}/checkpoints")

    # ---- inspection -----------------------------------------------------------
    def job_details(self, name_or_jid: str | None = None, all_runs: bool = False) -> pd.DataFrame:
        """Health of a job, one row per job: state, uptime, restarts, records, backpressure, last checkpoint.

        Args:
            name_or_jid: Job name or id; default the client's ``job_name`` (``crypto-explode``).
                A name means its live run, else its newest one.
            all_runs: Every run of that name that Flink still lists, newest first.

        Returns:
            Columns ``name, jid, state, start_time, uptime_s`` (running without interruption),
            ``restarts, records_in`` (read by the sources), ``records_out`` (sent by the sinks;
            both counted since this run started),
            ``backpressure`` (worst level over the vertices: ok, low, high), ``backpressure_ratio``,
            ``checkpoints_completed, checkpoints_failed, last_checkpoint_id, last_checkpoint_at,
            last_checkpoint_duration_ms, last_checkpoint_size_bytes``. Metrics of a job that
            no longer runs are empty (``<NA>``).
        """
        runs = self._runs(name_or_jid) if all_runs else [self._resolve(name_or_jid)]
        frame = pd.DataFrame([self._job_row(job) for job in runs], columns=JOB_DETAIL_COLUMNS)
        counters = ["restarts", "records_in", "records_out", "checkpoints_completed", "checkpoints_failed",
                    "last_checkpoint_id", "last_checkpoint_duration_ms", "last_checkpoint_size_bytes"]
        return frame.astype({c: "Int64" for c in counters})

    def vertices(self, name_or_jid: str | None = None) -> pd.DataFrame:
        """One row per vertex (a chain of operators) of a job.

        Returns:
            Columns ``vertex_id, name, parallelism, status``, ``records_in, records_out`` (the
            task's counters), ``records_sent`` (written to external systems by its sinks),
            ``sources, sinks`` (operators such as ``raw_polls[1] (kafka)``), ``backpressure``
            (ok, low, high), ``backpressure_ratio, busy_ratio`` (max over subtasks).
        """
        job = self._resolve(name_or_jid)
        detail = self.job(job["jid"])
        rows = []
        for vertex in detail["vertices"]:
            metrics = self._vertex_metrics(job["jid"], vertex["id"])
            pressure = self._backpressure(job["jid"], vertex["id"])
            rows.append(
                {
                    "vertex_id": vertex["id"],
                    "name": vertex["name"],
                    "parallelism": vertex["parallelism"],
                    "status": vertex["status"],
                    "records_in": metrics["records_in"],
                    "records_out": metrics["records_out"],
                    "records_sent": metrics["records_sent"],
                    "sources": ", ".join(metrics["sources"]),
                    "sinks": ", ".join(metrics["sinks"]),
                    **pressure,
                }
            )
        frame = pd.DataFrame(rows, columns=VERTEX_COLUMNS)
        for column in ("records_in", "records_out", "records_sent"):
            frame[column] = frame[column].astype("Int64")
        return frame

    def checkpoint_history(self, name_or_jid: str | None = None) -> pd.DataFrame:
        """The job's recent checkpoints, newest first (Flink keeps the last ``web.checkpoints.history``, 10).

        Returns:
            Columns ``checkpoint_id, status, type, triggered_at, completed_at`` (last acknowledgement),
            ``duration_ms, state_size_bytes, checkpointed_size_bytes, acked_subtasks, subtasks,
            path, failure``.
        """
        job = self._resolve(name_or_jid)
        stats = self._checkpoint_stats(job)
        if stats is None:
            raise DataOpsError(f"el job de Flink {job['name']} ({job['jid']}) no tiene estadísticas de checkpoints",
                               "tiene los checkpoints desactivados: actívalos con `execution.checkpointing.interval`")
        rows = [
            {
                "checkpoint_id": c["id"],
                "status": c["status"],
                "type": "SAVEPOINT" if c.get("is_savepoint") else c.get("checkpoint_type", "CHECKPOINT"),
                "triggered_at": _ts_ms(c.get("trigger_timestamp")),
                "completed_at": _ts_ms(c.get("latest_ack_timestamp")) if c["status"] == "COMPLETED" else pd.NaT,
                "duration_ms": c.get("end_to_end_duration"),
                "state_size_bytes": c.get("state_size"),
                "checkpointed_size_bytes": c.get("checkpointed_size"),
                "acked_subtasks": c.get("num_acknowledged_subtasks"),
                "subtasks": c.get("num_subtasks"),
                "path": c.get("external_path"),
                "failure": c.get("failure_message"),
            }
            for c in sorted(stats.get("history", []), key=lambda c: c["id"], reverse=True)
        ]
        return pd.DataFrame(rows, columns=CHECKPOINT_COLUMNS)

    def _runs(self, name_or_jid: str | None) -> list[dict[str, Any]]:
        """Jobs with that id or name, live first then newest first."""
        wanted = name_or_jid or self.job_name
        jobs = self._get("/jobs/overview")["jobs"]
        by_id = [j for j in jobs if j["jid"] == wanted]
        if by_id:
            return by_id
        runs = [j for j in jobs if j["name"] == wanted]
        if not runs:
            listed = ", ".join(sorted({f"{j['name']} ({j['state']})" for j in jobs}))
            raise DataOpsError(f"no hay ningún job de Flink llamado {wanted!r}",
                               f"jobs: {listed}" if listed else "no hay ningún job enviado; ejecuta `make up`")
        return sorted(runs, key=lambda j: (j["state"] not in TERMINAL, j["start-time"]), reverse=True)

    def _resolve(self, name_or_jid: str | None) -> dict[str, Any]:
        return self._runs(name_or_jid)[0]

    def _get_or_none(self, path: str, **params: str) -> Any:
        """GET that answers None for a 404 (metrics or statistics of a job that is gone)."""
        try:
            resp = self.http.get(f"{self.url}{path}", params=params or None, timeout=self.timeout)
        except requests.RequestException:
            raise ServiceUnavailableError("Flink", self.url) from None
        if resp.status_code == 404:
            return None
        if resp.status_code >= 400:
            raise HTTPError("Flink", resp.status_code, "GET", path, resp.text[:200])
        return resp.json()

    def _checkpoint_stats(self, job: dict[str, Any]) -> dict[str, Any] | None:
        stats = self._get_or_none(f"/jobs/{job['jid']}/checkpoints")
        return stats if stats and "counts" in stats else None

    def _vertex_metrics(self, jid: str, vid: str) -> dict[str, Any]:
        """Task and operator counters of a vertex, summed over its subtasks."""
        base = f"/jobs/{jid}/vertices/{vid}/subtasks/metrics"
        ids = [m["id"] for m in (self._get_or_none(base) or [])]
        sources = sorted({i[: -len(".numRecordsIn")] for i in ids if i.startswith("Source__") and i.endswith(".numRecordsIn")})
        sinks = sorted({i[: -len("__Writer.numRecordsSend")] for i in ids if i.endswith("__Writer.numRecordsSend")})
        wanted = ["numRecordsIn", "numRecordsOut"]
        wanted += [f"{s}.numRecordsIn" for s in sources] + [f"{s}__Writer.numRecordsSend" for s in sinks]
        values: dict[str, float] = {}
        if ids:
            answer = self._get_or_none(base, get=",".join(wanted), agg="sum") or []
            values = {m["id"]: m.get("sum") for m in answer}

        def total(names: list[str]) -> int | None:
            found = [values[n] for n in names if values.get(n) is not None]
            return int(sum(found)) if found else None

        def label(op: str, kafka_prefix: str) -> str:
            name = op.removeprefix("Source__")
            return f"{name} (kafka)" if any(i.startswith(f"{op}{kafka_prefix}") for i in ids) else name

        return {
            "records_in": total(["numRecordsIn"]),
            "records_out": total(["numRecordsOut"]),
            "records_sent": total([f"{s}__Writer.numRecordsSend" for s in sinks]) if sinks else None,
            "source_records": total([f"{s}.numRecordsIn" for s in sources]) if sources else None,
            "sources": [label(s, ".KafkaSourceReader.") for s in sources],
            "sinks": [label(s, "__Writer.KafkaProducer.") for s in sinks],
        }

    def _backpressure(self, jid: str, vid: str) -> dict[str, Any]:
        """Backpressure level (ok, low, high) and the max backpressured and busy ratios over subtasks."""
        answer = self._get_or_none(f"/jobs/{jid}/vertices/{vid}/backpressure")
        if not answer or answer.get("status") != "ok" or not answer.get("subtasks"):
            return {"backpressure": None, "backpressure_ratio": None, "busy_ratio": None}
        subtasks = answer["subtasks"]
        return {
            "backpressure": answer.get("backpressure-level") or answer.get("backpressureLevel"),
            "backpressure_ratio": max(float(s.get("ratio", 0.0)) for s in subtasks),
            "busy_ratio": max(float(s.get("busyRatio", 0.0)) for s in subtasks),
        }

    def _job_row(self, job: dict[str, Any]) -> dict[str, Any]:
        jid = job["jid"]
        live = job["state"] not in TERMINAL
        detail = self.job(jid)
        metrics = {}
        if live:
            answer = self._get_or_none(f"/jobs/{jid}/metrics", get="numRestarts,uptime") or []
            metrics = {m["id"]: m.get("value") for m in answer}
        records_in = records_out = None
        levels: list[str] = []
        ratios: list[float] = []
        if live:
            for vertex in detail["vertices"]:
                vm = self._vertex_metrics(jid, vertex["id"])
                if vm["source_records"] is not None:
                    records_in = (records_in or 0) + vm["source_records"]
                if vm["records_sent"] is not None:
                    records_out = (records_out or 0) + vm["records_sent"]
                pressure = self._backpressure(jid, vertex["id"])
                if pressure["backpressure"] in BACKPRESSURE_LEVELS:
                    levels.append(pressure["backpressure"])
                    ratios.append(pressure["backpressure_ratio"])
        stats = self._checkpoint_stats(job) or {}
        counts = stats.get("counts", {})
        last = (stats.get("latest") or {}).get("completed") or {}
        uptime = metrics.get("uptime")
        restarts = metrics.get("numRestarts")
        return {
            "name": job["name"],
            "jid": jid,
            "state": job["state"],
            "start_time": _ts_ms(job["start-time"]),
            "uptime_s": round(max(float(uptime), 0.0) / 1000, 1) if uptime is not None else None,
            "restarts": int(restarts) if restarts is not None else None,
            "records_in": records_in,
            "records_out": records_out,
            "backpressure": max(levels, key=BACKPRESSURE_LEVELS.index) if levels else None,
            "backpressure_ratio": max(ratios) if ratios else None,
            "checkpoints_completed": counts.get("completed"),
            "checkpoints_failed": counts.get("failed"),
            "last_checkpoint_id": last.get("id"),
            "last_checkpoint_at": _ts_ms(last.get("latest_ack_timestamp")),
            "last_checkpoint_duration_ms": last.get("end_to_end_duration"),
            "last_checkpoint_size_bytes": last.get("state_size"),
        }

    def failure(self, jid: str) -> str:
        """Why a job failed, in one line: the root cause of its newest exception ("" if Flink keeps none)."""
        detail = self._get_or_none(f"/jobs/{jid}/exceptions") or {}
        entries = (detail.get("exceptionHistory") or {}).get("entries") or []
        return root_cause(detail.get("root-exception") or (entries[0].get("stacktrace") if entries else "") or "")

    def cancel(self, jid: str) -> None:
        """Cancel a job (its last checkpoint is retained, so a resubmission resumes from it)."""
        try:
            self.http.patch(f"{self.url}/jobs/{jid}?mode=cancel", timeout=self.timeout)
        except requests.RequestException:
            raise ServiceUnavailableError("Flink", self.url) from None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.job(jid)["state"] not in TERMINAL:
            time.sleep(0.3)

    def ensure_explode_job(self, settings: Any) -> str:
        """Submit the explode job unless it runs, resuming from its newest checkpoint
        (:func:`dataops.flink.job.ensure_explode_job`); what was done, on one line."""
        from dataops.flink.job import ensure_explode_job

        return ensure_explode_job(settings, client=self if self.http is not requests else None)

    def wait_running(self, jid: str, timeout: float = 90.0) -> str:
        """Wait until the job and all its vertices run; returns the final state seen."""
        deadline = time.monotonic() + timeout
        state = "?"
        while time.monotonic() < deadline:
            detail = self.job(jid)
            state = str(detail["state"])
            if state == "RUNNING" and all(v["status"] == "RUNNING" for v in detail["vertices"]):
                return state
            if state in TERMINAL:
                return state
            time.sleep(0.3)
        return state


def root_cause(stacktrace: str, width: int = 240) -> str:
    """A Java stack trace in one line: its deepest ``Caused by`` that carries a message."""
    lines = [line.strip() for line in stacktrace.splitlines()]
    causes = [lines[0]] if lines and lines[0] else []
    causes += [line.removeprefix("Caused by:").strip() for line in lines if line.startswith("Caused by:")]
    if not causes:
        return ""
    with_text = [c for c in causes if ": " in c]
    text = with_text[-1] if with_text else causes[-1]
    if causes[-1] != text:  # the deepest one says only its class (java.io.EOFException): say both
        text = f"{causes[-1]} in {text}"
    return text[:width]


def _ts_ms(value: Any) -> pd.Timestamp | NaTType:
    """A Flink epoch-millisecond timestamp as UTC (NaT when unset: Flink writes 0 or -1)."""
    return pd.to_datetime(value, unit="ms", utc=True) if isinstance(value, (int, float)) and value > 0 else pd.NaT


if TYPE_CHECKING:  # mypy checks the class against the protocol the Pipeline returns it as
    from dataops.flink.protocol import Flink

    _CHECKED: type[Flink] = FlinkLayer
