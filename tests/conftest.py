"""Shared fixtures: the real local stack, started once per test session. In CI no test may skip:
a skip is a failure there (`SkipsFailInCI`), and every run ends with its count of skips."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("PLOTLY_RENDERER", "plotly_mimetype")

# The suite runs its own stack: its own state folder and every port shifted, so a stack a developer
# left running (on the default ports, from .stack/) is neither reused nor stopped nor emptied. The
# downloads are shared (hard links). DATAOPS_STATE_DIR set by hand keeps the old way: that folder.
# Under xdist each worker has a stack of its own: worker N > 0 a folder `…-gwN` and ports 800 x N further.
TEST_SHIFT = 700
WORKER_SHIFT = 800
DEFAULT_ENV = {}  # what the suite changed, so unit tests (which check defaults) see none of it


def _own_stack() -> None:
    from pathlib import Path

    from dataops.artifacts import artifacts_present, share_downloads
    from dataops.config import PORTS, PROJECT_ROOT
    from dataops.paths import StatePaths

    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    by_hand = os.environ.get("DATAOPS_STATE_DIR")
    if by_hand and not worker:
        return
    base = Path(by_hand) if by_hand else PROJECT_ROOT / ".stack" / "test"
    state = base.with_name(f"{base.name}-gw{worker}") if worker else base
    DEFAULT_ENV["DATAOPS_STATE_DIR"] = str(state)
    for name, port in PORTS.items():
        var = f"DATAOPS_{name.upper()}_PORT"
        if var not in os.environ or worker:
            first = int(os.environ[var]) if var in os.environ else port + (0 if by_hand else TEST_SHIFT)
            DEFAULT_ENV[var] = str(first + WORKER_SHIFT * worker)
    # No class-data archives for the suite's stacks (dataops.class_archive): a state folder started a second
    # time records one and pays for it at its stop, and the suite's folders are thrown away (measured: the
    # whole suite took 23:22 without them, 23:40-25:32 with). test_class_archive_live turns them on for itself.
    if "DATAOPS_CLASS_ARCHIVES" not in os.environ:
        DEFAULT_ENV["DATAOPS_CLASS_ARCHIVES"] = "0"
    os.environ.update(DEFAULT_ENV)
    mine = StatePaths(state)
    for source in (StatePaths(base), StatePaths(PROJECT_ROOT / ".stack")):  # the first worker's, or a developer's
        if source.root != mine.root and artifacts_present(source) and not artifacts_present(mine):
            try:
                share_downloads(source, mine)
            except OSError:  # an older, partial copy there: `up` installs what is missing
                pass
            break


_own_stack()


@pytest.fixture(autouse=True)
def _unit_tests_see_the_defaults(request, monkeypatch):
    """Unit tests check default settings: the suite's own state folder and ports are not theirs."""
    if request.node.get_closest_marker("unit") is not None:
        for var in DEFAULT_ENV:
            monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="session")
def pipeline():
    """The local pipeline, up and set up; stops at the end only what this session started."""
    import dataops

    p = dataops.connect(profile="local")
    already = {name for name in p.stack.names if p.stack.process(name)}

    def stop_what_we_started():
        for name in reversed(p.stack.names):
            if name not in already:
                p.stack.stop(name)

    try:
        p.up(progress=False)
    except BaseException:
        stop_what_we_started()  # a failed start leaves no orphan process behind
        raise
    yield p
    stop_what_we_started()


# A test's folder says what it needs: unit (nothing running), first_run and integration (the
# real stack), notebooks (the stack and a kernel). `make test-unit` (-m unit) runs every unit test.
FOLDER_MARKERS = {"unit": "unit", "first_run": "integration", "integration": "integration", "notebooks": "notebooks"}


