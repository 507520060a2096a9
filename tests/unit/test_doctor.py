"""``dataops doctor`` / ``p.doctor()``: each failure a learner's machine can have, produced (for
real where it can be: a socket on the port, a state folder under a file, a path with spaces and
accents, a missing pack folder), is its own ✘ row with the fix, and leaves the other rows alone."""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from dataops import PortInUseError, doctor, load_settings, toolchain
from dataops.cli import main
from dataops.cli_registry import CliContext
from dataops.config import PORTS, PROJECT_ROOT
from dataops.doctor import checks, report
from dataops.engine import properties
from dataops.pipeline import Pipeline
from dataops.stack import Stack
from tests.ports import free_port

pytestmark = pytest.mark.unit

GB = 2**30
ROOT = Path(__file__).resolve().parents[2]
REAL_REACHABLE = report.reachable  # before any test replaces it


def fake_jdk(root: Path, version: str) -> Path:
    """A JAVA_HOME whose ``release`` file says ``version`` (its ``java`` is never started)."""
    (root / "bin").mkdir(parents=True)
    java = root / "bin" / "java"
    java.write_text("#!/bin/sh\nexit 1\n")
    java.chmod(java.stat().st_mode | stat.S_IXUSR)
    (root / "release").write_text(f'JAVA_VERSION="{version}"\n')
    return root


