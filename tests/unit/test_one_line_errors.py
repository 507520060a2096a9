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

SPIKE_USAGE = "spike takes coin (str, default bitcoin), factor (float, default 1.5), change_24h (float), and duration_s, a number of seconds > 0"


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
        "error: --param duration_s=5: the duration is not a parameter: give it as --duration 5"
    assert one_line(["fault", "latency", "--param", "name=spike"], capsys) == \
        "error: --param name=spike: the fault's name is not a parameter: give it first: `dataops fault spike`"


@pytest.mark.parametrize(("given", "read"), [("NaN", "nan"), ("Infinity", "inf"), ("1e999", "inf")])
def test_fault_factor_that_is_not_finite_is_refused_before_any_request(given: str, read: str, stack_down: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    assert one_line(["fault", "spike", "--param", f"factor={given}"], capsys) == \
        f"error: fault spike refused: parameter 'factor' must be a finite number, got {read}: {SPIKE_USAGE}"


def test_an_unknown_fault_is_named_even_with_the_simulator_down(stack_down: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert one_line(["fault", "meteor"], capsys) == \
        "error: unknown fault 'meteor': choose one of rate_limit, outage, latency, malformed, schema_drift, freeze, missing_coin, spike"
    assert "is not reachable at http://127.0.0.1:" in one_line(["fault", "latency"], capsys)  # a valid one reaches the simulator


# ---- non-UTF-8 files ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("argv", "what"), [
    (["alerts", "--rules", "{f}"], "the rules file"),
    (["quality", "--samples", "--suite", "{f}"], "quality suite"),
    (["scenario", "{f}"], "scenario"),
    (["pipeline", "apply", "--file", "{f}"], "pipeline declaration"),
    (["pipeline", "apply", "--extra", "{f}"], "declaration extension"),
    (["check-config", "--workflow", "{f}"], "the workflow"),
])  # fmt: skip
def test_a_file_that_is_not_utf8_is_named_with_its_line(argv: list[str], what: str, stack_down: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    path = stack_down / "latin1.yaml"
    path.write_bytes(b"# fine so far\n# r\xe9glages\n")
    assert one_line([a.replace("{f}", str(path)) for a in argv], capsys) == \
        f"error: {what} {path} line 2 is not UTF-8 text: save the file as UTF-8 (or retype that line)"


def test_a_workflow_that_is_not_utf8_is_named_by_dataops_ci(stack_down: Path, capsys: pytest.CaptureFixture[str]) -> None:
    workflow = stack_down / "repo" / ".github" / "workflows" / "dataops.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_bytes(b"\xff\xfejobs: {}\n")
    assert one_line(["ci", "--repo", str(stack_down / "repo")], capsys) == \
        f"error: the workflow {workflow} line 1 is not UTF-8 text: save the file as UTF-8 (or retype that line)"


# ---- the command line itself ----------------------------------------------------------------------------
def test_a_refused_argument_is_one_line_not_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert one_line(["scenario", "api_outage", "--speed", "inf"], capsys) == ("error: dataops scenario: argument --speed: 'inf' is not "
        "a finite number (NaN, Infinity and 1e999 are not): see `dataops scenario --help`")  # fmt: skip
    assert one_line(["quality", "--polls", "0"], capsys) == \
        "error: dataops quality: argument --polls: 0 must be greater than 0: see `dataops quality --help`"


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
    assert one_line(["status"], capsys) == f"error: unexpected RuntimeError: nobody foresaw this: the traceback is in {log}"
    assert "RuntimeError: nobody foresaw this" in log.read_text(encoding="utf-8")
    assert (project_log.stat().st_mtime_ns if project_log.exists() else None) == before
    (stack_down / "broken.env").write_text("not a setting\n")  # settings that do not load: the variable alone
    monkeypatch.setenv("DATAOPS_ENV_FILE", str(stack_down / "broken.env"))
    monkeypatch.setenv("DATAOPS_STATE_DIR", str(stack_down / "elsewhere"))
    assert cli._crash_log() == stack_down / "elsewhere" / "logs" / "cli-errors.log"


def test_schemas_against_an_unknown_revision_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert one_line(["schemas", "--against", "no-such-ref"], capsys).startswith("error: unknown git revision 'no-such-ref' in ")


def test_no_git_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from dataops.ci import checks

    def missing(*args: object, **kwargs: object) -> None:
        raise FileNotFoundError("git")

    monkeypatch.setattr(checks.subprocess, "run", missing)
    with pytest.raises(DataOpsError, match=r"^git is not installed: install git"):
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
            raise TableNotFoundError(f"table {name} does not exist yet", "run `make up`")
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
    from dataops.automation.resources import Resource, destroy

    table = Resource("table", "crypto.t", "table", None)
    assert destroy(_layers(), table) == "dropped"  # type: ignore[arg-type]
    assert destroy(_layers(table_missing=True), table) == "absent"  # type: ignore[arg-type]
    with pytest.raises(DataOpsError) as info:
        destroy(_layers(drop_error=PermissionError("catalog.db is read-only")), table)  # type: ignore[arg-type]
    assert str(info.value) == ("dropping table crypto.t failed: PermissionError: catalog.db is read-only: "
                               "check the catalog (`p.iceberg.tables()`), then run the clean-up again")  # fmt: skip


def test_a_consumer_group_that_stays_says_why() -> None:
    from confluent_kafka import KafkaError, KafkaException

    from dataops.automation.resources import Resource, destroy

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
    assert str(info.value) == ("mine.yaml line 4: placeholder ${bootstrap_servers} has no value: DATAOPS_KAFKA_BOOTSTRAP is not set "
                               "(profile 'confluent'): add it to .env (see .env.example) or export it")  # fmt: skip
    with pytest.raises(DeclarationError, match=r"unknown placeholder \$\{nope\}"):
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
