"""Stack manager and CLI behaviour that needs no running service."""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time

import psutil
import pytest

from dataops import PortInUseError, ServiceUnavailableError, ToolMissingError, load_settings
from dataops import stack as stack_mod
from dataops.errors import StackError
from dataops.kafka.layer import KafkaLayer
from dataops import subproc
from dataops import engine
from dataops.kafka import engine as kafka_engine
from tests.ports import free_port as _free_port

pytestmark = pytest.mark.unit


@pytest.fixture()
def isolated(tmp_path):
    """Settings on free ports and a private state folder: nothing collides with a real stack."""
    return load_settings(
        env_file=tmp_path / "none.env",
        state_dir=tmp_path / "state",
        simulator_port=_free_port(),
        kafka_port=_free_port(),
        kafka_controller_port=_free_port(),
        connect_port=_free_port(),
        flink_port=_free_port(),
        flink_rpc_port=_free_port(),
        flink_blob_port=_free_port(),
        flink_taskmanager_port=_free_port(),
        monitor_port=_free_port(),
        prometheus_port=_free_port(),
        schema_registry_port=_free_port(),
        schema_registry_management_port=_free_port(),
        kafka_sasl_port=_free_port(),
        kafka_sasl_controller_port=_free_port(),
        iceberg_rest_port=_free_port(),
        tableflow_port=_free_port(),
    )


def test_port_in_use_is_one_line_naming_port_and_component(isolated):
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", isolated.simulator_port))
        blocker.listen()
        with pytest.raises(PortInUseError) as info:
            stack_mod.Stack(isolated).up(["simulator"], progress=False)
    msg = str(info.value)
    assert str(isolated.simulator_port) in msg and "simulator" in msg and "\n" not in msg


def test_status_with_everything_down_is_a_table_not_an_error(isolated):
    status = stack_mod.Stack(isolated).status()
    assert list(status["component"]) == ["simulator", "kafka", "connect", "flink-jobmanager", "flink-taskmanager", "monitor"]
    assert (status["health"] == "down").all()
    assert status["pid"].isna().all()


def test_broker_down_gives_service_unavailable(isolated):
    with pytest.raises(ServiceUnavailableError, match="Kafka no responde.*make up"):
        KafkaLayer(isolated).latest("crypto-prices")


def test_missing_java_is_a_clear_error(monkeypatch, tmp_path):
    from dataops import toolchain

    monkeypatch.setattr(toolchain, "candidates", lambda: [])
    with pytest.raises(ToolMissingError, match="no se encontró Java 17–21.*make venv.*DATAOPS_JAVA_HOME"):
        stack_mod.require_java()
    with pytest.raises(ToolMissingError, match="no se encontró Java 17–21"):
        stack_mod.install_artifacts(stack_mod.StatePaths(tmp_path / "state"))


def test_down_never_touches_a_process_it_did_not_start(isolated):
    # a pid file pointing at a live process that is not ours (start time differs)
    st = stack_mod.Stack(isolated)
    st.paths.make()
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        st.paths.pid_file("simulator").write_text(f'{{"pid": {other.pid}, "create_time": 1.0, "started_at": 1.0}}')
        assert st.process("simulator") is None
        assert st.down(progress=False) == []
        assert other.poll() is None
    finally:
        other.kill()


def _wait_status(procs, wanted, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all((p.status() == psutil.STATUS_STOPPED) == (wanted == psutil.STATUS_STOPPED) for p in procs):
            return True
        time.sleep(0.05)
    return False


def test_pause_freezes_each_component_with_its_children_and_resume_thaws_them(isolated):
    """A sleeping laptop: SIGSTOP to every process group the stack started (a child too), SIGCONT
    after; a process the stack did not start is never signalled."""
    st = stack_mod.Stack(isolated)
    st.paths.make()
    child = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)"
    ours = subprocess.Popen([sys.executable, "-c", child], start_new_session=True)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    try:
        rec = {"pid": ours.pid, "create_time": psutil.Process(ours.pid).create_time(), "started_at": 1.0}
        st.paths.pid_file("simulator").write_text(json.dumps(rec))
        st.paths.pid_file("kafka").write_text(json.dumps({"pid": other.pid, "create_time": 1.0, "started_at": 1.0}))
        leader = psutil.Process(ours.pid)
        deadline = time.monotonic() + 10
        while not leader.children() and time.monotonic() < deadline:
            time.sleep(0.05)
        group = [leader, *leader.children()]
        assert len(group) == 2
        assert st.pause() == ["simulator"]
        assert _wait_status(group, psutil.STATUS_STOPPED)
        assert psutil.Process(other.pid).status() != psutil.STATUS_STOPPED
        assert st.resume() == ["simulator"]
        assert _wait_status(group, psutil.STATUS_SLEEPING)
        assert not (st.paths.run / "frozen.json").exists()
        # frozen, then no longer recognised by its record (a clock that moved, a rewritten pid file):
        # resume still thaws the group pause wrote down, or that layer would stay frozen for good
        assert st.pause() == ["simulator"] and _wait_status(group, psutil.STATUS_STOPPED)
        st.paths.pid_file("simulator").write_text(json.dumps({**rec, "create_time": 1.0}))
        assert st.process("simulator") is None
        st.resume()
        assert _wait_status(group, psutil.STATUS_SLEEPING)
        assert not (st.paths.run / "frozen.json").exists()
    finally:
        for proc in (ours, other):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()


