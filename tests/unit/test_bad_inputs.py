"""Issue 27: every bad input is answered in one line naming the input and the fix, exit status 2,
no traceback. The cases are ``tests/bad_inputs_cases.py`` (``benchmarks/bad_inputs.py`` runs the
same ones as subprocesses of the real ``dataops`` command); here ``dataops.cli.main`` runs them
in-process against a stack that is down (a temp state folder, free ports)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from dataops import cli
from dataops.errors import DataOpsError
from tests.bad_inputs_cases import CALL_CASES, CLI_CASES, PORTS, CallCase, Case, make_files, run_call, stack_down_env

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("bad_inputs")
    make_files(tmp)
    return tmp


@pytest.fixture()
def stack_down(bad_files: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Stack-down settings; and should a bad input get through to `up`, nothing starts or downloads."""
    from dataops.stack import supervisor

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a bad input got through: the stack would start")

    monkeypatch.setattr(supervisor.Stack, "_start", refuse)
    monkeypatch.setattr(supervisor, "install_artifacts", refuse)
    env = stack_down_env(bad_files)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.mark.parametrize("case", CLI_CASES, ids=[c.id for c in CLI_CASES])
def test_a_bad_input_to_a_command_is_one_line(case: Case, bad_files: Path, stack_down: dict[str, str],
                                              monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    for key, value in case.env:
        monkeypatch.setenv(key, case.fill(value, bad_files, stack_down))
    argv = [case.fill(a, bad_files, stack_down) for a in case.argv]
    with socket.socket() as holder:
        if case.port_taken:
            holder.bind(("127.0.0.1", int(stack_down[f"DATAOPS_{case.port_taken.upper()}_PORT"])))
            holder.listen()
        code = cli.main(argv)
    out = capsys.readouterr()
    lines = [line for line in out.err.splitlines() if line.strip()]
    assert code == case.exit_code, out.err
    assert len(lines) == 1 and lines[0].startswith("error: "), out.err
    assert "Traceback" not in out.err + out.out and "inesperado" not in lines[0], lines[0]
    assert case.fill(case.named, bad_files, stack_down) in lines[0], lines[0]


@pytest.mark.parametrize("case", CALL_CASES, ids=[c.id for c in CALL_CASES])
def test_a_bad_input_to_a_notebook_call_is_one_line(case: CallCase, bad_files: Path, stack_down: dict[str, str]) -> None:
    with pytest.raises(DataOpsError) as info:
        run_call(case.code, bad_files)
    text = str(info.value)
    assert text.strip() and "\n" not in text and "Traceback" not in text, text
    assert case.named in text, text


def test_the_matrix_covers_every_class_and_every_command_that_takes_input() -> None:
    kinds = {c.kind for c in CLI_CASES}
    assert {"missing_file", "empty_file", "not_utf8", "invalid_syntax", "wrong_type", "not_finite", "infinite", "huge",
            "negative", "zero", "unknown_name", "stack_down", "port_taken"} <= kinds  # fmt: skip
    commands = {c.argv[0] for c in CLI_CASES}
    assert {"alerts", "prometheus-rules", "scenario", "quality", "pipeline", "check-config", "ci", "dlq", "notebooks",
            "grade", "fault", "logs", "up", "maintain", "monitor", "schemas", "sql", "reset", "config", "class"} <= commands  # fmt: skip
    assert {"simulator", "kafka"} <= set(PORTS)
    assert len({c.id for c in CLI_CASES}) == len(CLI_CASES) and len({c.id for c in CALL_CASES}) == len(CALL_CASES)
