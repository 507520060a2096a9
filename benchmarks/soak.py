"""Soak: a day of polls compressed into minutes through the live pipeline, with table maintenance on.

Sends 17,280 raw polls (a day at the default 5-s interval, 86,400 rows) into a free past window
of crypto-prices as fast as the pipeline takes them, while `dataops maintain` runs every
--maintain-every seconds (the monitor runs it every 10 minutes in real time; a compressed day
compresses its schedule too). Then waits until DuckDB counts every row and runs maintenance once more.

Prints, one per line:
  soak_rows                      rows of the day that reached the table
  soak_s                         first produce to the last row visible
  soak_snapshots_after           the table's snapshots after the final maintenance
  soak_data_files_after          its live data files
  soak_files_on_disk_after       every file under the table's folder (data, manifests, metadata)
  soak_duckdb_query_s_before     the course's per-coin query (records, average price per coin) before
  soak_duckdb_query_s_after      the same after (target: within 1.5x before)
  soak_monitor_cpu_pct           the monitor component's CPU during the soak and the minute after, % of one core (target <= 5)

Usage: .venv/bin/python benchmarks/soak.py [--polls 17280] [--maintain-every 30]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

from _common import running_pipeline
from backfill import backfill, free_window

from dataops.iceberg import maintenance


def query_s(p, repeat: int = 15) -> float:
    """Median seconds of the course's per-coin query (a warm-up run first)."""
    p.duck.per_coin()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        p.duck.per_coin()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--polls", type=int, default=17_280)
    ap.add_argument("--maintain-every", type=float, default=5.0, help="seconds between maintenance passes during the soak")
    ap.add_argument("--timeout", type=float, default=900)
    args = ap.parse_args()
    p = running_pipeline()
    maintenance.maintain(p.iceberg, keep_s=60, orphan_age_s=60)  # the same starting point on every run
    before = query_s(p)
    monitor = p.stack.process("monitor")
    if monitor is None:
        raise SystemExit("the monitor component is not running: `dataops up` starts it")
    monitor.cpu_percent(None)
    cpu0 = monitor.cpu_times()
    t_cpu = time.monotonic()

    stop = threading.Event()
    passes: list[str] = []

    def maintain_on_schedule() -> None:
        while not stop.wait(args.maintain_every):
            try:
                maintenance.maintain(p.iceberg, keep_s=60, orphan_age_s=60)
                passes.append("ok")
            except Exception as exc:  # noqa: BLE001 - counted and shown; the soak goes on
                passes.append(str(exc).splitlines()[0])

    thread = threading.Thread(target=maintain_on_schedule, daemon=True)
    thread.start()
    start = free_window(p, args.polls * 5, align=86_400)
    arrived, _, elapsed = backfill(p, start, args.polls, 5, args.timeout)
    stop.set()
    thread.join()
    time.sleep(60)  # the minute after
    cpu1 = monitor.cpu_times()
    cpu_pct = 100.0 * ((cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)) / (time.monotonic() - t_cpu)
    maintenance.maintain(p.iceberg, keep_s=60, orphan_age_s=60)
    stats = maintenance.table_stats(p.iceberg)
    after = query_s(p)
    failed = [x for x in passes if x != "ok"]
    print(f"soak_rows={arrived}")
    print(f"soak_s={elapsed:.1f}")
    print(f"soak_snapshots_after={stats['snapshots']}")
    print(f"soak_data_files_after={stats['data_files']}")
    print(f"soak_files_on_disk_after={stats['files_on_disk']}")
    print(f"soak_duckdb_query_s_before={before:.3f}")
    print(f"soak_duckdb_query_s_after={after:.3f}")
    print(f"soak_monitor_cpu_pct={cpu_pct:.1f}")
    print(f"# maintenance passes during the soak: {len(passes)}, failed: {len(failed)} {failed[:2]}")
    if arrived < args.polls * 5:
        raise SystemExit(f"only {arrived} of {args.polls * 5} rows reached the table within {args.timeout:.0f} s")


if __name__ == "__main__":
    main()
