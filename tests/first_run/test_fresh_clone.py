"""A newcomer's first run: an empty state folder, `up`, and notebook 01 at once.

Right after set-up no consumer group has committed offsets and the table has no commit:
the health verdicts must wait for those first samples instead of failing on them. This
stack runs beside any other (every port shifted) from its own empty state folder; only the
downloaded artifacts (Kafka jars, connector plugins, the Flink distribution) are shared,
hard-linked, so the test does not download them again. It runs before the session stack
starts (this folder sorts first), so the two never compete for the 2 cores.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dataops.config import PORTS, PROJECT_ROOT
from dataops.paths import StatePaths
from dataops.artifacts import share_downloads
from dataops.runner import run_notebooks

pytestmark = pytest.mark.integration

SHIFT = 300  # 8090 → 8390, 9092 → 9392, …: clear of the default stack and of the test session's

@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A pipeline on an empty state folder and shifted ports (the kernel of the notebook inherits them)."""
    import dataops

    state = tmp_path / "state"
    state.mkdir()
    share_downloads(StatePaths(Path(os.environ.get("DATAOPS_STATE_DIR", PROJECT_ROOT / ".stack"))), StatePaths(state))
    assert not any((state / d).exists() for d in ("data", "run", "logs", "conf"))
    monkeypatch.setenv("DATAOPS_STATE_DIR", str(state))
    monkeypatch.setenv("DATAOPS_PROFILE", "local")
    for name, port in PORTS.items():
        monkeypatch.setenv(f"DATAOPS_{name.upper()}_PORT", str(port + SHIFT))
    p = dataops.connect()
    assert p.settings.state_dir == state and p.settings.kafka_port == PORTS["kafka"] + SHIFT
    try:
        yield p
    finally:
        p.down()


def test_notebook_01_passes_right_after_up_on_an_empty_state_folder(fresh, tmp_path):
    fresh.up(progress=False, ready_timeout_s=None)  # no wait here: the notebook alone must cope
    result = run_notebooks([PROJECT_ROOT / "notebooks" / "01_pipeline_existente.ipynb"], output_dir=tmp_path / "out")
    row = result.iloc[0]
    assert row["status"] == "ok", row["error"]
    health = fresh.wait_ready(timeout_s=30)
    assert health["state"].isin(["green", "amber"]).all(), health.to_dict("records")
