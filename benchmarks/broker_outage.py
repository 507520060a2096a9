"""A long broker outage: kill -9 the broker for longer than the Connect producer waits (max.block.ms, 60 s).

The source task's transaction cannot commit, the task fails, and `up` restarts the broker and the
task; the new task re-sends the polls the API answered that never committed (the HTTP source keeps
them in the worker until its transaction commits). Every served row must then be in the table once.

Prints: broker_outage_s, broker_outage_served_rows, broker_outage_lost_rows, broker_outage_duplicate_rows,
broker_outage_changed_rows, broker_outage_resent_polls (from the Connect log).
Usage: .venv/bin/python benchmarks/broker_outage.py [--outage-s 75]
"""

from __future__ import annotations

import argparse
import re
import signal
import time

from _common import running_pipeline

from dataops.reliability import compare, served_rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--outage-s", type=float, default=75.0)
    args = ap.parse_args()
    p = running_pipeline()
    log = p.settings.paths.log_file("connect")
    log_start = log.stat().st_size if log.exists() else 0
    seq0 = p.source.last_seq()
    time.sleep(2 * p.settings.poll_interval_s)
    p.stack.stop("kafka", signal.SIGKILL)
    time.sleep(args.outage_s)
    p.up(progress=False)
    time.sleep(8 * p.settings.poll_interval_s)
    served = served_rows(p.source.served(since=seq0), p.settings)
    served = served[served["seq"] <= p.source.last_seq() - 3]
    deadline = time.monotonic() + 120
    while True:
        result = compare(served, p.iceberg.read(columns=("coin_id", "last_updated_at", "usd")), p.settings)
        if result.lost.empty or time.monotonic() > deadline:
            break
        time.sleep(3)
    with log.open("rb") as fh:
        fh.seek(log_start)
        text = fh.read().decode("utf-8", "replace")
    resent = sum(int(n) for n in re.findall(r"re-sending (\d+) poll", text))
    print(f"broker_outage_s={args.outage_s:.0f}")
    print(f"broker_outage_served_rows={result.expected}")
    print(f"broker_outage_lost_rows={len(result.lost)}")
    print(f"broker_outage_duplicate_rows={int((result.repeated['copies'] - 1).sum()) if len(result.repeated) else 0}")
    print(f"broker_outage_changed_rows={len(result.changed)}")
    print(f"broker_outage_resent_polls={resent}")


if __name__ == "__main__":
    main()
