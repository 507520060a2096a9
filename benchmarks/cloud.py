"""The confluent profile's local stand-ins (`dataops up --with cloud-fixtures`): start-up, memory, and
what Avro saves over JSON on the pipeline's own rows.

Prints, one per line:
  cloud_up_s              the cloud fixtures (SASL_SSL broker, Schema Registry, Iceberg REST catalog and
                          its Tableflow-shaped front, connect-cloud) started from stopped until healthy,
                          their managed side provisioned (topics, HTTP source, explode job, Tableflow's
                          table and sink) and the two topics' Avro subjects registered
  cloud_freshness_p50_s   a price change in the simulator -> that price seen by DuckDB through the
  cloud_freshness_p95_s   Tableflow front, in the confluent profile (whole-second ticks: each sample may
                          overstate by < 1 s); cloud_freshness_samples how many
  cloud_fixture_rss_mb    their resident memory, summed, once up
  rss_mb_<fixture>        each one's
  json_bytes_per_row      the exploded rows the local pipeline wrote to crypto-prices-exploded, as it wrote them (JSON)
  avro_bytes_per_row      the same rows in Confluent's Avro wire format (magic byte, schema id, body)
  avro_vs_json            their ratio
  avro_wire_bytes_per_row the rows the stand-in's Flink job wrote to the fixtures' topic in Avro, as the broker holds them
  json_bytes_per_poll     the polls the local HTTP source wrote to crypto-prices (the API's JSON text)
  avro_wire_bytes_per_poll the polls the stand-in's HTTP source wrote to the fixtures' crypto-prices in Avro
  with --course:
  cloud_course_headless_s the seven masters run headless in the confluent profile (its one .env)
  cloud_course_failed     how many of them failed (0 expected)
  cloud_cells_skipped     the cells that said what the cloud does not offer (⏭) and went on
  cloud_self_checks_passed the self-checks that ran and said ✔

The fixtures run beside the local stack (started when down); any that were running are stopped
first, for a cold start, and left running at the end; the others are stopped again (the stand-in's
Flink job canceled first).
Usage: .venv/bin/python benchmarks/cloud.py [--rows 200] [--seconds 90] [--course]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from _common import running_pipeline, watch_freshness

import dataops
from dataops.automation.standin import provision, withdraw
from dataops.profiles import standin
from dataops.errors import SchemaRejectedError
from dataops.registry import avro
from dataops.registry.layer import SchemaRegistryLayer
from dataops.stack.engines import GROUPS
from dataops.contract import SCHEMA_DIR

CONTRACTS = {"topic_raw": "raw_poll.json", "topic_exploded": "exploded_row.json"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200, help="exploded rows to encode (the newest)")
    parser.add_argument("--seconds", type=float, default=90.0, help="how long to watch the freshness (default 90)")
    parser.add_argument("--course", action="store_true", help="also run the seven masters in the confluent profile")
    args = parser.parse_args()

    p = running_pipeline()
    fixtures = list(GROUPS["cloud-fixtures"])
    were_running = [name for name in fixtures if p.stack.process(name)]
    for name in reversed(were_running):
        p.stack.stop(name)

    t0 = time.monotonic()
    p.stack.up(fixtures, progress=False)
    provision(p.settings, say=lambda line: None)
    registry = SchemaRegistryLayer(p.settings)
    ids = {}
    for field, contract in CONTRACTS.items():
        topic = getattr(p.settings, field)
        schema = avro.avro_schema(SCHEMA_DIR / contract)
        try:
            ids[topic] = (registry.register(avro.subject(topic), schema), schema)
        except SchemaRejectedError as exc:  # a course exercise left another schema there
            print(f"# {exc}: the rows are encoded with id 0", flush=True)
            ids[topic] = (0, schema)
    print(f"cloud_up_s={time.monotonic() - t0:.1f}", flush=True)
    freshness(dataops.connect(env_file=standin.client_env(p.settings)), args.seconds)

    rss = {name: mb for name, mb in p.stack.rss_mb().items() if name in fixtures}
    print(f"cloud_fixture_rss_mb={sum(rss.values()):.0f}")
    for name, mb in rss.items():
        print(f"rss_mb_{name}={mb:.0f}")

    frame = p.kafka.latest(p.settings.topic_exploded, args.rows, wait_s=60)
    rows = [(value, payload) for value, payload in zip(frame["value"], frame["payload"]) if isinstance(payload, dict)]
    if not rows:
        raise SystemExit(f"no row in {p.settings.topic_exploded} within 60 s: see `dataops status`")
    sid, schema = ids[p.settings.topic_exploded]
    json_bytes = sum(len(value.encode("utf-8")) for value, _ in rows)
    avro_bytes = sum(len(avro.encode(schema, sid, payload)) for _, payload in rows)
    assert all(avro.decode(avro.encode(schema, sid, row), {sid: schema}) == row for _, row in rows[:20])
    print(f"json_bytes_per_row={json_bytes / len(rows):.1f}")
    print(f"avro_bytes_per_row={avro_bytes / len(rows):.1f}")
    print(f"avro_vs_json={avro_bytes / json_bytes:.2f}")
    print(f"# {len(rows)} rows; example: {json.dumps(rows[0][1])[:120]}")
    user = dataops.connect(env_file=standin.client_env(p.settings))
    topic = user.settings.topic_exploded
    written = [r for r in user.kafka.read(topic, {q: max(0, end - args.rows // 3) for q, end in user.kafka.end_offsets(topic).items()})
               if r.schema_id is not None]  # fmt: skip
    if written:
        print(f"avro_wire_bytes_per_row={sum(r.size_bytes for r in written) / len(written):.1f}")
    polls = [len(v.encode("utf-8")) for v in p.kafka.latest(p.settings.topic_raw, 30, wait_s=30)["value"] if v]
    raw = user.settings.topic_raw
    sent = [r.size_bytes for r in user.kafka.read(raw, {q: max(0, end - 30) for q, end in user.kafka.end_offsets(raw).items()})
            if r.schema_id is not None]  # fmt: skip
    if polls and sent:
        print(f"json_bytes_per_poll={sum(polls) / len(polls):.1f}")
        print(f"avro_wire_bytes_per_poll={sum(sent) / len(sent):.1f}")

    if args.course:
        course(standin.client_env(p.settings))

    if not were_running:
        withdraw(p.settings)
    for name in reversed(fixtures):
        if name not in were_running:
            p.stack.stop(name)


def freshness(user: dataops.Pipeline, seconds: float) -> None:
    """benchmarks/freshness.py's watch, through the confluent profile's DuckDB (the Tableflow front)."""
    samples = watch_freshness(user.sql, seconds)
    if not samples:
        raise SystemExit("no new price reached DuckDB through the Tableflow front: see `dataops status` and connect-cloud's log")
    print(f"cloud_freshness_samples={len(samples)}")
    print(f"cloud_freshness_p50_s={np.percentile(samples, 50):.1f}")
    print(f"cloud_freshness_p95_s={np.percentile(samples, 95):.1f}", flush=True)


def course(env_file) -> None:
    """The masters as a Confluent Cloud user runs them: the one ``.env``, headless."""
    import os
    import re
    import tempfile
    from pathlib import Path

    from dataops.runner import run_notebooks

    os.environ["DATAOPS_ENV_FILE"] = str(env_file)
    with tempfile.TemporaryDirectory() as out:
        t0 = time.monotonic()
        results = run_notebooks(output_dir=out)
        print(f"cloud_course_headless_s={time.monotonic() - t0:.1f}")
        print(f"cloud_course_failed={int((results['status'] != 'ok').sum())}")
        skipped = sum("".join(o.get("text", "")).count("⏭ se omite") for nb in Path(out).glob("*.ipynb")
                      for cell in json.loads(nb.read_text(encoding="utf-8"))["cells"] for o in cell.get("outputs", []))  # fmt: skip
        print(f"cloud_cells_skipped={skipped}")
    passed = sum(int(n) for n in re.findall(r"(\d+) ✔", " ".join(results["checks"])))
    print(f"cloud_self_checks_passed={passed}")


if __name__ == "__main__":
    main()
