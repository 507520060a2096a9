"""The low-memory mode's Flink split, through Flink's own memory model (its BashJavaUtils, as `up`
runs it): the configuration is accepted and gives the small heaps meant. Nothing is started; the
downloads of the session's stack are hard-linked into a scratch state folder (a few seconds).
`benchmarks/memory.py` measures the whole stack in that mode."""

from __future__ import annotations

import re

import pytest

from dataops import load_settings
from dataops.artifacts import share_downloads
from dataops.flink import engine as flink_engine

pytestmark = pytest.mark.integration


def test_flink_accepts_the_low_memory_split(pipeline, tmp_path):
    low = load_settings(state_dir=tmp_path / "state", low_memory=True)
    share_downloads(pipeline.settings.paths, low.paths)
    low.paths.make()
    sizes = {}
    for kind in ("jobmanager", "taskmanager"):
        cmd = flink_engine._flink_cmd(kind)(low, low.paths)
        flags = {m.group(1): int(m.group(2)) for arg in cmd if (m := re.fullmatch(r"-(Xmx|XX:MaxMetaspaceSize=)(\d+)", arg))}
        sizes[kind] = {name: value / 2**20 for name, value in flags.items()}
        assert "-Xms16m" in cmd and "-XX:TieredStopAtLevel=1" in cmd
    assert 64 <= sizes["jobmanager"]["Xmx"] <= 160, sizes
    assert 64 <= sizes["taskmanager"]["Xmx"] <= 192, sizes
    assert all(s["XX:MaxMetaspaceSize="] <= 128 for s in sizes.values()), sizes
