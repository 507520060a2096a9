"""Speed of the quality suite on exploded rows (column-wise checks).

Prints, one per line:
  suite_rows_per_s     the exploded-row suite (schema, freshness, ranges, completeness, duplicates,
                       frozen prices) plus the three tests of block 4 on 1,000,000 synthetic rows
  suite_day_s          the same on one day at the default poll rate (17,280 polls × 5 coins = 86,400 rows)
  suite_table_day_rows the rows of one day of the Iceberg table at the default poll rate: a day of
                       5-s polls (17,280 polls, 86,400 rows) sent through the live pipeline into a free
                       past window of the table (once: a later run finds them in place)
  suite_table_day_s    reading that day from the table (pyiceberg, the window pushed down to the scan) and
                       running the suite on it (``quality.run_on_layer(p, "table", minutes=1440, now=…)``)
  suite_table_rows     rows the whole table holds (the day above is read out of all of them)

Usage: .venv/bin/python benchmarks/quality.py [--rows 1000000] [--skip-table]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from _common import running_pipeline
from backfill import backfill, free_window, window_rows

from dataops import quality
from dataops.course import block4

COINS = ("bitcoin", "ethereum", "binancecoin", "cardano", "solana")
LEVELS = np.array([65000.0, 3500.0, 580.0, 0.45, 150.0])


def synthetic_rows(n: int, interval_s: float = 5.0, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    polls = n // len(COINS)
    walk = np.exp(np.cumsum(rng.normal(0, 0.001, size=(polls, len(COINS))), axis=0)) * LEVELS
    t0 = pd.Timestamp.now(tz="UTC").floor("s") - pd.Timedelta(seconds=interval_s * polls)
    times = t0 + pd.to_timedelta(np.arange(polls) * interval_s, unit="s")
    price = walk.ravel()
    return pd.DataFrame({
        "coin_id": np.tile(COINS, polls),
        "usd": price,
        "usd_market_cap": price * 2e7,
        "usd_24h_vol": price * 1e6,
        "usd_24h_change": rng.normal(0, 3, size=polls * len(COINS)),
        "last_updated_at": np.repeat(((times - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).to_numpy(), len(COINS)),
        "event_time": np.repeat(times, len(COINS)),
        "processed_at": np.repeat(times + pd.Timedelta(seconds=1), len(COINS)),
    })  # fmt: skip


def timed_suite(rows: pd.DataFrame, suite: quality.Suite) -> float:
    t0 = time.perf_counter()
    report = quality.run_suite(suite, rows=rows, now=rows["event_time"].max())
    seconds = time.perf_counter() - t0
    failed = report.failures()
    if len(failed):
        raise SystemExit(f"the synthetic rows should pass every check: {failed[['check', 'message']].to_dict('records')}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--skip-table", action="store_true", help="only the synthetic figures (no stack needed)")
    args = parser.parse_args()

    suite = quality.load_suite().with_tests(*EXAMPLE_TESTS)
    rows = synthetic_rows(args.rows)
    print(f"suite_rows_per_s={len(rows) / timed_suite(rows, suite):.0f}", flush=True)
    print(f"suite_day_s={timed_suite(synthetic_rows(86_400), suite):.2f}", flush=True)
    if not args.skip_table:
        p = running_pipeline()
        start, end = day_in_table(p)
        t0 = time.perf_counter()
        report = quality.run_on_layer(p, "table", quality.load_suite(), minutes=1440, now=end - 1)
        seconds = time.perf_counter() - t0
        print(f"suite_table_day_rows={window_rows(p, start, end)}")
        print(f"suite_table_day_s={seconds:.2f}  # {report.summary()['band']}")
        print(f"suite_table_rows={int(p.iceberg.row_count())}")


DAY_POLLS = 86_400 // 5  # one day at the default poll interval


def day_in_table(p) -> tuple[int, int]:
    """(start, end) unix seconds of a past day of 5-s polls the table holds, backfilled if none does."""
    marker = p.settings.paths.data / "benchmarks" / "quality_day.txt"
    if marker.exists():
        start = int(marker.read_text())
        if window_rows(p, start, start + 86_400) == DAY_POLLS * len(COINS):
            return start, start + 86_400
    start = free_window(p, 86_400, align=86_400)
    arrived, _, elapsed = backfill(p, start, DAY_POLLS, 5, timeout=600)
    if arrived < DAY_POLLS * len(COINS):
        raise SystemExit(f"only {arrived} of {DAY_POLLS * len(COINS)} rows of the day reached the table within 600 s")
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(str(start))
    print(f"# backfilled one day ({arrived} rows) into the table in {elapsed:.0f} s", flush=True)
    return start, start + 86_400


@quality.custom_test("volatilidad_extrema")
def _volatility(filas: pd.DataFrame) -> pd.Series:
    return filas["usd_24h_change"].abs() > filas["coin_id"].map(block4.VOLATILITY_LIMITS).fillna(block4.DEFAULT_LIMIT)


@quality.custom_test("capitalizacion_inconsistente")
def _market_cap(filas: pd.DataFrame) -> pd.Series:
    return (filas["usd_market_cap"] < filas["usd"]) | ((filas["usd_market_cap"] == 0) & (filas["usd"] > 0))


EXAMPLE_TESTS = (_market_cap,)  # volatility is random in synthetic data: it would fail, so it is left out


if __name__ == "__main__":
    main()
