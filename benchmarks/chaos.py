"""Chaos: kill -9 a random component every 30-90 s, or freeze them all as a sleeping laptop does,
then account for every served row.

--fault kill (default), for --minutes (default 10): sleep 30-90 s, kill -9 one of broker, Connect,
Flink jobmanager, Flink taskmanager, monitor, simulator, and run `up` at once (what a supervisor
would do); the recovery time is the kill to the first row in the table with a later
`last_updated_at`.

--fault sleep: the lid closes at the break. SIGSTOP every component's process group (all six, the
simulator too: on a sleeping laptop everything stops) for --sleep-s seconds (default 120), then
SIGCONT them all: their clocks have jumped. No `up` is run: the pipeline must heal by itself. Only
when no new row reaches the table within --recovery-timeout is `up` run (sleep_needed_up=1), as a
learner would. The recovery time is SIGCONT to the first row with a later `last_updated_at`.
--cycles repeats the sleep; each wake-up is followed by a minute of running, judged too.

At the end, every good poll the simulator served since the start (its served log, read as the run
goes) is compared with the table: (coin, last_updated_at, price).

Prints, one per line, with --fault kill:
  chaos_kills             kills done (and chaos_kills_<component>)
  chaos_lost_rows         served rows the table lacks
  chaos_inflight_polls    polls lost while in flight in a killed Connect worker (answered by the API
                          in the poll interval before the kill, never produced): the one loss allowed
  chaos_lost_rows_other   lost rows not explained by a Connect kill (target 0)
  chaos_duplicate_rows    rows in the table more than once (target 0)
  chaos_changed_rows      rows whose price differs from the served one (target 0)
  chaos_recovery_p95_s    kill to new rows in the table, 95th percentile (target <= 60)
with --fault sleep:
  sleep_s                 how long every component was stopped
  sleep_cycles            sleeps done
  sleep_recovery_s        SIGCONT to new rows in the table (the slowest cycle; target <= 60)
  sleep_needed_up         1 when the pipeline did not heal by itself and `up` was run (target 0)
  sleep_served_rows       served rows judged
  sleep_lost_rows         served rows the table lacks (target 0)
  sleep_duplicate_rows    rows in the table more than once (target 0)
  sleep_changed_rows      rows whose price differs from the served one (target 0)

Usage: .venv/bin/python benchmarks/chaos.py [--minutes 10] [--seed 1] [--only connect,kafka]
       .venv/bin/python benchmarks/chaos.py --fault sleep [--sleep-s 120] [--cycles 1]
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


def wait_new_rows(p, since: float, timeout: float) -> float | None:
    """Seconds from ``since`` to the first row in the table with a later ``last_updated_at`` (None: none in time)."""
    while time.time() - since < timeout:
        if newest_tick(p) > since:
            return time.time() - since
        time.sleep(1)
    return None


def account(p, collector: ServedCollector):
    """Let every poll in flight land, then compare what was served with the table; the
    :class:`~dataops.reliability.Accounting` (polls served during the last wait are not judged)."""
    interval = p.settings.poll_interval_s
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
    return compare(served, table, p.settings)


def duplicates(result) -> int:
    return int((result.repeated["copies"] - 1).sum()) if len(result.repeated) else 0


def kill_chaos(p, args, collector: ServedCollector) -> None:
    rng = random.Random(args.seed)
    components = tuple(args.only.split(",")) if args.only else COMPONENTS
    interval = p.settings.poll_interval_s
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
        recovered = wait_new_rows(p, t_kill, args.recovery_timeout)
        kills.append({"component": name, "at": t_kill, "recovery_s": recovered})
        print(f"# kill {len(kills)}: {name} at {time.strftime('%H:%M:%S', time.localtime(t_kill))}, "
              f"new rows after {'never' if recovered is None else f'{recovered:.0f} s'}", flush=True)  # fmt: skip
    result = account(p, collector)
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
    print(f"chaos_duplicate_rows={duplicates(result)}")
    print(f"chaos_changed_rows={len(result.changed)}")
    print(f"chaos_recovery_p95_s={np.percentile(recoveries, 95):.1f}" if recoveries else "chaos_recovery_p95_s=nan")
    if other:
        print("# lost rows not explained by a Connect kill:", lost[~inflight_mask.astype(bool)].head(10).to_dict("records"))


def sleep_chaos(p, args, collector: ServedCollector) -> None:
    interval = p.settings.poll_interval_s
    recoveries: list[float] = []
    needed_up = 0
    time.sleep(6 * interval)  # rows flowing before the lid closes
    for cycle in range(1, args.cycles + 1):
        collector.fetch()
        frozen = p.stack.pause(COMPONENTS)
        t_stop = time.time()
        try:
            time.sleep(args.sleep_s)
        finally:
            t_cont = time.time()
            p.stack.resume(frozen)
        print(f"# sleep {cycle}: {len(frozen)} components stopped at {time.strftime('%H:%M:%S', time.localtime(t_stop))} "
              f"for {t_cont - t_stop:.0f} s", flush=True)  # fmt: skip
        recovered = wait_new_rows(p, t_cont, args.recovery_timeout)
        if recovered is None:  # not healed by itself: what a learner would do next
            needed_up += 1
            print(f"# sleep {cycle}: no new rows {args.recovery_timeout:.0f} s after SIGCONT; running `up`", flush=True)
            p.up(progress=True)
            recovered = wait_new_rows(p, t_cont, time.time() - t_cont + args.recovery_timeout)
        recoveries.append(recovered if recovered is not None else float("inf"))
        print(f"# sleep {cycle}: new rows {'never' if recovered is None else f'{recovered:.1f} s'} after SIGCONT", flush=True)
        time.sleep(60)  # the polls after the wake-up are judged too
    result = account(p, collector)
    print(f"sleep_s={args.sleep_s:g}")
    print(f"sleep_cycles={len(recoveries)}")
    print(f"sleep_recovery_s={max(recoveries):.1f}")
    print(f"sleep_needed_up={needed_up}")
    print(f"sleep_served_rows={result.expected}")
    print(f"sleep_lost_rows={len(result.lost)}")
    print(f"sleep_duplicate_rows={duplicates(result)}")
    print(f"sleep_changed_rows={len(result.changed)}")
    for what, rows in (("lost", result.lost), ("repeated", result.repeated), ("changed", result.changed)):
        if len(rows):
            print(f"# {what} rows:", rows.head(10).to_dict("records"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fault", choices=("kill", "sleep"), default="kill",
                    help="kill: kill -9 one component at a time; sleep: SIGSTOP them all, then SIGCONT")
    ap.add_argument("--minutes", type=float, default=10.0, help="kill: how long to run")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", help="kill: comma-separated components to kill (default: all six)")
    ap.add_argument("--sleep-s", type=float, default=120.0, help="sleep: how long every component stays stopped (60-600)")
    ap.add_argument("--cycles", type=int, default=1, help="sleep: how many sleeps")
    ap.add_argument("--recovery-timeout", type=float, default=180.0)
    args = ap.parse_args()
    p = running_pipeline()
    collector = ServedCollector(p, p.source.last_seq())
    collector.start()
    (sleep_chaos if args.fault == "sleep" else kill_chaos)(p, args, collector)


if __name__ == "__main__":
    main()