# `make test` runs the suite in three processes (pytest-xdist), each worker with a stack of its own
# (above). The tests are in groups, each run in order by one worker: "own-stack", the tests that
# start a stack or server of their own (own state folder, own ports); "stack", most integration tests
# of the session stack; "stack-2", the longest of them (checkpoints, sleeps) and the notebooks, on a
# second worker's session stack. The three start at once, one per worker; each unit test goes to
# whichever worker is free. So no stack is used by two tests at once, and the waits of one group
# (a 65 s freeze, a kernel) are the CPU time of another: the suite used under half of the 2 cores in
# one process. (The groups are this scheduler's, by path: xdist's `xdist_group` mark does nothing
# under pytest 9, whose node ids xdist 3.8 can no longer rename.)
OWN_STACK = {"first_run": None, "integration": {"test_disk_full.py", "test_kafka_sasl_live.py", "test_schema_registry_live.py",
                                                "test_tableflow_live.py"}}  # fmt: skip
# The class server's tests start engines of their own too (a broker, Connect, a Flink cluster, the hub),
# but in "stack-2", one after the other with the sleep test: a whole class server starting on the other
# core during its 65 s freeze and 90 s recovery left the session pipeline stalled for good (CI, 2 cores).
STACK_2 = {"integration": {"test_checkpoint_restore.py", "test_class_broker_live.py", "test_class_hub_live.py", "test_sleep_resume.py"},
           "notebooks": None}  # fmt: skip


def _in(groups: dict, folder: str, name: str) -> bool:
    return folder in groups and (groups[folder] is None or name in groups[folder])


def xdist_group(nodeid: str) -> str | None:
    """The group of tests one worker runs in order, or None for a unit test any worker may take."""
    parts = nodeid.split("::")[0].split("/")
    folder, name = (parts[-2] if len(parts) > 1 else ""), parts[-1]
    if name.endswith(".ipynb"):
        return "stack-2"
    if folder == "unit":
        return None
    if _in(OWN_STACK, folder, name):
        return "own-stack"
    return "stack-2" if _in(STACK_2, folder, name) else "stack"


def pytest_xdist_make_scheduler(config, log):
    """xdist's scheduler by scope, each scope a group above or a lone unit test, in the order of the
    collection (tests/first_run, tests/integration, tests/notebooks, tests/unit, notebooks/): so the
    three groups are the first three scopes, one on each worker."""
    from xdist.scheduler import LoadScopeScheduling

    class ByStack(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return xdist_group(nodeid) or nodeid

    config.option.loadscopereorder = False
    return ByStack(config, log)


# In "stack-2" the class server's tests come first: they need no session stack, and the worker's starts
# (lazily, with the first test that asks for it) only after them, instead of idling under them for
# about 12 minutes (a fifth of a core on a machine `make test` keeps busy).
FIRST_IN_STACK_2 = ("test_class_broker_live.py", "test_class_hub_live.py")


def _stack_2_first(items: list) -> None:
    """Reorder ``items`` in place: in "stack-2", :data:`FIRST_IN_STACK_2`'s tests first; every other
    test keeps its place (so the groups still start in the collection's order)."""
    slots = [i for i, item in enumerate(items) if xdist_group(item.nodeid) == "stack-2"]
    ordered = sorted((items[i] for i in slots), key=lambda item: item.path.name not in FIRST_IN_STACK_2)
    for i, item in zip(slots, ordered):
        items[i] = item


def pytest_collection_modifyitems(items):
    """Each test carries its folder's marker; notebook cells collected by nbval carry ``notebooks``.
    Then "stack-2" is put in its order (:func:`_stack_2_first`)."""
    _stack_2_first(items)
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.notebooks)
            continue
        folder = item.path.parent.name
        if folder in FOLDER_MARKERS and not any(item.iter_markers(FOLDER_MARKERS[folder])):
            item.add_marker(getattr(pytest.mark, FOLDER_MARKERS[folder]))


