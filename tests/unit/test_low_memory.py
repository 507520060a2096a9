"""The low-memory mode (``DATAOPS_LOW_MEMORY=1``, ``dataops up --low-memory``): what each component
is started with, read from the command lines and configuration files, nothing started (but the
simulator, which starts in a second)."""

from __future__ import annotations

import argparse
import re
import socket
import subprocess
import sys
from types import SimpleNamespace

import pytest
import yaml

from dataops import engine, load_settings, subproc
from dataops import stack as stack_mod
from dataops.config import LOW_MEMORY_SIZES, PORTS
from dataops.flink import engine as flink_engine
from dataops.flink import job as flink_job
from dataops.kafka import engine as kafka_engine
from dataops.kafka_connect import engine as connect_engine
from dataops.source import engine as source_engine
from dataops.stack import cli as stack_cli

pytestmark = pytest.mark.unit

MB = {"k": 1 / 1024, "m": 1, "g": 1024}
C1_ONLY = {"TieredStopAtLevel": "1", "CICompilerCount": "1", "ReservedCodeCacheSize": "32m"}  # the JVMs that steer


def mb(size: str) -> float:
    """``"48m"`` → 48.0 (Flink's and Java's size suffixes)."""
    value, unit = re.fullmatch(r"(\d+)([kmg])", size.lower()).groups()
    return int(value) * MB[unit]


@pytest.fixture()
def modes(tmp_path, monkeypatch):
    """Settings of both modes on private state folders; Java and its child processes faked."""
    for var in [v for v in __import__("os").environ if v.startswith("DATAOPS_")]:
        monkeypatch.delenv(var)
    monkeypatch.setattr(engine, "require_java", lambda: "java")
    monkeypatch.setattr(flink_engine, "require_java", lambda: "java")
    built = {}
    for name, low in (("normal", False), ("low", True)):
        s = load_settings(env_file=tmp_path / "none.env", state_dir=tmp_path / name, low_memory=low)
        s.paths.make()
        (s.paths.data / "kafka").mkdir(parents=True, exist_ok=True)
        (s.paths.data / "kafka" / "meta.properties").write_text("formatted\n")  # no StorageTool run
        built[name] = s
    return built


def flags(cmd: list[str]) -> dict[str, str]:
    """The ``-Xmx…``, ``-Xms…`` and ``-XX:…=…`` options of a command line, the last one winning (as in Java)."""
    out = {}
    for arg in cmd:
        if m := re.fullmatch(r"-(Xm[xs])(\S+)", arg):
            out[m.group(1)] = m.group(2)
        elif m := re.fullmatch(r"-XX:(\w+)=(\S+)", arg):
            out[m.group(1)] = m.group(2)
    return out


def test_low_memory_takes_the_small_sizes_unless_one_is_set(tmp_path, monkeypatch):
    for var in [v for v in __import__("os").environ if v.startswith("DATAOPS_")]:
        monkeypatch.delenv(var)
    normal = load_settings(env_file=tmp_path / "none.env")
    assert not normal.low_memory and normal.kafka_heap == "512m" and normal.flink_taskmanager_memory == "1024m"
    monkeypatch.setenv("DATAOPS_LOW_MEMORY", "1")
    monkeypatch.setenv("DATAOPS_CONNECT_HEAP", "300m")
    low = load_settings(env_file=tmp_path / "none.env")
    assert low.low_memory and low.connect_heap == "300m"  # set explicitly: kept
    for name, size in LOW_MEMORY_SIZES.items():
        if name != "connect_heap":
            assert getattr(low, name) == size
            assert mb(size) < mb(getattr(normal, name))
    assert low.as_env()["DATAOPS_LOW_MEMORY"] == "True"  # the stack's children see the mode