@pytest.fixture()
def machine(monkeypatch, tmp_path):
    """A healthy machine: every port free (moved by ``DATAOPS_<NAME>_PORT``), a state folder in
    ``tmp_path``, 16 GB of memory, 100 GB of disk, the registries answering, a UTF-8 locale, the
    Maven Wrapper. A test breaks one thing and calls ``machine()`` for settings and a table."""
    with contextlib.ExitStack() as held:  # every socket held until all are chosen: 16 different ports
        for key in PORTS:
            sock = held.enter_context(socket.socket())
            sock.bind(("127.0.0.1", 0))
            monkeypatch.setenv(f"DATAOPS_{key.upper()}_PORT", str(sock.getsockname()[1]))
    monkeypatch.setenv("DATAOPS_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("DATAOPS_ENV_FILE", os.devnull)
    monkeypatch.delenv("DATAOPS_PACK", raising=False)
    monkeypatch.setattr(report, "memory", lambda: (16 * GB, 10 * GB))
    monkeypatch.setattr(report, "disk_free", lambda folder: 100 * GB)
    monkeypatch.setattr(report, "reachable", lambda host, port, timeout=1.5: True)
    monkeypatch.setattr(report, "codeset", lambda: "UTF-8")
    monkeypatch.setattr(report, "_maven", lambda: toolchain.Maven(["bash", "mvnw"], "3.9.16", "Maven Wrapper (./mvnw)"))

    def run():
        settings = load_settings()
        return settings, doctor.diagnose(settings, Stack(settings))

    return run


def states(table) -> dict[str, str]:
    return dict(zip(table["comprobación"], table["estado"]))


def only_failure(table, baseline) -> dict:
    """The one row whose state changed from the healthy baseline (every other one is the same)."""
    before, after = states(baseline), states(table)
    assert before.keys() == after.keys()
    changed = [name for name in after if after[name] != before[name]]
    assert len(changed) == 1, changed
    row = table[table["comprobación"] == changed[0]].iloc[0].to_dict()
    assert row["estado"] == "✘" and not table.attrs["ok"] and row["cómo arreglarlo"]
    return row


def test_a_healthy_machine_is_every_row_ticked(machine):
    settings, table = machine()
    assert list(table.columns) == ["comprobación", "estado", "encontrado", "cómo arreglarlo"]
    assert table.attrs["ok"] and set(table["estado"]) == {"✔"}, table[table["estado"] != "✔"].to_dict("records")
    ports = {getattr(settings, f"{key}_port") for key in PORTS}
    assert {int(re.search(r"puerto (\d+)", n).group(1)) for n in table["comprobación"] if n.startswith("puerto")} == ports
    assert {"Python", "Java", "Maven", "memoria", "disco libre"} <= set(table["comprobación"])


@pytest.mark.parametrize("found", [None, "11.0.21"], ids=["no-java", "java-11"])
def test_no_java_that_fits(machine, monkeypatch, tmp_path, found):
    """No JAVA_HOME or one with Java 11, nothing on PATH, and the PyPI runtime taken away."""
    _, baseline = machine()
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv("DATAOPS_JAVA_HOME", raising=False)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    if found:
        monkeypatch.setenv("JAVA_HOME", str(fake_jdk(tmp_path / "jdk", found)))
    monkeypatch.setattr(toolchain, "_pypi_java", lambda: None)
    _, table = machine()
    java = table[table["comprobación"] == "Java"].iloc[0]
    assert java["estado"] == "✘" and "make venv" in java["cómo arreglarlo"] and "DATAOPS_JAVA_HOME" in java["cómo arreglarlo"]
    assert (f"{found} (JAVA_HOME)" in java["encontrado"]) if found else "17–21" in java["encontrado"]
    maven = table[table["comprobación"] == "Maven"].iloc[0]
    assert maven["estado"] == "✘" and "Java" in maven["cómo arreglarlo"]  # Maven runs on Java: it says so
    rest = {n: s for n, s in states(table).items() if n not in ("Java", "Maven")}
    assert rest == {n: s for n, s in states(baseline).items() if n not in ("Java", "Maven")}


@pytest.mark.parametrize("total, available", [(7.7 * GB, 5 * GB), (16 * GB, 1.5 * GB)], ids=["8gb-laptop", "little-free"])
def test_too_little_memory(machine, monkeypatch, total, available):
    _, baseline = machine()
    monkeypatch.setattr(report, "memory", lambda: (int(total), int(available)))
    row = only_failure(machine()[1], baseline)
    assert row["comprobación"] == "memoria" and "DATAOPS_LOW_MEMORY=1" in row["cómo arreglarlo"]
    assert "pestañas" in row["cómo arreglarlo"]


def test_memory_the_running_pipeline_holds_counts_as_its_own():
    assert not checks.memory_check(16 * GB, 2 * GB).ok
    assert checks.memory_check(16 * GB, 2 * GB, pipeline=2 * GB).ok


def test_a_port_taken_by_another_program(machine):
    """A real listening socket on the simulator's port (moved there by DATAOPS_SIMULATOR_PORT):
    ✘ with the variable and a free port to move it to; ``up`` refuses the same port."""
    settings, baseline = machine()
    port = settings.simulator_port
    with socket.socket() as other:
        other.bind(("127.0.0.1", port))
        other.listen()
        _, table = machine()
        row = only_failure(table, baseline)
        assert row["comprobación"] == f"puerto {port} (simulator)" and "otro programa" in row["encontrado"]
        moved = re.search(r"DATAOPS_SIMULATOR_PORT=(\d+) a \.env", row["cómo arreglarlo"])
        assert moved, row["cómo arreglarlo"]
        with pytest.raises(PortInUseError) as refused:
            Stack(settings).up(["simulator"], progress=False)
        assert refused.value.port == port
    with socket.socket() as probe:  # the port offered is free
        probe.bind(("127.0.0.1", int(moved.group(1))))


def test_a_port_held_by_the_pipeline_itself_is_fine(machine):
    """A real process listening on Connect's port, recorded in the state folder as the stack
    records the components it starts: the row is ✔, "en uso por el pipeline"."""
    import psutil

    settings, _ = machine()
    port = settings.connect_port
    code = f"import socket,time\ns=socket.socket();s.bind(('127.0.0.1',{port}));s.listen();time.sleep(60)"
    child = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        settings.paths.make()
        record = {"pid": child.pid, "create_time": psutil.Process(child.pid).create_time(), "started_at": time.time()}
        settings.paths.pid_file("connect").write_text(json.dumps(record))
        _, table = machine()
        row = table[table["comprobación"] == f"puerto {port} (connect)"].iloc[0]
        assert row["estado"] == "✔" and f"en uso por el pipeline (connect, pid {child.pid})" == row["encontrado"]
    finally:
        child.kill()
        child.wait()


def test_the_optional_prometheus_port_taken_is_only_a_note(machine):
    settings, baseline = machine()
    with socket.socket() as other:
        other.bind(("127.0.0.1", settings.prometheus_port))
        other.listen()
        _, table = machine()
    row = table[table["comprobación"] == f"puerto {settings.prometheus_port} (prometheus)"].iloc[0]
    assert row["estado"] == "✔" and "--with prometheus" in row["encontrado"] and "DATAOPS_PROMETHEUS_PORT=" in row["cómo arreglarlo"]
    assert states(table) == states(baseline)


def test_two_settings_on_one_port_and_a_port_out_of_range(machine, monkeypatch):
    settings, _ = machine()
    monkeypatch.setenv("DATAOPS_MONITOR_PORT", str(settings.connect_port))
    monkeypatch.setenv("DATAOPS_SIMULATOR_PORT", "70000")
    _, table = machine()
    bad = table[table["estado"] == "✘"].set_index("comprobación")["cómo arreglarlo"].to_dict()
    assert set(bad) == {f"puerto {settings.connect_port} (connect)", f"puerto {settings.connect_port} (monitor)", "puerto 70000 (simulator)"}
    assert "DATAOPS_MONITOR_PORT=" in bad[f"puerto {settings.connect_port} (monitor)"]
    assert "DATAOPS_SIMULATOR_PORT=" in bad["puerto 70000 (simulator)"]


def java_properties(data: bytes) -> dict[str, str]:
    """What ``java.util.Properties.load(InputStream)`` reads (Kafka's and Connect's way): ISO-8859-1,
    ``\\uXXXX`` and backslash escapes; one ``key=value`` per line (the files written here)."""
    out = {}
    for line in data.decode("iso-8859-1").splitlines():
        if not line.strip() or line.lstrip().startswith(("#", "!")):
            continue
        key, _, value = line.partition("=")
        value = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), value.lstrip())
        value = re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "r": "\r", "f": "\f"}.get(m.group(1), m.group(1)), value)
        out[key.strip()] = value.encode("utf-16", "surrogatepass").decode("utf-16")
    return out


