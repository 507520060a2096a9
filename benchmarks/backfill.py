"""Backfill: 30 days x 5 coins of 1-minute polls straight into crypto-prices, timed into Iceberg.

Produces 43,200 raw poll records (216,000 exploded rows) whose ticks lie in a past
window that no live poll can reach, then waits until DuckDB counts all of them.
Prints backfill_rows and backfill_s (first produce to the last row visible). With --resubmit the
explode job is cancelled and resubmitted first (it resumes from its last checkpoint), so the figure
is the job's first work after a (re)submission, before its code is warm.
Usage: .venv/bin/python benchmarks/backfill.py [--days 30 | --year] [--resubmit]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import running_pipeline
from confluent_kafka import Producer
from dataops.contract import EPOCH_SECONDS

LEVELS = {"bitcoin": 95000.0, "ethereum": 3500.0, "binancecoin": 650.0, "cardano": 0.75, "solana": 180.0}
SUPPLY = {"bitcoin": 19.8e6, "ethereum": 120.5e6, "binancecoin": 145e6, "cardano": 35.5e9, "solana": 470e6}


def polls(start: int, count: int, seed: int = 7, interval_s: int = 60, chunk: int = 50_000):
    """``count`` raw polls, ``interval_s`` apart from unix time ``start``: a random walk per coin.

    Drawn with numpy a chunk at a time and written through one %-template (the JSON the HTTP
    source stores, keys in the same order): a year of polls in a few seconds, where building each
    dict and ``json.dumps`` took most of the benchmark's time."""
    rng = np.random.default_rng(seed)
    coins = list(LEVELS)
    supply = np.array([SUPPLY[c] for c in coins])
    one = '"%s":{"usd":%%r,"usd_market_cap":%%r,"usd_24h_vol":%%r,"usd_24h_change":%%r,"last_updated_at":%%d}'
    template = "{" + ",".join(one % coin for coin in coins) + "}"
    level = np.array([LEVELS[c] for c in coins])
    for first in range(0, count, chunk):
        n = min(chunk, count - first)
        price = level * np.cumprod(1 + rng.normal(0, 0.001, size=(n, len(coins))), axis=0)
        level = price[-1]
        ts = (start + interval_s * (first + np.arange(n, dtype=np.int64)))[:, None].repeat(len(coins), axis=1)
        cap = price * supply
        values = np.stack([price, cap, cap * 0.03, rng.normal(0, 2, size=(n, len(coins))), ts], axis=2)  # poll, coin, field
        for row in values.reshape(n, -1).tolist():
            yield template % tuple(row)


def free_window(p, seconds: int, align: int = 60) -> int:
    """The start of a past window of ``seconds`` that no live poll reaches and that holds no row yet:
    the newest such window ending at least 400 days ago, and inside the range of ``last_updated_at``
    the record contract accepts (earlier ticks go to the dead letters, never to the table)."""
    floor = EPOCH_SECONDS[0]
    end = ((int(time.time()) - 400 * 86400) // align) * align
    sql = ("SELECT count(*) AS n, min(last_updated_at) AS t FROM crypto_prices_exploded "
           "WHERE last_updated_at >= {a} AND last_updated_at < {b}")  # fmt: skip
    while end - seconds >= floor:
        hit = p.sql(sql.format(a=end - seconds, b=end))
        if int(hit["n"][0]) == 0:
            return end - seconds
        end = (int(hit["t"][0]) // align) * align  # below the oldest row of this window
    raise SystemExit(f"no empty window of {seconds} s is left between {floor} and 400 days ago in the table; "
                     "run `make clean` (a fresh table) and try again")  # fmt: skip


def window_rows(p, start: int, end: int) -> int:
    sql = f"SELECT count(*) AS n FROM crypto_prices_exploded WHERE last_updated_at >= {start} AND last_updated_at < {end}"
    return int(p.sql(sql)["n"][0])


def backfill(p, start: int, count: int, interval_s: int, timeout: float) -> tuple[int, float, float]:
    """Produce ``count`` polls from ``start`` straight into the raw topic and wait until DuckDB
    counts all their rows. Returns (rows that arrived, seconds producing, seconds in all)."""
    end = start + interval_s * count
    rows = count * len(LEVELS)
    before = window_rows(p, start, end)
    producer = Producer(p.settings.kafka_config(**{  # big batches, and room for a chunk of polls before a wait
        "linger.ms": 50, "enable.idempotence": True, "compression.type": "lz4", "batch.size": 1_000_000,
        "queue.buffering.max.messages": 1_000_000, "queue.buffering.max.kbytes": 1_048_576}))  # fmt: skip
    t0 = time.time()
    for i, value in enumerate(polls(start, count, interval_s=interval_s)):
        while True:
            try:
                producer.produce(p.settings.topic_raw, value.encode())
                break
            except BufferError:
                producer.poll(0.01)
        if i % 1000 == 0:
            producer.poll(0)
    producer.flush(120)
    produced_s = time.time() - t0
    n = before
    while time.time() - t0 < timeout:
        n = window_rows(p, start, end)
        if n - before >= rows:
            break
        time.sleep(0.25)  # the figure is as fine as this wait
    return n - before, produced_s, time.time() - t0


def resubmit(p) -> None:
    """Cancel the explode job and let ``up`` resubmit it from its last checkpoint, then give the
    resubmitted job three checkpoint intervals and 2 s to take up the raw topic where it left off (a
    sleep: the backfill's rows lie in a window of their own, so a job still catching up delays the
    figure, it does not falsify it)."""
    job = p.flink.live_job(p.settings.flink_job_name)
    if job is None:
        raise SystemExit("the explode job is not running: run `dataops up` and try again")
    p.flink.cancel(job["jid"])
    p.up(progress=False)
    time.sleep(3 * p.settings.flink_checkpoint_interval_s + 2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=30, help="days of 1-minute polls (default 30: 216,000 rows)")
    ap.add_argument("--year", action="store_true",
                    help="a year of 1-minute polls (2,628,000 rows); prints backfill_year_* instead of backfill_*")  # fmt: skip
    ap.add_argument("--resubmit", action="store_true",
                    help="cancel and resubmit the explode job first: the backfill is its first work after a submission")  # fmt: skip
    ap.add_argument("--timeout", type=float, default=900)
    args = ap.parse_args()
    days, name = (365, "backfill_year") if args.year else (args.days, "backfill")
    p = running_pipeline()
    if args.resubmit:
        resubmit(p)
    minutes = days * 24 * 60
    start = free_window(p, days * 86400)
    arrived, produced_s, elapsed = backfill(p, start, minutes, 60, args.timeout)
    print(f"{name}_records={minutes}")
    print(f"{name}_rows={arrived}")
    print(f"{name}_produce_s={produced_s:.1f}")
    print(f"{name}_s={elapsed:.1f}")
    if arrived < minutes * len(LEVELS):
        raise SystemExit(f"only {arrived} of {minutes * len(LEVELS)} rows reached Iceberg within {args.timeout:.0f} s")


if __name__ == "__main__":
    main()
