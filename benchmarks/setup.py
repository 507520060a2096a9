"""Figures of the automated set-up (block 3): a fresh apply, a no-op plan, manual vs automated steps.

Prints, one per line:
  apply_fresh_s          engines running on an empty state folder (no topic, connector, job or
                         table) → `apply` with every step ✔, end-to-end validation included
  up_and_apply_fresh_s   the same from nothing running: engines started, then apply
  plan_noop_s            median of 5 `p.plan()` calls on the running stack with nothing to do
  plan_noop_cli_s        `dataops pipeline plan` as a command (Python start-up included)
  manual_steps           separate calls of the manual path (each topic, connector, table, job, sink, check)
  manual_s               seconds the manual path took (scratch namespace, then removed)
  automated_steps        commands of the automated path (1)

The fresh stack runs beside the project's (every port shifted by 500) from a temporary state
folder, with the downloads hard-linked, and is stopped and deleted at the end.
Usage: .venv/bin/python benchmarks/setup.py
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import dataops, running_pipeline

from dataops import automation
from dataops.config import PORTS
from dataops.artifacts import share_downloads

SHIFT = 500


def fresh_apply(main: dataops.Pipeline) -> tuple[float, float]:
    tmp = Path(tempfile.mkdtemp(prefix="dataops-setup-bench-"))
    ports = {f"{name}_port": port + SHIFT for name, port in PORTS.items()}
    p = dataops.connect(state_dir=tmp / "state", **ports)
    try:
        share_downloads(main.settings.paths, p.settings.paths)
        t0 = time.monotonic()
        p.stack.up(progress=False)
        engines = time.monotonic() - t0
        t1 = time.monotonic()
        report = p.apply(within_s=120)
        applied = time.monotonic() - t1
        if not report.attrs["ok"]:
            raise SystemExit("the fresh apply failed:\n" + report.to_string())
        return applied, engines + applied
    finally:
        p.stack.down(progress=False)
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    p = running_pipeline()
    applied, total = fresh_apply(p)
    print(f"apply_fresh_s={applied:.1f}", flush=True)
    print(f"up_and_apply_fresh_s={total:.1f}", flush=True)

    p.apply(validate=False)
    times = []
    for _ in range(5):
        t0 = time.monotonic()
        plan = p.plan()
        times.append(time.monotonic() - t0)
        assert not plan.attrs["pending"], plan.to_string()
    print(f"plan_noop_s={statistics.median(times):.2f}", flush=True)
    t0 = time.monotonic()
    code = subprocess.run([sys.executable, "-m", "dataops.cli", "pipeline", "plan"], capture_output=True).returncode
    print(f"plan_noop_cli_s={time.monotonic() - t0:.2f}" + ("" if code == 0 else f"  # exit {code}"), flush=True)

    manual = automation.ManualSetup(p, prefix="bench-manual")
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        for topic in ("crypto-prices", "crypto-prices-exploded", "crypto-prices-dlq", "crypto-iceberg-control"):
            manual.topic(topic)
        manual.connector()
        manual.table()
        manual.job()
        manual.sink()
        manual.check()
    summary = manual.summary()
    manual.cleanup()
    print(f"manual_steps={summary['pasos']}")
    print(f"manual_s={summary['segundos']:.1f}")
    print("automated_steps=1")


if __name__ == "__main__":
    main()
