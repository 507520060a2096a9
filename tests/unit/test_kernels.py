"""Headless kernels print no warning a learner cannot act on (issue 24: `make run`'s log)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.unit

RUN = """
import sys, papermill as pm
from dataops.kernels import IpcKernelManager
extra = {{"kernel_manager_class": IpcKernelManager}} if sys.argv[3] == "ipc" else {{}}
pm.execute_notebook(sys.argv[1], sys.argv[2], progress_bar=False, kernel_name="python3", **extra)
"""


def run(tmp_path: Path, transport: str) -> tuple[str, list]:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("print(6 * 7)")]
    src, out = tmp_path / "in.ipynb", tmp_path / f"out-{transport}.ipynb"
    nbformat.write(nb, src)
    proc = subprocess.run([sys.executable, "-c", RUN.format(), str(src), str(out), transport],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout + proc.stderr, nbformat.read(out, 4).cells[0].outputs


def test_a_kernel_over_unix_sockets_runs_the_notebook_without_the_tcp_warning(tmp_path):
    log, outputs = run(tmp_path, "ipc")
    assert outputs[0]["text"] == "42\n"
    assert "without encryption" not in log, log


def test_the_default_tcp_kernel_prints_the_warning_the_runner_avoids(tmp_path):
    log, outputs = run(tmp_path, "tcp")  # so the test above could fail
    assert outputs[0]["text"] == "42\n" and "without encryption" in log