def test_kafka_and_connect_get_small_heaps_and_lean_flags(modes):
    for component, build in (("kafka", kafka_engine._kafka_cmd), ("connect", connect_engine._connect_cmd)):
        normal = flags(build(modes["normal"], modes["normal"].paths))
        low = flags(build(modes["low"], modes["low"].paths))
        assert normal == {"Xmx": "512m", "Xms": "64m", **({} if component == "connect" else C1_ONLY)}, component
        assert mb(low["Xmx"]) <= 192 and low["Xms"] == "16m", component
        assert low["TieredStopAtLevel"] == "1" and mb(low["ReservedCodeCacheSize"]) <= 32
        assert mb(low["MaxMetaspaceSize"]) <= 192 and mb(low["MaxDirectMemorySize"]) <= 64
        assert (low["MinHeapFreeRatio"], low["MaxHeapFreeRatio"]) == ("10", "30")
    kafka_conf = {s: (modes[s].paths.conf / "kafka.properties").read_text() for s in modes}
    assert "log.cleaner.dedupe.buffer.size" not in kafka_conf["normal"]  # Kafka's 128 MB
    dedupe = re.search(r"log.cleaner.dedupe.buffer.size=(\d+)", kafka_conf["low"])
    assert dedupe and int(dedupe.group(1)) <= 16 * 2**20


def test_flink_gets_a_small_memory_split_and_lean_flags(modes, monkeypatch):
    fake = SimpleNamespace(returncode=0, stdout="BASH_JAVA_UTILS_EXEC_RESULT:-Xmx100 -Xms100\nBASH_JAVA_UTILS_EXEC_RESULT:-D a=b\n")
    monkeypatch.setattr(subproc.subprocess, "run", lambda cmd, **kw: fake)
    for kind in ("jobmanager", "taskmanager"):
        normal_cmd = flink_engine._flink_cmd(kind)(modes["normal"], modes["normal"].paths)
        low_cmd = flink_engine._flink_cmd(kind)(modes["low"], modes["low"].paths)
        jit = {} if kind == "taskmanager" else C1_ONLY  # the JVM that carries the rows keeps C2
        assert flags(normal_cmd) == {"Xmx": "100", "Xms": "100", **jit}  # Flink's own sizes, untouched
        low = flags(low_cmd)
        assert low["Xms"] == "16m" and low["TieredStopAtLevel"] == "1"  # after Flink's -Xms: it wins
        assert "-Dorg.apache.flink.shaded.netty4.io.netty.allocator.numDirectArenas=1" in low_cmd
        assert not any("netty" in arg for arg in normal_cmd)
    normal = yaml.safe_load((modes["normal"].paths.conf / "flink" / "config.yaml").read_text())
    low = yaml.safe_load((modes["low"].paths.conf / "flink" / "config.yaml").read_text())
    assert normal["taskmanager"]["memory"]["process"]["size"] == "1024m"
    assert "network" not in normal["taskmanager"]["memory"]
    tm, jm = low["taskmanager"]["memory"], low["jobmanager"]["memory"]
    assert mb(tm["process"]["size"]) <= 448 and mb(jm["process"]["size"]) <= 384
    assert mb(tm["network"]["max"]) <= 16 and mb(tm["jvm-overhead"]["max"]) <= 64 and mb(tm["jvm-metaspace"]["size"]) <= 128
    # Flink's model: what the fixed parts leave is the task heap (the jobmanager's heap): it must be there.
    task_heap = mb(tm["process"]["size"]) - sum(
        mb(size) for size in (tm["jvm-metaspace"]["size"], tm["jvm-overhead"]["max"], tm["framework"]["heap"]["size"],
                              tm["framework"]["off-heap"]["size"], tm["network"]["max"], tm["managed"]["size"])
    )  # fmt: skip
    jm_heap = mb(jm["process"]["size"]) - sum(
        mb(size) for size in (jm["jvm-metaspace"]["size"], jm["jvm-overhead"]["max"], jm["off-heap"]["size"])
    )
    assert 64 <= task_heap <= 160 and 64 <= jm_heap <= 160


def test_the_simulator_starts_lean_and_the_mode_shows_in_status(modes, tmp_path):
    # Ports of its own: neither a developer's stack (default ports) nor the suite's (+700) may hold them.
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        ports = {f"{name}_port": port + 1900 for name, port in PORTS.items()} | {"simulator_port": free.getsockname()[1]}
    s = load_settings(env_file=tmp_path / "none.env", state_dir=tmp_path / "sim", low_memory=True, **ports)
    normal_cmd = source_engine._simulator_cmd(modes["normal"], modes["normal"].paths)
    assert normal_cmd[1:3] == ["-m", "dataops.simulator"]
    stack = stack_mod.Stack(s)
    try:
        stack.up(["simulator"], progress=False)
        proc = stack.process("simulator")
        assert proc is not None and proc.cmdline()[1] == "-c"
        assert proc.environ().get("MALLOC_ARENA_MAX") == "2"
        assert proc.memory_info().rss < 80 * 2**20  # the whole library would be ~140 MB
        status = stack.status().set_index("component")
        assert status.loc["simulator", "memory"] == "low" and status.loc["kafka", "memory"] == ""
    finally:
        stack.down(progress=False)
    assert stack.process("simulator") is None


