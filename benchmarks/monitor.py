"""Monitor cost and metrics-store speed.

Prints:
  monitor_cpu_pct   CPU of the running monitor component over --seconds, in % of one core
  metrics_query_s   one query of 24 h of every course metric at 5-s resolution
                    (a synthetic day written to a temporary store), best of 3
  metrics_query_rows  how many samples that query returned
  dashboard_refresh_ms  one refresh of block 5's live dashboard on the live store (read, health,
                    every alert rule evaluated, HTML drawn), median of 10 (target <= 200)
  detect_s_eth_crash  the simulator is told ETH's 24h change is -20 %: seconds until the course's
                    ETH_CRASH rule fires on the monitor's metrics, worst of --runs (target <= 30;
                    HIGH's response time is 900)
Usage: .venv/bin/python benchmarks/monitor.py [--seconds 60] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from _common import running_pipeline

from dataops import alerts
from dataops.metrics import MetricsStore, Sample
from dataops.monitor import METRICS
from dataops.monitor.dashboard import Dashboard

ETH_CRASH = """
- {name: ETH_CRASH, metric: price_change_24h, labels: {coin: ethereum}, condition: threshold, op: "<", value: -15, severity: HIGH}
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="how long to watch the monitor's CPU (default 60)")
    ap.add_argument("--runs", type=int, default=3, help="ETH crash detections measured (default 3)")
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

    board = Dashboard(p.monitor)
    times = []
    for _ in range(10):
        q0 = time.perf_counter()
        board.refresh()
        times.append((time.perf_counter() - q0) * 1000)
    print(f"dashboard_refresh_ms={statistics.median(times):.0f}", flush=True)

    crash = alerts.parse_rules(ETH_CRASH)
    detections = []
    for _ in range(args.runs):
        p.source.clear_faults()
        while (alerts.evaluate(crash, p.metrics(minutes=5))["status"] == "firing").any():
            time.sleep(1)  # the previous run's alert must resolve first
        t0 = time.monotonic()
        p.source.inject_fault("spike", duration_s=120, coin="ethereum", factor=0.9, change_24h=-20.0)
        while not (alerts.evaluate(crash, p.metrics(minutes=5))["status"] == "firing").any():
            if time.monotonic() - t0 > 120:
                raise SystemExit("ETH_CRASH did not fire in 120 s: is the monitor running (`dataops status`)?")
            time.sleep(0.5)
        detections.append(time.monotonic() - t0)
    p.source.clear_faults()
    print(f"detect_s_eth_crash={max(detections):.1f}")


if __name__ == "__main__":
    main()
