"""Monitor cost and metrics-store speed.

Prints:
  monitor_cpu_pct   CPU of the running monitor component over --seconds, in % of one core
  metrics_query_s   one query of 24 h of every course metric at 5-s resolution
                    (a synthetic day written to a temporary store), best of 3
  metrics_query_rows  how many samples that query returned
Usage: .venv/bin/python benchmarks/monitor.py [--seconds 60]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import psutil
from _common import running_pipeline

from dataops.metrics import MetricsStore, Sample
from dataops.monitor import METRICS


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="how long to watch the monitor's CPU (default 60)")
    args = ap.parse_args()
    p = running_pipeline()
    proc = p.stack.process("monitor")
    if proc is None:
        raise SystemExit("the monitor component is not running: `make up`")
    t0, c0 = time.monotonic(), sum(proc.cpu_times()[:2])
    time.sleep(args.seconds)
    cpu = (sum(proc.cpu_times()[:2]) - c0) / (time.monotonic() - t0) * 100
    print(f"monitor_cpu_pct={cpu:.1f}", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        store = MetricsStore(Path(tmp) / "day.db", retention_s=2 * 86400)
        now = time.time()
        start = now - 86400
        labels = {"topic_lag": [{"group": "crypto-explode", "topic": "crypto-prices"}],
                  "messages_produced": [{"topic": "crypto-prices"}, {"topic": "crypto-prices-exploded"}]}
        batch = []
        for i in range(int(86400 / 5)):
            ts = start + 5 * i
            for metric in METRICS:
                for lab in labels.get(metric, [{}]):
                    batch.append(Sample(metric, float(i % 100), lab, ts))
            if len(batch) > 50_000:
                store.write(batch)
                batch = []
        store.write(batch)
        best = float("inf")
        rows = 0
        for _ in range(3):
            q0 = time.perf_counter()
            df = store.query(since=now - 86400)
            best = min(best, time.perf_counter() - q0)
            rows = len(df)
        print(f"metrics_query_rows={rows}")
        print(f"metrics_query_s={best:.2f}")


if __name__ == "__main__":
    main()