def test_the_properties_reader_reads_as_java_does():
    assert java_properties("k=José\n".encode()) == {"k": "JosÃ©"}  # raw UTF-8: Java's mojibake, the old bug
    for value in ("/home/José Pérez/mi carpeta", " leading", "back\\slash", "emoji 🙂 ñ", "tab\there"):
        assert java_properties(properties({"k": value}).encode("ascii")) == {"k": value}


def test_a_path_with_spaces_and_accents_works_end_to_end(machine, monkeypatch, tmp_path):
    """The state folder in ``José Pérez/mi curso``: the row is ✔ because the files the stack writes
    for that folder read back as that folder (Kafka's and Connect's properties as Java reads them,
    Flink's checkpoint locations, the Iceberg warehouse), and an Iceberg table made, written and
    read there by pyiceberg and DuckDB stays inside it."""
    import datetime as dt

    import pyarrow as pa

    from dataops.duck.layer import DuckLayer
    from dataops.flink.conf import flink_conf_dir
    from dataops.flink.job import job_config
    from dataops.iceberg.layer import IcebergLayer
    from dataops.kafka_connect.engine import _connect_cmd
    from dataops.kafka.engine import _kafka_cmd

    _, baseline = machine()
    home = tmp_path / "José Pérez" / "mi curso"
    state = home / ".stack"
    monkeypatch.setenv("DATAOPS_STATE_DIR", str(state))
    settings, table = machine()
    assert states(table) == states(baseline)
    row = table[table["comprobación"] == "rutas (espacios, acentos)"].iloc[0]
    assert row["estado"] == "✔" and "espacios" in row["encontrado"] and "acentos" in row["encontrado"]

    paths = settings.paths
    paths.make()
    (paths.data / "kafka").mkdir(parents=True)
    (paths.data / "kafka" / "meta.properties").write_text("")  # formatted already: no JVM started
    monkeypatch.setattr("dataops.engine.require_java", lambda: "java")
    kafka_cmd = _kafka_cmd(settings, paths)
    _connect_cmd(settings, paths)
    assert java_properties((paths.conf / "kafka.properties").read_bytes())["log.dirs"] == str(paths.data / "kafka")
    assert java_properties((paths.conf / "connect.properties").read_bytes())["plugin.path"] == str(paths.plugins)
    assert kafka_cmd[kafka_cmd.index("-cp") + 1] == f"{paths.lib}/*"  # one argument: no shell splits it

    flink = yaml.safe_load((flink_conf_dir(settings, paths) / "config.yaml").read_text(encoding="utf-8"))
    # Flink's Path("file://…") takes what follows the scheme as the path, quoting it itself.
    for location in (flink["execution"]["checkpointing"]["dir"], job_config(settings)["execution.checkpointing.dir"]):
        assert location == f"file://{paths.flink_checkpoints}"
    iceberg = IcebergLayer(settings)
    assert iceberg.java_catalog_config()["iceberg.catalog.warehouse"] == f"file://{iceberg.warehouse}"
    assert iceberg.java_catalog_config()["iceberg.catalog.uri"] == f"jdbc:sqlite:{iceberg.catalog_file}"

    assert iceberg.ensure_table() == "created"
    t = iceberg.table()
    schema = t.schema().as_arrow()
    now = dt.datetime.now(dt.timezone.utc)
    values = {"coin_id": "bitcoin", "event_time": now, "processed_at": now, "last_updated_at": 1}
    t.append(pa.Table.from_pylist([{f.name: values.get(f.name, 1.0) for f in schema}], schema=schema))
    assert DuckLayer(iceberg).query("SELECT count(*) AS n FROM crypto_prices_exploded")["n"].tolist() == [1]
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written and all(p.is_relative_to(home) for p in written), [p for p in written if not p.is_relative_to(home)]
    assert not [p for p in tmp_path.rglob("*") if "%" in p.name]


