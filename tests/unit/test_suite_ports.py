"""The stacks `make test` runs at once never want the same port.

Each xdist worker has a stack of its own (tests/conftest.py: the usual ports + 700, then 800 further per
worker), and the own-stack tests start more: the disk drill's (tests/integration/diskfull.py), the fresh
clones' (tests/first_run). A CI run failed once on such a clash: the own-stack worker's Tableflow-shaped
catalog (8181 + 700) still held 8881 when the disk drill's Flink (8081 + 800) asked for it.
"""

from __future__ import annotations

import itertools
import re

import pytest

from dataops.config import PORTS, PROJECT_ROOT
from tests import conftest
from tests.first_run import test_first_make_run, test_fresh_clone
from tests.integration import diskfull

pytestmark = pytest.mark.unit

LEARNERS = 3  # the class tests' and benchmark's largest class: each learner's simulator and monitor ports
CLASS = {name for name in PORTS if name.startswith(("class_", "kafka_class"))}  # one worker at a time runs a class
CORE = ("simulator", "kafka", "kafka_controller", "connect", "flink", "flink_rpc", "flink_blob", "flink_taskmanager", "monitor")


def ports(shift: int, names) -> set[int]:
    """The ports the components ``names`` listen on with every port shifted by ``shift``."""
    spread = {"class_simulator": LEARNERS, "class_monitor": LEARNERS, "class_flink": 5, "kafka_class_controller": 3}
    return {PORTS[name] + shift + i for name in names for i in range(spread.get(name, 1))}


def workers() -> int:
    found = re.search(r"^TEST_WORKERS \?= (\d+)$", (PROJECT_ROOT / "Makefile").read_text(), re.M)
    assert found, "the Makefile sets TEST_WORKERS"
    return int(found.group(1))


def stacks() -> dict[str, tuple[set[int], set[int]]]:
    """Each stack that may run during `make test`: (every port it may take, the ports outside a class)."""
    every, outside = set(PORTS), set(PORTS) - CLASS
    out = {"a developer's stack": (ports(0, every), ports(0, outside))}
    for k in range(workers()):
        shift = conftest.TEST_SHIFT + conftest.WORKER_SHIFT * k
        out[f"worker gw{k}'s stack"] = (ports(shift, every), ports(shift, outside))
    out["the disk drill's stack"] = (ports(diskfull.SHIFT, every), ports(diskfull.SHIFT, outside))
    for module in (test_first_make_run, test_fresh_clone):  # a newcomer's `make run`: the core engines only
        out[f"{module.__name__}'s clone"] = (ports(module.SHIFT, CORE), ports(module.SHIFT, CORE))
    return out


def clashes() -> list[str]:
    out = []
    for (a, (a_all, a_out)), (b, (b_all, b_out)) in itertools.combinations(stacks().items(), 2):
        both = (a_all & b_out) | (a_out & b_all)  # a class runs on one worker only: class ports meet non-class ones
        if both:
            out.append(f"{a} and {b}: {sorted(both)}")
    return out


def test_no_two_stacks_of_the_suite_want_the_same_port():
    assert not clashes(), "\n".join(clashes())


def test_the_check_sees_the_clash_ci_met(monkeypatch):
    monkeypatch.setattr(diskfull, "SHIFT", 800)
    assert any(line.startswith("worker gw0's stack and the disk drill's stack") and "8881" in line for line in clashes()), clashes()