def test_unknown_component_lists_the_known_ones(isolated):
    with pytest.raises(StackError, match="componente desconocido 'zookeeper'.*simulator, kafka, connect, flink-jobmanager"):
        stack_mod.Stack(isolated).logs("zookeeper")


def test_cli_help_on_every_command():
    from dataops.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    assert {"up", "down", "status", "alerts", "quality", "scenario", "notebooks"} <= set(commands)
    for cmd in commands:
        with pytest.raises(SystemExit) as exit_info:
            parser.parse_args([cmd, "--help"])
        assert exit_info.value.code == 0


def test_cli_error_is_one_line_with_exit_2(tmp_path, capsys, monkeypatch):
    from dataops.cli import main

    env = tmp_path / ".env"
    env.write_text("garbage line\n")
    monkeypatch.setenv("DATAOPS_ENV_FILE", str(env))
    assert main(["status"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "línea 1" in err


def test_cli_scenario_backtest_offline(capsys):
    from dataops.cli import main

    assert main(["scenario"]) == 0
    assert "frozen_prices" in capsys.readouterr().out
    assert main(["scenario", "frozen_prices"]) == 0
    lines = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()[1:]}
    assert lines["frozen_prices"][4] == "1" and lines["stale_data"][4] == "1"  # detected
    assert main(["scenario", "nope"]) == 2
    assert "escenario desconocido 'nope'" in capsys.readouterr().err


def test_cli_bad_rules_or_suite_file_is_one_line(tmp_path, capsys):
    from dataops.cli import main

    bad = tmp_path / "rules.yaml"
    bad.write_text("rules:\n  - name: a\n    metric: x\n    value: lots\n    severity: LOW\n")
    assert main(["alerts", "--rules", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "umbral no válido 'lots'" in err and "\n" not in err
    assert main(["quality", "--suite", str(tmp_path / "missing.yaml")]) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_kafka_cluster_ids_never_start_with_a_dash(isolated, monkeypatch):
    # A leading '-' makes kafka-storage read the id as an option (seen in CI once in 64 runs).
    ids = iter([b"\xfb" + bytes(15), bytes(16)])  # the first encodes to '-w…'
    monkeypatch.setattr(kafka_engine.uuid, "uuid4", lambda: type("U", (), {"bytes": next(ids)})())
    seen = []
    monkeypatch.setattr(subproc.subprocess, "run", lambda cmd, **kw: seen.append(cmd) or type("R", (), {"returncode": 0, "stdout": "", "stderr": ""})())
    monkeypatch.setattr(engine, "require_java", lambda: "java")
    st = stack_mod.Stack(isolated)
    st.paths.make()
    kafka_engine._kafka_cmd(isolated, st.paths)
    cluster_id = seen[0][seen[0].index("-t") + 1]
    assert not cluster_id.startswith("-") and len(cluster_id) == 22


def test_prometheus_is_optional_and_missing_it_is_one_line_on_how_to_get_it(isolated, monkeypatch):
    import shutil

    from dataops.stack import prometheus

    stack = stack_mod.Stack(isolated)
    assert "prometheus" not in stack.names and stack.optional == ["prometheus", "schema-registry", "kafka-sasl", "iceberg-rest", "tableflow", "connect-cloud", "kafka-class", "kafka-class-2", "class-connect", "class-front", "class-flink-jobmanager", "class-flink-taskmanager", "class-flink-taskmanager-2", "class-hub", "class-simulators", "class-monitors"]
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ToolMissingError, match="apt-get install prometheus") as missing:
        prometheus.binary()
    assert "\n" not in str(missing.value)


def test_prometheus_runs_with_the_exported_rules_and_reloads_them(isolated):
    """`up prometheus` runs the real binary with the exported rules; a reload swaps them; `down` stops it."""
    import shutil

    from dataops import alerts
    from dataops.stack import prometheus

    stack = stack_mod.Stack(isolated)
    if shutil.which("prometheus") is None:
        pytest.skip("needs the prometheus server (Debian's prometheus package; .ci/run installs it)")
    try:
        stack.up(["prometheus"], progress=False)
        assert "prometheus" in set(stack.status()["component"])
        config = (prometheus.folder(isolated.paths) / "prometheus.yml").read_text()
        assert f"127.0.0.1:{isolated.monitor_port}" in config
        assert "alert: pipeline_down" in (prometheus.folder(isolated.paths) / "rules.yml").read_text()
        eth = alerts.parse_rules("- {name: ETH_CRASH, metric: price_change_24h, labels: {coin: ethereum}, op: '<', value: -15, severity: HIGH}")
        prometheus.load_rules(isolated, eth)
        import requests

        groups = requests.get(f"{prometheus.url(isolated)}/api/v1/rules", timeout=5).json()["data"]["groups"]
        assert [r["name"] for g in groups for r in g["rules"]] == ["ETH_CRASH"]
        assert prometheus.firing(isolated).empty  # nothing scraped: nothing fires
    finally:
        stack.down(progress=False)
    assert "prometheus" not in set(stack.status()["component"])


def test_java_properties_keep_a_path_with_spaces_and_accents_as_java_reads_them():
    """Java reads .properties as ISO-8859-1 with \\uXXXX escapes: decoded that way, the path is intact."""
    from dataops.engine import properties

    path = "/home/José Pérez/curso dataops/.stack/plugins"
    text = properties({"plugin.path": path, "emoji": "x😀"})
    assert text.isascii()
    decoded = text.encode("latin-1").decode("unicode_escape").encode("utf-16", "surrogatepass").decode("utf-16")
    assert decoded.splitlines() == [f"plugin.path={path}", "emoji=x😀"]
    assert properties({"a": "plain"}) == "a=plain\n"


def test_up_starts_side_by_side_what_needs_nothing_else_and_waits_for_what_comes_after(isolated):
    """Kafka, the simulator and Flink's jobmanager start at once; Connect once Kafka answers; a component
    with no ``after`` once every one before it does. Fake components: a process that answers on its
    port ``delay`` seconds after it starts."""
    st = stack_mod.Stack(isolated)

    def fake(name: str, delay: float, after: tuple[str, ...] | None) -> engine.Component:
        port = _free_port()
        code = f"import socket, time; time.sleep({delay}); s = socket.socket(); s.bind(('127.0.0.1', {port})); s.listen(); time.sleep(60)"
        return engine.Component(name, port, (port,), f"127.0.0.1:{port}", lambda s, p: [sys.executable, "-c", code],
                                lambda s: engine.port_open("127.0.0.1", port), start_timeout=20, after=after)  # fmt: skip

    fakes = [fake("kafka", 1.5, ()), fake("simulator", 1.5, ()), fake("connect", 0.2, ("kafka",)), fake("monitor", 0.2, None)]
    st._components = {c.name: c for c in fakes}
    try:
        t0 = time.time()
        st.up(progress=False)
        took = time.time() - t0
        started = {c.name: json.loads(st.paths.pid_file(c.name).read_text())["started_at"] for c in fakes}
    finally:
        st.down(progress=False)
    assert abs(started["kafka"] - started["simulator"]) < 0.5, started  # side by side
    assert started["connect"] - started["kafka"] >= 1.5, started  # after Kafka answered
    assert started["monitor"] - started["connect"] >= 0.2, started  # after every one before it
    assert took < 1.5 + 1.5 + 0.2 + 0.2, took  # less than one after the other


def test_a_component_is_still_its_own_after_the_wall_clock_steps(isolated):
    """psutil's create_time follows the wall clock (boot time + ticks): a clock stepped by seconds
    (NTP, a sandbox's clock) must not disown a running component; its start in ticks since boot decides."""
    st = stack_mod.Stack(isolated)
    st.paths.make()
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True)
    try:
        ticks = stack_mod.supervisor.start_ticks(child.pid)
        assert ticks is not None  # Linux: /proc
        stepped = {"pid": child.pid, "create_time": psutil.Process(child.pid).create_time() + 5.0, "started_at": 1.0}
        st.paths.pid_file("simulator").write_text(json.dumps({**stepped, "start_ticks": ticks}))
        assert st.process("simulator") is not None
        st.paths.pid_file("simulator").write_text(json.dumps({**stepped, "start_ticks": ticks + 1}))  # another process
        assert st.process("simulator") is None
    finally:
        child.kill()
        child.wait()


def test_the_tests_ports_never_overlap_within_a_process():
    """A fixture picks all its servers' ports before any listens: a span given twice would collide."""
    taken: set[int] = set()
    for _ in range(300):
        first = _free_port(4)
        span = set(range(first, first + 4))
        assert not span & taken, sorted(span & taken)
        taken |= span
