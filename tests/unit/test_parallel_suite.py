"""`make test` in three processes: xdist's own scheduler, given the suite's groups (tests/conftest.py),
runs each group on one worker in collection order, the three at once, and spreads the unit tests; and
no own-stack test touches the session stack."""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests import conftest

pytestmark = pytest.mark.unit
TESTS = Path(conftest.__file__).parent


class FakeNode:
    """What the scheduler sends a worker: the indexes of the tests it is to run, in order."""

    def __init__(self, name: str) -> None:
        self.name, self.sent, self.shut = name, [], False
        self.gateway, self.shutting_down = SimpleNamespace(id=name), False

    def send_runtest_some(self, indexes) -> None:
        self.sent.extend(indexes)

    def send_runtest_all(self) -> None:  # pragma: no cover - LoadScope never sends all
        raise AssertionError("sent all")

    def shutdown(self) -> None:
        self.shut = self.shutting_down = True


def schedule(collection: list[str], workers: int = 2) -> dict[str, list[str]]:
    """Run xdist's scheduler (the suite's hook) to the end: each node completes its oldest test first."""
    config = SimpleNamespace(getvalue=lambda name: [f"{workers}*popen"] if name == "tx" else None,
                             option=SimpleNamespace(loadscopereorder=True))  # fmt: skip
    sched = conftest.pytest_xdist_make_scheduler(config, None)
    nodes = [FakeNode(f"gw{i}") for i in range(workers)]
    for node in nodes:
        sched.add_node(node)
    for node in nodes:
        sched.add_node_collection(node, collection)
    sched.schedule()
    done = {node.name: [] for node in nodes}
    progress = True
    while progress:
        progress = False
        for node in nodes:
            if len(done[node.name]) < len(node.sent):
                index = node.sent[len(done[node.name])]
                done[node.name].append(collection[index])
                sched.mark_test_complete(node, index)
                progress = True
    assert sched.tests_finished and sum(map(len, done.values())) == len(collection)
    return done


def test_the_groups_by_path():
    group = conftest.xdist_group
    assert group("tests/unit/test_heal.py::test_x") is None
    assert group("tests/first_run/test_fresh_clone.py::test_x") == "own-stack"
    assert group("tests/integration/test_disk_full.py::test_x") == "own-stack"
    assert group("tests/integration/test_pipeline.py::test_x") == "stack"
    assert group("tests/integration/test_sleep_resume.py::test_x") == "stack-2"
    assert group("tests/notebooks/test_course.py::test_x[00]") == "stack-2"
    assert group("notebooks/00_entorno.ipynb::Cell 3") == "stack-2"


def test_each_group_runs_on_one_worker_in_order_all_three_at_once_the_unit_tests_beside_them():
    own = ["tests/first_run/test_first_make_run.py::test_a", "tests/first_run/test_fresh_clone.py::test_b"]
    stack = [f"tests/integration/test_{name}.py::test_{i}" for name in ("alerts_live", "dlq", "pipeline") for i in range(3)]
    stack.insert(2, "tests/integration/test_checkpoint_restore.py::test_c")  # stack-2 and own-stack tests amid them
    stack.insert(5, "tests/integration/test_disk_full.py::test_d")
    stack2 = [stack.pop(2)] + [f"tests/notebooks/test_course.py::test_{i}" for i in range(3)]
    own.append(stack.pop(4))
    unit = [f"tests/unit/test_u{i}.py::test_{i}" for i in range(40)]
    notebook = [f"notebooks/00_entorno.ipynb::Cell {i}" for i in range(4)]
    collection = own[:2] + stack[:2] + stack2[:1] + stack[2:3] + own[2:] + stack[3:] + stack2[1:] + unit + notebook
    stack2 += notebook
    done = schedule(collection, workers=3)
    where = {}
    for group, tests in (("own-stack", own), ("stack", stack), ("stack-2", stack2)):
        workers = [name for name, ran in done.items() if set(tests) & set(ran)]
        assert len(workers) == 1, (group, done)  # one worker: a stack is never used by two tests at once
        assert [t for t in done[workers[0]] if t in tests] == tests, group  # in collection order (nbval's cells too)
        assert done[workers[0]][0] == tests[0], (group, done)  # from the start
        where[group] = workers[0]
    assert len(set(where.values())) == 3, where  # the three at once
    assert len({name for name, ran in done.items() if set(unit) & set(ran)}) >= 2  # the free ones take the unit tests


def _requested_fixtures(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {arg.arg for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) for arg in node.args.args}


def test_no_own_stack_test_uses_the_session_stack():
    files = [path for path in TESTS.rglob("test_*.py") if conftest.xdist_group(str(path.relative_to(TESTS.parent))) == "own-stack"]
    expected = {f"integration/{name}" for name in conftest.OWN_STACK["integration"]} | {
        str(p.relative_to(TESTS)) for p in (TESTS / "first_run").glob("test_*.py")}  # fmt: skip
    assert {str(p.relative_to(TESTS)) for p in files} == expected  # every name in OWN_STACK is a file
    assert {str(p.relative_to(TESTS)): "pipeline" for p in files if "pipeline" in _requested_fixtures(p)} == {}


def test_stack_2_runs_the_class_tests_first_and_every_other_test_keeps_its_place():
    ids = ["tests/first_run/test_fresh_clone.py::test_a", "tests/integration/test_alerts_live.py::test_b",
           "tests/integration/test_checkpoint_restore.py::test_c", "tests/integration/test_class_broker_live.py::test_d",
           "tests/integration/test_class_hub_live.py::test_e", "tests/integration/test_pipeline.py::test_f",
           "tests/integration/test_sleep_resume.py::test_g", "tests/unit/test_u.py::test_h", "notebooks/00_entorno.ipynb::Cell 0"]  # fmt: skip
    items = [SimpleNamespace(nodeid=i, path=Path(i.split("::")[0])) for i in ids]
    conftest._stack_2_first(items)
    order = [item.nodeid.split("::")[1] for item in items]
    assert order == ["test_a", "test_b", "test_d", "test_e", "test_c", "test_f", "test_g", "test_h", "Cell 0"]
    # the class tests need no session stack: the worker's starts after them
    for name in conftest.FIRST_IN_STACK_2:
        assert conftest.xdist_group(f"tests/integration/{name}::t") == "stack-2"
        assert "pipeline" not in _requested_fixtures(TESTS / "integration" / name)
