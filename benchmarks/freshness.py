"""Freshness: time from the simulator changing a price to that price being visible in DuckDB.

Watches DuckDB for new (coin_id, last_updated_at) rows. A price changes at its
``last_updated_at`` tick; the row's freshness is the moment DuckDB first shows it
minus that tick (whole seconds, so each sample may overstate by < 1 s).
Prints freshness_p50_s, freshness_p95_s and freshness_samples.
Usage: .venv/bin/python benchmarks/freshness.py [--seconds 120]
"""

from __future__ import annotations

import argparse

import numpy as np
from _common import running_pipeline, watch_freshness


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=120.0, help="how long to watch (default 120)")
    args = ap.parse_args()
    p = running_pipeline()
    samples = watch_freshness(p.sql, args.seconds)
    if not samples:
        raise SystemExit("no new price reached DuckDB while watching: is the pipeline running? (`make status`)")
    print(f"freshness_samples={len(samples)}")
    print(f"freshness_p50_s={np.percentile(samples, 50):.1f}")
    print(f"freshness_p95_s={np.percentile(samples, 95):.1f}")


if __name__ == "__main__":
    main()
