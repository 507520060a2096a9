"""Memory of the whole local stack, in the normal mode and in the low-memory mode (`up --low-memory`).

Prints, one per line (each mode's figures; the low-memory ones prefixed ``low_memory_``):
  first_row_s                 `up` from an empty state folder (downloads shared) → first row in Iceberg (DuckDB)
  ready_s                     the same start → every layer green or amber (`p.wait_ready()`)
  rows_during_window          rows that reached Iceberg during the measured window (data kept flowing)
  rss_mb_<component>          resident memory of each component with its children, at the end of the window
  stack_rss_mb                their sum: every process the stack started (stack_rss_low_memory_mb in low-memory mode)
  stack_rss_peak_mb           the highest sum sampled every 5 s during the window (stack_rss_low_memory_peak_mb)
  stack_start_cpu_s           CPU seconds the stack's processes used from `up` to ready (stack_start_low_memory_cpu_s)
  stack_cpu_pct               CPU the stack's processes used during the window, in % of one core (stack_cpu_low_memory_pct)

Each mode runs its own stack, one after the other, beside any other (every port shifted by 500) from a
temporary state folder with the downloads hard-linked from the project's; it is stopped and deleted at
the end. A running default stack is never touched. The window starts once the pipeline is ready.
Usage: .venv/bin/python benchmarks/memory.py [--window 60] [--only normal|low]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from _common import cpu_seconds, dataops

from dataops.artifacts import artifacts_present, install_artifacts, share_downloads
from dataops.config import PORTS

SHIFT = 500
COUNT = "SELECT count(*) AS n FROM crypto_prices_exploded"


def _rows(p: dataops.Pipeline) -> int:
    try:
        return int(p.sql(COUNT)["n"].iloc[0])
    except Exception:  # noqa: BLE001 - no table or no snapshot yet: no row yet
        return 0


def _cpu_s(p: dataops.Pipeline) -> float:
    """CPU seconds used so far by every process the stack started (their children included)."""
    procs = [proc for name in p.stack.names if (proc := p.stack.process(name)) is not None]
    return cpu_seconds([one for proc in procs for one in [proc, *proc.children(recursive=True)]])


def measure(source: dataops.Pipeline, low_memory: bool, window_s: float) -> dict[str, float]:
    """One mode's figures: a fresh stack started, measured and removed."""
    tmp = Path(tempfile.mkdtemp(prefix="dataops-memory-bench-"))
    ports = {f"{name}_port": port + SHIFT for name, port in PORTS.items()}
    p = dataops.connect(profile="local", state_dir=tmp / "state", low_memory=low_memory, **ports)
    figures: dict[str, float] = {}
    try:
        share_downloads(source.settings.paths, p.settings.paths)
        t0 = time.monotonic()
        p.up(progress=False, ready_timeout_s=None)
        while _rows(p) == 0:
            if time.monotonic() - t0 > 300:
                raise SystemExit("no row reached Iceberg within 300 s: see the logs in " + str(p.settings.paths.logs))
            time.sleep(0.5)
        figures["first_row_s"] = time.monotonic() - t0
        p.wait_ready(timeout_s=240, progress=False)
        figures["ready_s"] = time.monotonic() - t0
        before, cpu, peak = _rows(p), _cpu_s(p), 0.0
        figures["stack_start_cpu_s"] = cpu
        start = time.monotonic()
        while time.monotonic() < start + window_s:
            peak = max(peak, sum(p.stack.rss_mb().values()))
            time.sleep(min(5.0, max(start + window_s - time.monotonic(), 0.0)))
        figures["stack_cpu_pct"] = 100 * (_cpu_s(p) - cpu) / (time.monotonic() - start)
        rss = p.stack.rss_mb()
        health = p.health()
        if not health["state"].isin(["green", "amber"]).all():
            raise SystemExit("a layer is not green or amber after the window:\n" + health.to_string(index=False))
        figures["rows_during_window"] = _rows(p) - before
        if figures["rows_during_window"] <= 0:
            raise SystemExit(f"no row reached Iceberg during the {window_s:.0f} s window")
        for name, mb in rss.items():
            figures[f"rss_mb_{name.replace('-', '_')}"] = mb
        figures["stack_rss_mb"] = sum(rss.values())
        figures["stack_rss_peak_mb"] = max(peak, figures["stack_rss_mb"])
        return figures
    finally:
        p.stack.down(progress=False)
        shutil.rmtree(tmp, ignore_errors=True)


def _name(figure: str, low_memory: bool) -> str:
    if not low_memory:
        return figure
    if figure.startswith("stack_"):  # stack_rss_mb → stack_rss_low_memory_mb, stack_cpu_pct → stack_cpu_low_memory_pct
        first, second, rest = figure.split("_", 2)
        return f"{first}_{second}_low_memory_{rest}"
    return f"low_memory_{figure}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--window", type=float, default=60.0, help="seconds of data flowing before measuring (default 60)")
    ap.add_argument("--only", choices=["normal", "low"], help="measure one mode only")
    args = ap.parse_args()
    source = dataops.connect(profile="local")
    if not artifacts_present(source.settings.paths):  # first run ever: download outside the measured window
        install_artifacts(source.settings.paths, quiet=True)
    for low_memory in (False, True):
        if args.only and args.only != ("low" if low_memory else "normal"):
            continue
        for figure, value in measure(source, low_memory, args.window).items():
            decimals = 0 if figure.startswith(("rss", "stack_rss", "rows")) else 1
            print(f"{_name(figure, low_memory)}={value:.{decimals}f}", flush=True)


if __name__ == "__main__":
    main()
