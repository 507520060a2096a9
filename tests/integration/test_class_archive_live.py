"""The JVMs' class-data archives on the real stack (:mod:`dataops.class_archive`): Connect started
again and stopped cleanly leaves its archive, and the Connect started after it maps that archive."""

from __future__ import annotations

import pytest

from dataops.class_archive import base_archive
from dataops.stack.supervisor import Stack

pytestmark = pytest.mark.integration


def test_a_clean_stop_leaves_the_archive_and_the_next_start_maps_it(pipeline):
    stack = Stack(pipeline.settings.model_copy(update={"class_archives": True}))  # the suite's own stacks run without
    java = stack.process("connect").cmdline()[0]
    if not base_archive(java).is_file():
        pytest.skip(f"{java} has no base class-data archive ({base_archive(java)}): its JVMs start without one")
    folder = pipeline.settings.paths.class_archives
    try:
        assert stack.stop("connect")
        stack.up(["connect"], progress=False)  # a second start in this state folder (at least) records…
        assert any(a.startswith(("-XX:ArchiveClassesAtExit=", "-XX:SharedArchiveFile=")) for a in stack.process("connect").cmdline())
        assert stack.stop("connect")  # … and its clean stop (SIGTERM) writes the archive as the JVM exits
        archives = sorted(folder.glob("connect-*.jsa"))
        assert len(archives) == 1 and archives[0].stat().st_size > 1 << 20, archives
        stack.up(["connect"], progress=False)
        proc = stack.process("connect")
        assert f"-XX:SharedArchiveFile={archives[0]}" in proc.cmdline()
        with open(f"/proc/{proc.pid}/maps", encoding="utf-8") as maps:
            assert str(archives[0]) in maps.read()  # HotSpot checked it and mapped it
    finally:
        pipeline.up(progress=False)  # the connectors running again for the tests after this one
