"""`make test` leaves a developer's stack alone: the suite's stack has its own state folder and
every port shifted (tests/conftest.py), so a stack left running on the defaults is neither reused,
nor stopped, nor emptied."""

from __future__ import annotations

import psutil
import pytest

from dataops.config import PORTS, PROJECT_ROOT

pytestmark = pytest.mark.integration


def test_the_suite_runs_its_own_stack_on_its_own_ports_and_state_folder(pipeline):
    s = pipeline.settings
    assert s.state_dir.resolve() != (PROJECT_ROOT / ".stack").resolve()
    assert all(getattr(s, f"{name}_port") != port for name, port in PORTS.items())
    listening = set()
    for name in pipeline.stack.names:
        proc = pipeline.stack.process(name)
        if proc is None:
            continue
        for p in [proc, *proc.children(recursive=True)]:
            try:
                listening |= {c.laddr.port for c in p.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN}
            except psutil.Error:
                continue
    assert listening, "the suite's stack listens on no port"
    assert not listening & set(PORTS.values()), sorted(listening & set(PORTS.values()))
