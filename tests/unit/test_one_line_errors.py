"""Issue 27's findings, each answered in the exact line it must be: the input named, the fix said,
exit status 2, no traceback; and the errors that used to be swallowed now show their cause."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from dataops import cli
from dataops.errors import DataOpsError, TableNotFoundError

pytestmark = pytest.mark.unit

SPIKE_USAGE = "spike admite coin (str, por defecto bitcoin), factor (float, por defecto 1.5), change_24h (float), y duration_s, un número de segundos > 0"


@pytest.fixture()
def stack_down(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Settings of a stack that is down: a temp state folder, no .env, the simulator on a closed port."""
    from tests.bad_inputs_cases import free_port

    monkeypatch.setenv("DATAOPS_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("DATAOPS_ENV_FILE", str(tmp_path / "no.env"))
    monkeypatch.setenv("DATAOPS_SIMULATOR_PORT", str(free_port()))
    return tmp_path


def one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err.rstrip("\n")


# ---- dataops fault ---------------------------------------------------------------------------------------
def test_fault_duration_and_name_given_as_params_say_where_they_go(stack_down: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert one_line(["fault", "latency", "--param", "duration_s=5"], capsys) == \
        "error: --param duration_s=5: la duración no es un parámetro: dala con `--duration 5`"
    assert one_line(["fault", "latency", "--param", "name=spike"], capsys) == \
        "error: --param name=spike: el nombre del fallo no es un parámetro: ponlo primero: `dataops fault spike`"


@pytest.mark.parametrize(("given", "read"), [("NaN", "nan"), ("Infinity", "inf"), ("1e999", "inf")])
def test_fault_factor_that_is_not_finite_is_refused_before_any_request(given: str, read: str, stack_down: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    assert one_line(["fault", "spike", "--param", f"factor={given}"], capsys) == \
        f"error: fallo spike rechazado: el parámetro 'factor' debe ser un número finito, no {read}: {SPIKE_USAGE}"


def test_an_unknown_fault_is_named_even_with_the_simulator_down(stack_down: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert one_line(["fault", "meteor"], capsys) == \
        "error: fallo desconocido 'meteor': elige entre rate_limit, outage, latency, malformed, schema_drift, freeze, missing_coin, spike"
    assert "no responde en http://127.0.0.1:" in one_line(["fault", "latency"], capsys)  # a valid one reaches the simulator


# ---- non-UTF-8 files ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("argv", "what"), [
    (["alerts", "--rules", "{f}"], "el fichero de reglas"),
    (["quality", "--samples", "--suite", "{f}"], "la suite de calidad"),
    (["scenario", "{f}"], "el escenario"),
    (["pipeline", "apply", "--file", "{f}"], "la declaración del pipeline"),
    (["pipeline", "apply", "--extra", "{f}"], "la extensión de la declaración"),
    (["check-config", "--workflow", "{f}"], "el workflow"),
])  # fmt: skip
def test_a_file_that_is_not_utf8_is_named_with_its_line(argv: list[str], what: str, stack_down: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    path = stack_down / "latin1.yaml"
    path.write_bytes(b"# fine so far\n# r\xe9glages\n")
    assert one_line([a.replace("{f}", str(path)) for a in argv], capsys) == \
        f"error: {what} {path} línea 2 no es texto UTF-8: guarda el fichero como UTF-8 (o vuelve a escribir esa línea)"


def test_a_workflow_that_is_not_utf8_is_named_by_dataops_ci(stack_down: Path, capsys: pytest.CaptureFixture[str]) -> None:
    workflow = stack_down / "repo" / ".github" / "workflows" / "dataops.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_bytes(b"\xff\xfejobs: {}\n")
    assert one_line(["ci", "--repo", str(stack_down / "repo")], capsys) == \
        f"error: el workflow {workflow} línea 1 no es texto UTF-8: guarda el fichero como UTF-8 (o vuelve a escribir esa línea)"


# ---- the command line itself ----------------------------------------------------------------------------
def test_a_refused_argument_is_one_line_not_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert one_line(["scenario", "api_outage", "--speed", "inf"], capsys) == ("error: dataops scenario: argument --speed: 'inf' no es "
        "un número finito (NaN, Infinity y 1e999 no lo son): mira `dataops scenario --help`")  # fmt: skip
    assert one_line(["quality", "--polls", "0"], capsys) == \
        "error: dataops quality: argument --polls: 0 debe ser mayor que 0: mira `dataops quality --help`"


def test_the_traceback_log_is_in_the_state_folder_of_the_settings(stack_down: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    from dataops.config import PROJECT_ROOT
    from dataops.stack import cli as stack_cli

    def boom(args: object, ctx: object) -> int:
        raise RuntimeError("nobody foresaw this")

    monkeypatch.setattr(stack_cli, "cmd_status", boom)
    project_log = PROJECT_ROOT / ".stack" / "logs" / "cli-errors.log"
    before = project_log.stat().st_mtime_ns if project_log.exists() else None
    log = stack_down / "state" / "logs" / "cli-errors.log"
    assert one_line(["status"], capsys) == f"error: RuntimeError inesperado: nobody foresaw this: el traceback está en {log}"
    assert "RuntimeError: nobody foresaw this" in log.read_text(encoding="utf-8")
    assert (project_log.stat().st_mtime_ns if project_log.exists() else None) == before
    (stack_down / "broken.env").write_text("not a setting\n")  # settings that do not load: the variable alone
    monkeypatch.setenv("DATAOPS_ENV_FILE", str(stack_down / "broken.env"))
    monkeypatch.setenv("DATAOPS_STATE_DIR", str(stack_down / "elsewhere"))
    assert cli._crash_log() == stack_down / "elsewhere" / "logs" / "cli-errors.log"


def test_schemas_against_an_unknown_revision_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert one_line(["schemas", "--against", "no-such-ref"], capsys).startswith("error: revisión de git desconocida 'no-such-ref' en ")


def test_no_git_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from dataops.ci import checks

    def missing(*args: object, **kwargs: object) -> None:
        raise FileNotFoundError("git")

    monkeypatch.setattr(checks.subprocess, "run", missing)
    with pytest.raises(DataOpsError, match=r"^git no está instalado: instala git"):
        checks.git(Path("."), "status")


# ---- errors that were swallowed -------------------------------------------------------------------------
class _Admin:
    def __init__(self, error: Exception | None) -> None:
        self.error = error

    def delete_consumer_groups(self, groups: list[str], request_timeout: float) -> dict[str, SimpleNamespace]:
        def result(timeout: float) -> None:
            if self.error is not None:
                raise self.error

        return {groups[0]: SimpleNamespace(result=result)}


def _layers(admin_error: Exception | None = None, drop_error: Exception | None = None, table_missing: bool = False) -> SimpleNamespace:
    def table(name: str) -> SimpleNamespace:
        if table_missing:
            raise TableNotFoundError(f"la tabla {name} aún no existe", "ejecuta `make up`")
        return SimpleNamespace(location=lambda: "s3://bucket/t")

    def drop_table(name: str) -> None:
        if drop_error is not None:
            raise drop_error

    return SimpleNamespace(
        kafka=SimpleNamespace(admin=lambda: _Admin(admin_error)),
        connect=SimpleNamespace(config=lambda name: {"name": name}, delete=lambda name: None),
        iceberg=SimpleNamespace(table=table, catalog=lambda: SimpleNamespace(drop_table=drop_table), local=False),
    )


def test_dropping_a_table_says_why_it_failed_and_absent_only_when_it_is() -> None:
    from dataops.automation.removal import destroy
    from dataops.automation.resources import Resource

    table = Resource("table", "crypto.t", "table", None)
    assert destroy(_layers(), table) == "dropped"  # type: ignore[arg-type]
    assert destroy(_layers(table_missing=True), table) == "absent"  # type: ignore[arg-type]
    with pytest.raises(DataOpsError) as info:
        destroy(_layers(drop_error=PermissionError("catalog.db is read-only")), table)  # type: ignore[arg-type]
    assert str(info.value) == ("falló el borrado de la tabla crypto.t: PermissionError: catalog.db is read-only: "
                               "revisa el catálogo (`p.iceberg.tables()`) y vuelve a lanzar la limpieza")  # fmt: skip


def test_a_consumer_group_that_stays_says_why() -> None:
    from confluent_kafka import KafkaError, KafkaException

    from dataops.automation.removal import destroy
    from dataops.automation.resources import Resource

    sink = Resource("sink", "lab-sink", "sink", None)
    assert destroy(_layers(KafkaException(KafkaError(KafkaError.GROUP_ID_NOT_FOUND))), sink) == "deleted"  # type: ignore[arg-type]
    kept = destroy(_layers(KafkaException(KafkaError(KafkaError.NON_EMPTY_GROUP, "The group is not empty"))), sink)  # type: ignore[arg-type]
    assert kept == "deleted; consumer group connect-lab-sink kept (The group is not empty)"
    assert destroy(_layers(TimeoutError("no answer")), sink) == "deleted; consumer group connect-lab-sink kept (TimeoutError: no answer)"  # type: ignore[arg-type]


def test_a_placeholder_whose_value_fails_says_why_not_unknown() -> None:
    from dataops.automation.declaration import parse
    from dataops.config import load_settings
    from dataops.errors import DeclarationError

    settings = load_settings(env_file="/dev/null", profile="confluent")
    text = "topics:\n  - name: t\n    partitions: 1\n    config: {x: \"${bootstrap_servers}\"}\n"
    with pytest.raises(DeclarationError) as info:
        parse(text, settings, "mine.yaml")
    assert str(info.value) == ("mine.yaml línea 4: el placeholder ${bootstrap_servers} no tiene valor: DATAOPS_KAFKA_BOOTSTRAP no está definida "
                               "(perfil 'confluent'): añádela a .env (mira .env.example) o expórtala")  # fmt: skip
    with pytest.raises(DeclarationError, match=r"placeholder desconocido \$\{nope\}"):
        parse(text.replace("bootstrap_servers", "nope"), settings, "mine.yaml")


class _BrokenMonitor:
    topics = ["crypto-prices"]

    def latest(self) -> None:
        raise OSError("database is locked\nand more")

    history = latest


def test_a_dashboard_refresh_error_is_kept_logged_once_and_shown(caplog: pytest.LogCaptureFixture) -> None:
    from dataops.monitor.dashboard import Dashboard

    shown: list[str] = []
    board = Dashboard(_BrokenMonitor(), interval_s=0.01)
    board._handle = SimpleNamespace(update=lambda page: shown.append(page.data))
    with caplog.at_level(logging.WARNING, logger="dataops.monitor.dashboard"):
        board.start(display=False)
        deadline = time.monotonic() + 5
        while board.errors < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        board.stop()
    assert board.errors >= 3 and board.last_error == "OSError: database is locked"
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in warnings] == ["dashboard: refresh failed, it goes on: OSError: database is locked"]
    assert warnings[0].exc_info is None and "database is locked" in shown[-1]


def test_a_live_plot_refresh_error_is_one_line_not_a_traceback(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    import pandas as pd
    import plotly.graph_objects as go

    from dataops import plots

    class FakeFigureWidget(go.Figure):
        pass

    monkeypatch.setattr(go, "FigureWidget", FakeFigureWidget, raising=False)
    calls = {"n": 0}
    lock = threading.Lock()

    def fetch() -> pd.DataFrame:
        with lock:
            calls["n"] += 1
            if calls["n"] > 1:
                raise ConnectionError("metrics store gone\nsecond line")
        return pd.DataFrame(columns=["ts", "metric", "value"])

    with caplog.at_level(logging.DEBUG, logger="dataops.plots.live"):
        widget = plots.live_view(fetch, "topic_lag", interval_s=0.01, iterations=4, headless=False)
        widget.live_thread.join(timeout=5)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in warnings] == ["live_view(topic_lag): refresh failed, the view goes on: ConnectionError: metrics store gone"]
    assert warnings[0].exc_info is None and widget.last_error == "ConnectionError: metrics store gone"
