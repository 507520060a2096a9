"""Issue 27, every bad input answered in one line: the matrix of ``tests/bad_inputs_cases.py`` run
as subprocesses of the real ``dataops`` command (and each notebook call in its own ``python``),
against a stack that is down (a temp state folder, free ports, no java or mvn on the PATH): it
needs no running stack and touches none.

Prints:
  bad_inputs_tried             cases run (sub-commands and notebook calls)
  bad_inputs_with_traceback    of them, those whose output holds a traceback (target 0)
Each case that is not exactly one ``error:`` line naming its input with the expected exit status is
listed on stderr.
Usage: .venv/bin/python benchmarks/bad_inputs.py
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "lib")]

from tests.bad_inputs_cases import CALL_CASES, CLI_CASES, CallCase, Case, make_files, stack_down_env  # noqa: E402

TIMEOUT_S = 120


def dataops_command() -> list[str]:
    """The installed ``dataops`` script of this environment (else the module)."""
    beside = Path(sys.executable).with_name("dataops")
    found = str(beside) if beside.exists() else shutil.which("dataops")
    return [found] if found else [sys.executable, "-m", "dataops.cli"]


def _fake_jvm(folder: Path) -> str:
    """A PATH whose ``java`` and ``mvn`` fail at once: a bad input that got through to `up` cannot
    start (or download) the JVM stack."""
    folder.mkdir()
    for tool in ("java", "mvn"):
        (folder / tool).write_text("#!/bin/sh\necho 'benchmarks/bad_inputs.py: no JVM here' >&2\nexit 1\n")
        (folder / tool).chmod(0o755)
    return os.pathsep.join([str(folder), os.environ.get("PATH", "")])


def _verdict(done: subprocess.CompletedProcess[str] | None, expected: int, named: str) -> tuple[bool, str]:
    """(traceback seen, why the answer is not one line naming the input: "" when it is)."""
    if done is None:
        return False, f"no answer within {TIMEOUT_S} s"
    text = done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    traceback = "Traceback (most recent call last)" in text
    if done.returncode != expected:
        return traceback, f"exit {done.returncode}, expected {expected}: {lines[-1] if lines else '(no error line)'}"
    if len(lines) != 1 or not lines[0].startswith("error: "):
        return traceback, f"{len(lines)} stderr lines: {' | '.join(lines)[:300]}"
    if named not in lines[0] or "inesperado" in lines[0]:
        return traceback, f"does not name {named!r}: {lines[0]}"
    return traceback, ""


def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT, timeout=TIMEOUT_S, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None


def run_case(case: Case | CallCase, tmp: Path, base_env: dict[str, str]) -> tuple[str, bool, str]:
    """One case in a subprocess: (its id, traceback seen, what is wrong with the answer)."""
    env = {**os.environ, **base_env, "PYTHONPATH": os.pathsep.join([str(ROOT / "lib"), str(ROOT)])}
    if isinstance(case, CallCase):
        code = "from tests.bad_inputs_cases import call_main; import sys; sys.exit(call_main())"
        return case.id, *_verdict(_run([sys.executable, "-c", code, case.code, str(tmp)], env), 2, case.named)
    env.update({key: case.fill(value, tmp, base_env) for key, value in case.env})
    argv = [*dataops_command(), *(case.fill(a, tmp, base_env) for a in case.argv)]
    with socket.socket() as holder:
        if case.port_taken:
            holder.bind(("127.0.0.1", int(base_env[f"DATAOPS_{case.port_taken.upper()}_PORT"])))
            holder.listen()
        done = _run(argv, env)
    return case.id, *_verdict(done, case.exit_code, case.fill(case.named, tmp, base_env))


def main() -> None:
    cases: list[Case | CallCase] = [*CLI_CASES, *CALL_CASES]
    with tempfile.TemporaryDirectory(prefix="dataops-bad-inputs-") as folder:
        tmp = Path(folder)
        make_files(tmp)
        base_env = {**stack_down_env(tmp), "PATH": _fake_jvm(tmp / "bin")}
        with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 2)) as pool:
            results = list(pool.map(lambda case: run_case(case, tmp, base_env), cases))
    with_traceback = 0
    for case_id, traceback, wrong in results:
        with_traceback += traceback
        if traceback or wrong:
            print(f"✘ {case_id}: {'traceback; ' if traceback else ''}{wrong}", file=sys.stderr)
    print(f"bad_inputs_tried={len(results)}")
    print(f"bad_inputs_with_traceback={with_traceback}")


if __name__ == "__main__":
    main()