def test_normal_mode_adds_c1_only_and_full_jit_no_flag_and_no_environment(modes, tmp_path):
    assert engine.stack_jvm_flags(modes["normal"], "128m", "64m") == list(engine.C1_ONLY_JVM_FLAGS)
    assert engine.stack_jvm_flags(modes["normal"], "128m", "64m", hot=True) == []
    assert "-XX:TieredStopAtLevel=1" in engine.stack_jvm_flags(modes["low"], hot=True)  # low memory: C1 everywhere
    for low in (False, True):
        full = load_settings(env_file=tmp_path / "none.env", state_dir=tmp_path / "full", low_memory=low, full_jit=True)
        for hot in (False, True):
            assert not any("Tiered" in flag or "CICompiler" in flag for flag in engine.stack_jvm_flags(full, "128m", "64m", hot=hot))
        gateway = flink_job.submit_command(full)[1].get("JVM_ARGS", "").split()
        assert not any("Tiered" in flag or "CICompiler" in flag for flag in gateway)
        assert ("-Xms16m" in gateway) is low  # the low-memory mode's flags reach the gateway too
    # pyflink's gateway, which plans and submits the job and exits, compiles with C1 only
    assert flink_job.submit_command(modes["normal"])[1]["JVM_ARGS"].split() == list(engine.C1_ONLY_JVM_FLAGS)
    low_gateway = flink_job.submit_command(modes["low"])[1]
    assert low_gateway["JVM_ARGS"].split() == engine.stack_jvm_flags(modes["low"]) and low_gateway["MALLOC_ARENA_MAX"] == "2"
    assert engine.child_env(modes["normal"]) == {}
    assert engine.child_env(modes["low"]) == {"MALLOC_ARENA_MAX": "2"}


def test_up_help_shows_low_memory_and_the_flag_reaches_the_settings():
    out = subprocess.run([sys.executable, "-m", "dataops.cli", "up", "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "--low-memory" in out.stdout
    seen: list[dict[str, object]] = []

    class FakeStack:
        def component(self, name: str) -> None: ...

    class FakePipeline:
        settings = SimpleNamespace(low_memory=True)
        stack = FakeStack()

        def up(self, **kwargs: object) -> None: ...

        def status(self) -> None:
            return None

    def connect(**kwargs: object) -> FakePipeline:
        seen.append(kwargs)
        return FakePipeline()

    ctx = SimpleNamespace(connect=connect, print_frame=lambda df: None)
    ctx.pipeline = lambda args, **overrides: connect(profile=args.profile, **overrides)
    args = argparse.Namespace(profile=None, components=[], with_=[], low_memory=True, no_setup=False, ready_timeout=0)
    assert stack_cli.cmd_up(args, ctx) == 0
    args.low_memory = False
    stack_cli.cmd_up(args, ctx)
    assert seen == [{"profile": None, "low_memory": True}, {"profile": None}]  # no flag: the settings decide


def test_the_monitor_maintains_the_table_in_a_child_process_in_low_memory_mode(modes, monkeypatch, caplog):
    from dataops.monitor import service

    calls = []
    answers = iter([SimpleNamespace(returncode=0, stdout=" paso  resultado\n compactación  22 → 1\n", stderr=""),
                    SimpleNamespace(returncode=2, stdout="", stderr="error: the catalog is busy\n")])  # fmt: skip
    monkeypatch.setattr(subproc.subprocess, "run", lambda cmd, **kw: calls.append((cmd, kw["env"])) or next(answers))
    with caplog.at_level("INFO", logger=service.__name__):
        service._maintain_in_child(modes["low"])
    cmd, env = calls[0]
    assert cmd[1:] == ["-m", "dataops.cli", "maintain"]
    assert env["DATAOPS_LOW_MEMORY"] == "True" and env["DATAOPS_STATE_DIR"] == str(modes["low"].state_dir)
    assert "compactación 22 → 1" in caplog.text
    with pytest.raises(RuntimeError, match="^error: the catalog is busy$"):
        service._maintain_in_child(modes["low"])
