"""Start-up figures of the local stack.

Prints, one per line:
  cold_up_s           fresh state folder (artifacts copied by mvn from the local Maven cache,
                      Flink wheels from the pip cache, storage formatted) → first record in crypto-prices
  warm_up_s           artifacts and data present, nothing running → first new record
  warm_up_all_s       same start, until `up` returns: every component healthy, Flink job running
  rss_mb_<component>  resident memory of each component once running (and sums)

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


def up_to_first_record(p: dataops.Pipeline) -> tuple[float, float]:
    """Seconds from `up` (nothing running) to the first record written after the start,
    and to `up` returning (whole pipeline set up)."""
    t0 = time.time()
    p.up(progress=False)
    all_up = time.time() - t0
    while time.time() - t0 < 300:
        records = [r for r in p.kafka.read(p.settings.topic_raw, _offsets_at(p, t0)) if r.timestamp_ms >= t0 * 1000]
        if records:
            # The connector stamps each record with the time its poll started.
            return min(r.timestamp_ms for r in records) / 1000 - t0, all_up
        time.sleep(0.5)
    raise SystemExit("no record within 300 s: see `dataops logs connect`")


def _offsets_at(p: dataops.Pipeline, ts: float) -> dict[int, int]:
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer(p.settings.kafka_config(**{"group.id": "dataops-bench"}))
    try:
        parts = [TopicPartition(p.settings.topic_raw, i, int(ts * 1000)) for i in p.kafka.end_offsets(p.settings.topic_raw)]
        return {tp.partition: tp.offset for tp in consumer.offsets_for_times(parts, timeout=10) if tp.offset >= 0}
    finally:
        consumer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-cold", action="store_true", help="only the warm start")
    args = parser.parse_args()

    dataops.connect().stack.down(progress=False)
    if not args.skip_cold:
        tmp = Path(tempfile.mkdtemp(prefix="dataops-cold-"))
        try:
            cold = dataops.connect(state_dir=tmp / "state")
            print(f"cold_up_s={up_to_first_record(cold)[0]:.1f}", flush=True)
            cold.stack.down(progress=False)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    p = dataops.connect()
    if not StatePaths(p.settings.state_dir).lib.exists():
        p.stack.up(progress=False)  # first run ever: download outside the measured window
        p.stack.down(progress=False)
    first, everything = up_to_first_record(p)
    print(f"warm_up_s={first:.1f}", flush=True)
    print(f"warm_up_all_s={everything:.1f}", flush=True)
    time.sleep(15)  # let the JVMs settle after start-up
    rss = p.stack.rss_mb()
    for name, mb in rss.items():
        print(f"rss_mb_{name.replace('-', '_')}={mb:.0f}")
    print(f"rss_mb_kafka_plus_connect={rss.get('kafka', 0) + rss.get('connect', 0):.0f}")
    print(f"rss_mb_total={sum(rss.values()):.0f}")


if __name__ == "__main__":
    main()