def pytest_xdist_setupnodes(config, specs):
    """Before the workers start: fetch the stack's downloads once into the suite's state folder, so
    the workers never run Maven into the same folders at once (each test that shares them then
    finds them there). Not for a run of the unit tests alone."""
    if (config.getoption("markexpr", "") or "").strip() == "unit":
        return
    from dataops.artifacts import install_artifacts
    from dataops.config import load_settings

    install_artifacts(load_settings(profile="local").paths)


def in_ci() -> bool:
    """True in CI: ``.ci/run`` exports ``DATAOPS_CI=1``; GitHub Actions (and most CI services) set ``CI=true``."""
    dataops_ci = os.environ.get("DATAOPS_CI", "").strip().lower() not in ("", "0", "false", "no")
    return dataops_ci or os.environ.get("CI", "").strip().lower() in ("true", "1")


class SkipsFailInCI:
    """In CI, a test that skipped (a missing binary, a skip mark) fails with its skip reason: CI installs
    what every test needs (``.ci/run``), so a skip there hides a test that never ran. xfail is untouched.
    Every run ends with a ``skipped: N`` line."""

    def __init__(self) -> None:
        self.failed: list[str] = []

    def _fail(self, report):
        if report.skipped and not hasattr(report, "wasxfail") and in_ci():
            if isinstance(report.longrepr, tuple):
                path, lineno, reason = report.longrepr
                where = f" ({path}:{lineno})"
            else:
                reason, where = str(report.longrepr), ""
            reason = reason.removeprefix("Skipped: ")
            report.outcome = "failed"
            report.longrepr = f"skipped in CI{where}: {reason}; in CI no test may skip: make .ci/run provide what it needs"
            self.failed.append(report.nodeid)
        return report

    @pytest.hookimpl(wrapper=True, tryfirst=True)  # the outermost wrapper: it sees the final report (xfail marked)
    def pytest_runtest_makereport(self, item, call):
        return self._fail((yield))

    @pytest.hookimpl(wrapper=True, tryfirst=True)  # a module that skips as it is collected (importorskip at the top)
    def pytest_make_collect_report(self, collector):
        return self._fail((yield))

    def pytest_unconfigure(self, config):  # after pytest's own last line, so it ends every run's output
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None:
            return
        skipped = len([r for r in reporter.stats.get("skipped", []) if not hasattr(r, "wasxfail")])
        # Under xdist the workers turn the skips into failures; the controller sees their reports.
        n = len(self.failed) or len([r for r in reporter.stats.get("failed", []) if str(r.longrepr).startswith("skipped in CI")])
        extra = f" ({n} skip{'s' if n > 1 else ''} failed: in CI no test may skip)" if n else ""
        reporter.write_line(f"skipped: {skipped}{extra}")


class WorkerTimes:
    """Under xdist, each worker's busy seconds and test count at the end of the run: how well the
    processes of `make test` share the work."""

    def __init__(self) -> None:
        self.busy: dict[str, list[float]] = {}

    def pytest_runtest_logreport(self, report):
        node = getattr(report, "node", None)
        if node is not None:
            entry = self.busy.setdefault(node.gateway.id, [0.0, 0])
            entry[0] += report.duration
            entry[1] += report.when == "call"

    def pytest_terminal_summary(self, terminalreporter):
        for worker, (seconds, tests) in sorted(self.busy.items()):
            terminalreporter.write_line(f"worker {worker}: {tests} tests, busy {seconds / 60:.1f} min")


def pytest_configure(config):
    # Registered as a plugin, not as this conftest's own hooks: those would only see the tests under
    # tests/, and the notebooks nbval collects in notebooks/ must not skip in CI either.
    if not config.pluginmanager.has_plugin("dataops-skips-fail-in-ci"):
        config.pluginmanager.register(SkipsFailInCI(), "dataops-skips-fail-in-ci")
    if not config.pluginmanager.has_plugin("dataops-worker-times"):
        config.pluginmanager.register(WorkerTimes(), "dataops-worker-times")
