"""Chaos: kill -9 a random component every 30-90 s, restart it, then account for every served row.

For --minutes (default 10): sleep 30-90 s, kill -9 one of broker, Connect, Flink jobmanager,
Flink taskmanager, monitor, simulator, and run `up` at once (what a supervisor would do); the
recovery time is the kill to the first row in the table with a later `last_updated_at`. At the
end, every good poll the simulator served since the start (its served log, read as the run goes)
is compared with the table: (coin, last_updated_at, price).

Prints, one per line:
  chaos_kills             kills done (and chaos_kills_<component>)
  chaos_lost_rows         served rows the table lacks
  chaos_inflight_polls    polls lost while in flight in a killed Connect worker (answered by the API
                          in the poll interval before the kill, never produced): the one loss allowed
  chaos_lost_rows_other   lost rows not explained by a Connect kill (target 0)
  chaos_duplicate_rows    rows in the table more than once (target 0)
  chaos_changed_rows      rows whose price differs from the served one (target 0)
  chaos_recovery_p95_s    kill to new rows in the table, 95th percentile (target <= 60)

Usage: .venv/bin/python benchmarks/chaos.py [--minutes 10] [--seed 1] [--only connect,kafka]
"""

from __future__ import annotations

import argparse
import random
import signal
import threading
import time

import numpy as np
import pandas as pd
from _common import running_pipeline

from dataops.contract import contract_for
from dataops.reliability import compare, served_rows

COMPONENTS = ("kafka", "connect", "flink-jobmanager", "flink-taskmanager", "monitor", "simulator")


class ServedCollector(threading.Thread):
    """Reads the served log as the run goes (a killed simulator keeps only its file)."""

    def __init__(self, p, since: int) -> None:
        super().__init__(daemon=True)
        self.p, self.last, self.pages = p, since, []
        self.stop = threading.Event()

    def fetch(self) -> None:
        try:
            page = self.p.source.served(since=self.last)
        except Exception:  # noqa: BLE001 - the simulator may be the one killed: read again later
            return
        if len(page):
            self.pages.append(page)
            self.last = int(page["seq"].max())

    def run(self) -> None:
        while not self.stop.wait(2.0):
            self.fetch()

    def frame(self) -> pd.DataFrame:
        return pd.concat(self.pages, ignore_index=True).drop_duplicates("seq") if self.pages else pd.DataFrame()


def newest_tick(p) -> int:
    try:
        value = p.sql("SELECT max(last_updated_at) AS t FROM crypto_prices_exploded")["t"][0]
        return int(value) if value == value else 0
    except Exception:  # noqa: BLE001 - mid-recovery: no answer yet
        return 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", help="comma-separated components to kill (default: all six)")
    ap.add_argument("--recovery-timeout", type=float, default=180.0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    components = tuple(args.only.split(",")) if args.only else COMPONENTS
    p = running_pipeline()
    interval = p.settings.poll_interval_s
    seq0 = p.source.last_seq()
    collector = ServedCollector(p, seq0)
    collector.start()
    end = time.time() + 60 * args.minutes
    kills: list[dict] = []
    while time.time() < end:
        time.sleep(min(rng.uniform(30, 90), max(end - time.time(), 0)))
        if time.time() >= end:
            break
        name = rng.choice(components)
        collector.fetch()
        t_kill = time.time()
        p.stack.stop(name, signal.SIGKILL)
        p.up(progress=False)
        recovered = None
        while time.time() - t_kill < args.recovery_timeout:
            if newest_tick(p) > t_kill:
                recovered = time.time() - t_kill
                break
            time.sleep(1)
        kills.append({"component": name, "at": t_kill, "recovery_s": recovered})
        print(f"# kill {len(kills)}: {name} at {time.strftime('%H:%M:%S', time.localtime(t_kill))}, "
              f"new rows after {'never' if recovered is None else f'{recovered:.0f} s'}", flush=True)  # fmt: skip
    settle_until = time.time() + 90  # let every poll in flight land
    while time.time() < settle_until and newest_tick(p) < time.time() - 3 * interval - 10:
        time.sleep(2)
    time.sleep(3 * interval + 10)
    collector.stop.set()
    collector.join()
    collector.fetch()
    served = served_rows(collector.frame(), p.settings)
    table = p.iceberg.read(columns=("coin_id", "last_updated_at", contract_for(p.settings).price))
    # judge only what was served before the settle wait began (later polls may still be in flight)
    served = served[served["served_at"] <= pd.Timestamp(settle_until - 90, unit="s", tz="UTC")]
    result = compare(served, table, p.settings)
    lost = result.lost
    connect_kills = [k["at"] for k in kills if k["component"] == "connect"]
    served_s = lost["served_at"].map(lambda ts: ts.timestamp()) if len(lost) else pd.Series(dtype=float)
    inflight_mask = served_s.map(lambda s: any(k - interval - 2 <= s <= k + 1 for k in connect_kills)) if len(lost) else served_s
    inflight_polls = lost.loc[inflight_mask.astype(bool), "seq"].nunique() if len(lost) else 0
    other = int((~inflight_mask.astype(bool)).sum()) if len(lost) else 0
    recoveries = [k["recovery_s"] if k["recovery_s"] is not None else float("inf") for k in kills]
    print(f"chaos_kills={len(kills)}")
    for name in components:
        print(f"chaos_kills_{name.replace('-', '_')}={sum(k['component'] == name for k in kills)}")
    print(f"chaos_served_rows={result.expected}")
    print(f"chaos_lost_rows={len(lost)}")
    print(f"chaos_inflight_polls={inflight_polls}")
    print(f"chaos_lost_rows_other={other}")
    print(f"chaos_duplicate_rows={int((result.repeated['copies'] - 1).sum()) if len(result.repeated) else 0}")
    print(f"chaos_changed_rows={len(result.changed)}")
    print(f"chaos_recovery_p95_s={np.percentile(recoveries, 95):.1f}" if recoveries else "chaos_recovery_p95_s=nan")
    if other:
        print("# lost rows not explained by a Connect kill:", lost[~inflight_mask.astype(bool)].head(10).to_dict("records"))


if __name__ == "__main__":
    main()