def test_accents_need_a_utf8_locale_and_some_characters_break_the_engines(tmp_path):
    accented = tmp_path / "José" / ".stack"
    bad = checks.paths_check(PROJECT_ROOT, accented, "ANSI_X3.4-1968", "linux")
    assert not bad.ok and "LC_ALL=C.UTF-8" in bad.fix and "DATAOPS_STATE_DIR" in bad.fix
    assert checks.paths_check(PROJECT_ROOT, accented, "ANSI_X3.4-1968", "darwin").ok  # macOS: always UTF-8
    assert checks.paths_check(PROJECT_ROOT, accented, "UTF-8", "linux").ok
    for name in ("a:b", "50%", "O'Brien", "why?", "back\\slash"):
        row = checks.paths_check(PROJECT_ROOT, tmp_path / name / ".stack", "UTF-8", "linux")
        assert not row.ok and "DATAOPS_STATE_DIR" in row.fix, name


# A real refusal to write in each case. A read-only folder stops every user but root (chmod does
# not bind root), so that case runs only for other users; a "folder" under a regular file stops
# root too: the system refuses to create anything below a file (ENOTDIR).
WRITE_BLOCKERS = ["under-a-file"] + (["read-only-folder"] if os.geteuid() != 0 else [])


@pytest.mark.parametrize("blocker", WRITE_BLOCKERS)
def test_no_write_permission_in_the_state_folder(machine, monkeypatch, tmp_path, blocker):
    _, baseline = machine()
    if blocker == "under-a-file":
        (tmp_path / "un-archivo").write_text("not a folder\n")
        state = tmp_path / "un-archivo" / ".stack"
    else:
        state = tmp_path / "solo-lectura"
        state.mkdir()
        state.chmod(0o555)
    monkeypatch.setenv("DATAOPS_STATE_DIR", str(state))
    try:
        row = only_failure(machine()[1], baseline)
    finally:
        if state.exists():
            state.chmod(0o755)
    assert row["comprobación"] == "carpeta de estado escribible"
    assert "DATAOPS_STATE_DIR" in row["cómo arreglarlo"]
    if blocker == "under-a-file":
        assert "un-archivo es un archivo" in row["encontrado"]
    else:
        assert f"chmod u+w '{state}'" in row["cómo arreglarlo"]


def test_disk_nearly_full(machine, monkeypatch):
    _, baseline = machine()
    monkeypatch.setattr(report, "disk_free", lambda folder: 300 * 2**20)
    row = only_failure(machine()[1], baseline)
    assert row["comprobación"] == "disco libre" and "DATAOPS_STATE_DIR" in row["cómo arreglarlo"]


def test_the_pack_folder(machine, monkeypatch, tmp_path):
    _, baseline = machine()
    monkeypatch.setenv("DATAOPS_PACK", str(tmp_path / "pack"))
    downloads = ("descargas (red)", "descargas (pack de la clase)")
    for made, ok in ((None, False), ("maven", False), ("wheels", True)):
        if made:
            (tmp_path / "pack" / made).mkdir(parents=True)
        _, table = machine()
        row = table[table["comprobación"] == "descargas (pack de la clase)"].iloc[0]
        assert (row["estado"] == "✔") is ok, made
        assert ok or "DATAOPS_PACK" in row["cómo arreglarlo"]
        assert {n: s for n, s in states(table).items() if n not in downloads} == \
            {n: s for n, s in states(baseline).items() if n not in downloads}


