"""The disk of the state folder fills mid-stream: one line names it, and one `up` after freeing it loses nothing.

benchmarks/disk_full.py runs the drill (tests/integration/diskfull.py): a stack of its own (ports +1200)
whose `data/` is a 320 MB tmpfs in a mount namespace of its own, filled to the last byte.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from dataops.config import PROJECT_ROOT

pytestmark = pytest.mark.integration


def test_a_full_disk_is_named_in_one_line_and_one_up_after_freeing_it_loses_nothing(tmp_path):
    report = tmp_path / "disk_full.json"
    done = subprocess.run([sys.executable, str(PROJECT_ROOT / "benchmarks" / "disk_full.py"), "--report", str(report)],
                          capture_output=True, text=True, timeout=900)  # fmt: skip
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    run = json.loads(report.read_text())
    assert run["kafka_died"], "the broker met ENOSPC and shut down (all log dirs failed)"
    assert run["met_enospc"]["kafka"] and run["met_enospc"]["monitor"], run["met_enospc"]
    for said in (run["health_line"], run["doctor_line"], run["up_refused"]):
        assert "lleno" in said and run["data"] in said and "\n" not in said, said
    assert "dataops up" in run["health_line"]
    assert run["served"] >= 4 * run["coins"], run["served"]
    assert (run["lost"], run["duplicate"], run["changed"]) == (0, 0, 0), run["details"]
    assert "disk_full_lost_rows=0" in done.stdout.splitlines()
