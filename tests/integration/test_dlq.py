"""Every bad record is contained, against the real stack: it goes to the dead letters with its reason, the rest flows.

The poisoned polls use old timestamps (2010..2019, unique per run) and the project's coin ids,
so the good coins that land never collide with a served poll's (coin_id, last_updated_at).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

import pytest
from confluent_kafka import Producer

from dataops.config import PROJECT_ROOT
from dataops.contract import load_contract
from tests.integration.helpers import connector_polls, expected_rows, last_seq, wait_for

pytestmark = pytest.mark.integration

GOOD = {"usd": 95000.5, "usd_market_cap": 1.8e12, "usd_24h_vol": 3.0e10, "usd_24h_change": -1.2}


def entry(ts: int, **over) -> dict:
    return {**GOOD, "last_updated_at": ts, **over}


def old_ts() -> int:
    """A last_updated_at no served poll carries (the simulator serves now)."""
    return 1_262_304_000 + random.randrange(0, 300_000_000)


def produce(p, topic: str, values: list[bytes | str], key: bytes | None = None) -> None:
    producer = Producer(p.settings.kafka_config())
    for value in values:
        producer.produce(topic, value.encode() if isinstance(value, str) else value, key=key)
    assert producer.flush(30) == 0


def table_keys(p, timestamps) -> set[tuple[str, int]]:
    from pyiceberg.expressions import In

    rows = p.iceberg.read(columns=("coin_id", "last_updated_at"), row_filter=In("last_updated_at", sorted(timestamps)))
    return set(zip(rows["coin_id"], rows["last_updated_at"].astype(int)))


def letters_since(p, start) -> list[dict]:
    from dataops.dlq.layer import parse_letter

    fields = load_contract().coin_fields
    return [parse_letter(r, fields) for r in p.kafka.read(p.settings.topic_dlq, start)]


def test_the_flink_job_and_the_python_contract_judge_every_coin_alike():
    """The job's own SQL, planned in a local Flink over poisoned bodies, gives the reasons contract.violation gives.
    Needs the Flink wheels and the project's jars, not the running stack: installed here when missing
    (whichever test ran before), in the state folder tests.integration.flink_verdicts reads them from."""
    from dataops.artifacts import install_artifacts
    from dataops.config import load_settings

    state = load_settings(env_file="/nonexistent").paths  # the settings flink_verdicts loads
    install_artifacts(state, quiet=True)  # each step only when needed
    ts = 1_790_000_000
    bodies = [
        '{"bitcoin": %s, "ethereum": {"usd": NaN, "last_updated_at": %d}, "solana": {"usd": 1, "usd_market_cap": -Infinity, "last_updated_at": %d}}'
        % (json.dumps(entry(ts)), ts, ts),
        json.dumps({"a": entry(ts, usd=0), "b": entry(ts, usd_market_cap=-1), "c": entry(ts, usd_24h_vol=-5), "d": entry(ts, usd="NaN"),
                    "e": entry(ts, usd="12"), "f": entry(ts, last_updated_at=1.79e9), "g": entry(ts, last_updated_at=12),
                    "h": [1], "Bad Id": entry(ts), "i": entry(ts, usd_24h_change=None), "j": entry(ts, usd=True),
                    "k": {"usd": 1}, "l": entry(ts, last_updated_at="1790000000")}),
        '{"a": %s, "b": %s}' % (json.dumps(entry(ts)).replace("95000.5", "1e400"), json.dumps(entry(ts))),
        "not json", "[]", "{}",
    ]
    paths = [str(state.flink_python), str(PROJECT_ROOT / "lib"), str(PROJECT_ROOT)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    out = subprocess.run([sys.executable, "-m", "tests.integration.flink_verdicts"], input=json.dumps(bodies), env=env,
                         capture_output=True, text=True, timeout=300, cwd=PROJECT_ROOT)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    flink = {(i, coin): reason for i, poll_error, coin, reason in json.loads(out.stdout.strip().splitlines()[-1]) if coin is not None}
    polls = {i: poll_error for i, poll_error, coin, _ in json.loads(out.stdout.strip().splitlines()[-1]) if poll_error}
    assert polls == {3: "unparseable_json", 4: "not_a_json_object", 5: "empty_poll"}
    contract = load_contract()
    python = {(i, coin): contract.violation(coin, e) for i, body in enumerate(bodies[:3]) for coin, e in json.loads(body).items()}
    assert flink == python
    assert python[(0, "ethereum")] == "non_finite:usd" and python[(0, "bitcoin")] is None  # a bare NaN spoils one coin, not the poll
    assert python[(2, "a")] == "non_finite:usd" and python[(1, "b")] == "negative:usd_market_cap"


def test_poisoned_coins_go_to_the_dlq_with_their_reason_and_the_good_coins_of_the_poll_land(pipeline):
    p = pipeline
    t = old_ts()
    dlq_start = p.kafka.end_offsets(p.settings.topic_dlq)
    exploded_start = p.kafka.end_offsets(p.settings.topic_exploded)
    # Poll 1 is not JSON only because of a bare NaN (as Python's json.dumps writes it).
    poll1 = json.dumps({"bitcoin": entry(t), "ethereum": entry(t, usd=0), "binancecoin": entry(t, usd_market_cap=-1),
                        "cardano": entry(t, usd_24h_vol=-5), "solana": entry(t, usd=float("nan"))})  # fmt: skip
    poll2 = json.dumps({"bitcoin": entry(t + 1), "ethereum": entry(t + 1, usd=float("inf")), "cardano": entry(t + 1),
                        "solana": entry(t + 1, usd_24h_vol=float("-inf"))})  # fmt: skip
    assert "NaN" in poll1 and "Infinity" in poll2
    produce(p, p.settings.topic_raw, [poll1, poll2])
    expected = {("ethereum", t): "non_positive:usd", ("binancecoin", t): "negative:usd_market_cap",
                ("cardano", t): "negative:usd_24h_vol", ("solana", t): "non_finite:usd",
                ("ethereum", t + 1): "non_finite:usd", ("solana", t + 1): "non_finite:usd_24h_vol"}  # fmt: skip
    good = {("bitcoin", t), ("bitcoin", t + 1), ("cardano", t + 1)}

    def ours():
        found = {(d["coin_id"], d["entry"]["last_updated_at"]): d for d in letters_since(p, dlq_start)
                 if d["source"] == "flink" and isinstance(d["entry"], dict) and d["entry"].get("last_updated_at") in (t, t + 1)}  # fmt: skip
        return found if set(found) >= set(expected) else None

    letters = wait_for(ours, 60, "the poisoned coins in the dead letters")
    assert {k: d["reason"] for k, d in letters.items()} == expected
    assert all(d["raw"] in (poll1, poll2) for d in letters.values())  # the original record, byte for byte
    wait_for(lambda: table_keys(p, {t, t + 1}) >= good, 90, "the good coins of the poisoned polls in the table", step=2)
    assert not table_keys(p, {t, t + 1}) & set(expected)
    rows = [json.loads(r.value) for r in p.kafka.read(p.settings.topic_exploded, exploded_start)]
    exploded = {(r["coin_id"], r["last_updated_at"]) for r in rows if r["last_updated_at"] in (t, t + 1)}
    assert exploded == good


def test_a_record_the_sink_cannot_convert_goes_to_the_dlq_and_materialisation_goes_on(pipeline):
    p = pipeline
    t = old_ts()
    dlq_start = p.kafka.end_offsets(p.settings.topic_dlq)
    row = {"coin_id": "bitcoin", **entry(t), "event_time": "2010-01-01T00:00:00Z", "processed_at": None}
    # Timestamps the sink's own parser refuses (inside its put(), where Connect tolerates nothing):
    # a word, a 13th month, a boolean.
    bad_times = [{**row, "event_time": "yesterday"}, {**row, "event_time": "2010-13-01T00:00:00Z"},
                 {**row, "processed_at": True}]  # fmt: skip
    produce(p, p.settings.topic_exploded, ["not json at all", "[1, 2]", json.dumps({**row, "usd": "ninety"}),
                                           *map(json.dumps, bad_times)], key=b"bitcoin")  # fmt: skip
    seq = last_seq(p)

    def sink_letters():
        found = [d for d in letters_since(p, dlq_start) if d["source"] == "sink"]
        return found if len(found) >= 6 else None

    letters = wait_for(sink_letters, 60, "the six unconvertible rows in the dead letters")
    assert sorted(d["reason"] for d in letters) == ["sink_cannot_convert"] * 5 + ["sink_unreadable"]
    details = [d["detail"] for d in letters]
    assert any("ninety" in d for d in details), details
    assert sum("field event_time" in d for d in details) == 2 and sum("field processed_at" in d for d in details) == 1, details
    states = p.connect.states()[p.settings.iceberg_connector_name]
    assert states == ["RUNNING", "RUNNING"], states
    # Materialisation goes on: the polls served after the bad rows land in the table.
    polls = wait_for(lambda: connector_polls(p, seq).query("status == 200"), 30, "a poll after the bad rows")
    after = expected_rows(polls)
    wait_for(lambda: table_keys(p, {ts for _, ts in after}) >= after, 90, "a poll served after the bad rows in the table", step=2)
    assert not table_keys(p, {t}) & {("bitcoin", t)}


def test_replay_sends_fixed_dead_letters_once_and_refuses_unfixed_ones(pipeline, tmp_path):
    p = pipeline
    t = old_ts()
    dlq_start = p.kafka.end_offsets(p.settings.topic_dlq)
    produce(p, p.settings.topic_raw, [json.dumps({"ethereum": entry(t, usd=0), "cardano": entry(t, usd_24h_vol=-7)})])
    wait_for(lambda: len([d for d in letters_since(p, dlq_start) if (d["entry"] or {}).get("last_updated_at") == t]) == 2, 60,
             "the two letters")  # fmt: skip
    # What a learner does: export, fix one entry in the file, replay the file.
    export = tmp_path / "letters.jsonl"
    assert p.dlq.export(export) >= 2
    lines = [json.loads(line) for line in export.read_text().splitlines()]
    mine = [x for x in lines if isinstance(x.get("entry"), dict) and x["entry"].get("last_updated_at") == t]
    assert {x["reason"] for x in mine} == {"non_positive:usd", "negative:usd_24h_vol"}
    eth = next(x for x in mine if x["coin_id"] == "ethereum")
    eth["entry"]["usd"] = 3150.25  # fixed; cardano's volume is left negative
    fixed = tmp_path / "fixed.jsonl"
    fixed.write_text("".join(json.dumps(x) + "\n" for x in [*mine, eth]))
    report = p.dlq.replay(fixed, wait_s=90)
    by_coin = report.groupby("coin_id")["status"].apply(sorted).to_dict()
    assert by_coin == {"ethereum": ["landed", "twice_in_input"], "cardano": ["still_invalid"]}, report.to_dict("records")
    assert report.loc[report["coin_id"] == "cardano", "detail"].tolist() == ["negative:usd_24h_vol"]
    assert table_keys(p, {t}) == {("ethereum", t)}
    row = p.sql(f"SELECT usd FROM crypto_prices_exploded WHERE coin_id = 'ethereum' AND last_updated_at = {t}")
    assert row["usd"].tolist() == [3150.25]
    # A second replay of the same file sends nothing: the row is in the table already.
    again = p.dlq.replay(fixed, wait_s=0)
    assert again.loc[again["coin_id"] == "ethereum", "status"].tolist() == ["already_in_table", "twice_in_input"]
    assert not {"sent", "landed"} & set(again["status"])


def test_dataops_dlq_lists_the_reasons(pipeline, capsys):
    from dataops import cli

    assert cli.main(["dlq"]) == 0
    out = capsys.readouterr().out
    header = out.splitlines()[0].split()
    assert header == ["reason", "count", "newest", "example"]
    assert "dead letters in" in out