def test_no_network_and_nothing_downloaded(machine, monkeypatch):
    """The registries "are" a local port nothing listens on: the connection is refused, for real."""
    for proxy in ("https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(proxy, raising=False)
    _, baseline = machine()
    closed = free_port()
    monkeypatch.setattr(report, "REGISTRIES", {"PyPI (pypi.org:443)": ("127.0.0.1", closed)})
    monkeypatch.setattr(report, "reachable", REAL_REACHABLE)
    row = only_failure(machine()[1], baseline)
    assert row["comprobación"] == "descargas (red)" and "PyPI" in row["encontrado"] and "DATAOPS_PACK=" in row["cómo arreglarlo"]
    monkeypatch.setattr(report, "artifacts_present", lambda paths: True)
    _, table = machine()
    downloaded = table[table["comprobación"] == "descargas (red)"].iloc[0]
    assert downloaded["estado"] == "✔" and "no hace falta red" in downloaded["encontrado"]


def test_a_name_lookup_that_hangs_does_not_hold_the_doctor(machine, monkeypatch):
    _, baseline = machine()
    monkeypatch.setattr(report, "reachable", lambda host, port, timeout=1.5: time.sleep(30) or True)
    t0 = time.monotonic()
    row = only_failure(machine()[1], baseline)
    assert time.monotonic() - t0 < 3.0 and row["comprobación"] == "descargas (red)"


def test_python_version():
    assert checks.python_check((3, 11, 9), ">=3.11,<3.12").ok
    old = checks.python_check((3, 10, 4), ">=3.11,<3.12")
    assert not old.ok and "3.11" in old.fix and "make venv" in old.fix
    assert not checks.python_check((3, 12, 1), ">=3.11,<3.12").ok
    assert report.requires_python() == ">=3.11,<3.12"


def test_the_pipeline_gives_the_table_and_keeps_check_environment(machine):
    settings, _ = machine()
    p = Pipeline(settings)
    table = p.doctor()
    assert table.attrs["ok"] and list(table.columns) == list(doctor.COLUMNS)
    assert "..." not in table._repr_html_()  # long fixes are shown whole in a notebook
    assert list(p.check_environment().columns) == ["check", "found", "ok", "if not ok"]


def test_cli_exit_0_when_every_row_is_ticked(machine, capsys):
    settings, _ = machine()
    assert main(["doctor"], CliContext(connect=lambda profile=None: Pipeline(load_settings()))) == 0
    out = capsys.readouterr().out
    assert "comprobación" in out and "✘" not in out and "todo listo" in out


def test_cli_broken_settings_are_one_row_not_a_crash(machine, monkeypatch, tmp_path, capsys):
    _, baseline = machine()
    env = tmp_path / "roto.env"
    env.write_text("DATAOPS_PROFILE=local\nesto no es una variable\n")
    monkeypatch.setenv("DATAOPS_ENV_FILE", str(env))
    assert main(["doctor"]) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err and captured.err == ""
    assert re.search(r"configuración \(\.env\)\s+✘", captured.out) and "roto.env" in captured.out


def test_cli_a_taken_port_is_exit_1_and_the_spanish_table(tmp_path):
    """The real command in a child process: a socket holds Kafka's port; a pack folder stands in
    for the network."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATAOPS_")}
    env.update({f"DATAOPS_{key.upper()}_PORT": str(free_port()) for key in PORTS})
    (tmp_path / "pack" / "wheels").mkdir(parents=True)
    env.update({"DATAOPS_STATE_DIR": str(tmp_path / "state"), "DATAOPS_ENV_FILE": os.devnull,
                "DATAOPS_PACK": str(tmp_path / "pack"), "PYTHONPATH": str(ROOT / "lib")})  # fmt: skip
    port = int(env["DATAOPS_KAFKA_PORT"])
    with socket.socket() as other:
        other.bind(("127.0.0.1", port))
        other.listen()
        t0 = time.monotonic()
        out = subprocess.run([sys.executable, "-m", "dataops.cli", "doctor"], capture_output=True, text=True, env=env, timeout=60)
        took = time.monotonic() - t0
    assert out.returncode == 1, out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr and out.stderr == ""
    assert out.stdout.split()[:3] == ["comprobación", "estado", "encontrado"]
    assert re.search(rf"puerto {port} \(kafka\)\s+✘\s+ocupado por otro programa", out.stdout)
    assert re.search(rf"✘ puerto {port} \(kafka\): añade DATAOPS_KAFKA_PORT=\d+ a \.env", out.stdout)
    assert took < 10, took
    help_ = subprocess.run([sys.executable, "-m", "dataops.cli", "doctor", "--help"], capture_output=True, text=True, env=env, timeout=60)
    assert help_.returncode == 0 and "exit 1" in help_.stdout
