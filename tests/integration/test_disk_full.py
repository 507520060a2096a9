"""The disk of the state folder fills mid-stream: one line names it, and one `up` after freeing it loses nothing.

A stack of its own (ports +800) whose `data/` is a 320 MB tmpfs (tests/integration/diskfull.py).
"""

from __future__ import annotations

import pytest

from dataops.config import PROJECT_ROOT
from tests.integration.diskfull import drill, env, small_disk

pytestmark = pytest.mark.integration


def test_a_full_disk_is_named_in_one_line_and_one_up_after_freeing_it_loses_nothing(monkeypatch):
    import dataops

    root = PROJECT_ROOT / ".stack" / "disk"
    for name, value in env(root).items():
        monkeypatch.setenv(name, value)
    with small_disk(root) as data:
        p = dataops.connect(profile="local")
        try:
            p.up(progress=False)
            run = drill(p, data)
        finally:
            p.stack.down(progress=False)
    assert run.kafka_died, "the broker met ENOSPC and shut down (all log dirs failed)"
    for said in (run.health_line, run.doctor_line, run.up_refused):
        assert "lleno" in said and str(data) in said and "\n" not in said, said
    assert "dataops up" in run.health_line
    assert run.served >= 4 * len(p.settings.coins), run.served
    assert (run.lost, run.duplicate, run.changed) == (0, 0, 0), run.details
