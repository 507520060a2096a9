"""What a notebook may call on the Flink layer (``p.flink``): the session cluster's jobs, their
vertices and checkpoints; cancelling a job is the one call that changes something."""

from __future__ import annotations

from typing import Any, Protocol

import pandas as pd

from dataops.protocols import action

__all__ = ["Flink"]


class Flink(Protocol):
    """The Flink session cluster and the explode job (local profile)."""

    def overview(self) -> dict[str, Any]:
        """The cluster's overview (task managers, slots, jobs by state)."""
        ...

    def jobs(self) -> pd.DataFrame:
        """One row per job: name, id, state, start time, duration."""
        ...

    def live_job(self, name: str) -> dict[str, Any] | None:
        """The job named ``name`` that is not finished, canceled or failed (restarting counts)."""
        ...

    def job(self, jid: str) -> dict[str, Any]:
        """Flink's detail of a job (its vertices included)."""
        ...

    def checkpoints(self, jid: str) -> dict[str, Any]:
        """Flink's checkpoint statistics of a job."""
        ...

    def job_details(self, name_or_jid: str | None = None, all_runs: bool = False) -> pd.DataFrame:
        """Health of a job, one row per run: state, uptime, restarts, records, backpressure, last checkpoint."""
        ...

    def vertices(self, name_or_jid: str | None = None) -> pd.DataFrame:
        """One row per vertex (a chain of operators) of a job."""
        ...

    def checkpoint_history(self, name_or_jid: str | None = None) -> pd.DataFrame:
        """The job's recent checkpoints, newest first."""
        ...

    def failure(self, jid: str) -> str:
        """Why a job failed, in one line ("" if Flink keeps no exception)."""
        ...

    def wait_running(self, jid: str, timeout: float = 90.0) -> str:
        """Wait until the job and all its vertices run; the final state seen."""
        ...

    @action
    def ensure_explode_job(self, settings: Any) -> str:
        """Submit the explode job unless it runs (from its newest checkpoint); what was done, on one line."""
        ...

    @action
    def cancel(self, jid: str) -> None:
        """Cancel a job (its last checkpoint is retained, so a resubmission resumes from it)."""
        ...
