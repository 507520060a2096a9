"""Start-up figures of the local stack.

Prints, one per line:
  cold_up_s           fresh state folder (artifacts copied by mvn from the local Maven cache,
                      storage formatted) → first record in crypto-prices
  warm_up_s           artifacts and data present, nothing running → first new record
  rss_mb_<component>  resident memory of each component once running (and their sum)

Stops the running stack first (it needs a cold start) and leaves it running at the end.
Usage: .venv/bin/python benchmarks/startup.py [--skip-cold]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import dataops
from dataops.stack import StatePaths


def up_to_first_record(p: dataops.Pipeline) -> float:
    """Seconds from `up` (nothing running) to a record written after the start."""
    t0 = time.time()
    p.up(progress=False)
    while time.time() - t0 < 300:
        latest = p.kafka.latest(p.settings.topic_raw)
        if len(latest) and latest.loc[0, "timestamp"].timestamp() >= t0:
            return time.time() - t0
        time.sleep(0.1)
    raise SystemExit("no record within 300 s: see `dataops logs connect`")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-cold", action="store_true", help="only the warm start")
    args = parser.parse_args()

    dataops.connect().stack.down(progress=False)
    if not args.skip_cold:
        tmp = Path(tempfile.mkdtemp(prefix="dataops-cold-"))
        try:
            cold = dataops.connect(state_dir=tmp / "state")
            print(f"cold_up_s={up_to_first_record(cold):.1f}", flush=True)
            cold.stack.down(progress=False)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    p = dataops.connect()
    if not StatePaths(p.settings.state_dir).lib.exists():
        p.stack.up(progress=False)  # first run ever: download outside the measured window
        p.stack.down(progress=False)
    print(f"warm_up_s={up_to_first_record(p):.1f}", flush=True)
    time.sleep(15)  # let the JVMs settle after start-up
    rss = p.stack.rss_mb()
    for name, mb in rss.items():
        print(f"rss_mb_{name}={mb:.0f}")
    print(f"rss_mb_kafka_plus_connect={rss.get('kafka', 0) + rss.get('connect', 0):.0f}")


if __name__ == "__main__":
    main()
