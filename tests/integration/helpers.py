"""Small helpers shared by the integration tests."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections import Counter
from contextlib import contextmanager
from typing import Callable, Iterator
from urllib.parse import urlsplit

from dataops import load_settings
from dataops.config import Settings
from dataops.paths import StatePaths
from dataops.reliability import compare, served_rows
from tests.ports import SPANS, free_port


def wait_for(predicate, timeout: float, what: str, step: float = 0.5):
    """Poll ``predicate`` until it returns something truthy; fail with ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if (not result.empty) if hasattr(result, "empty") else result:
            return result
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def connector_polls(p, since_seq: int = 0):
    """The simulator's served log, only the connector's /simple/price polls."""
    served = p.source.served(since=since_seq)
    query = urlsplit(p.settings.price_url()).query
    return served[(served["path"] == "/api/v3/simple/price") & (served["query"] == query)]


def last_seq(p) -> int:
    """The newest served seq, however long the log (a page of it stops at 10,000 entries)."""
    return p.source.last_seq()


def expected_rows(polls) -> set[tuple[str, int]]:
    """(coin_id, last_updated_at) of every coin in every good (200, parseable) poll."""
    keys = set()
    for body in polls.loc[polls["status"] == 200, "body"]:
        try:
            payload = json.loads(body)
        except (TypeError, json.JSONDecodeError):
            continue
        for coin, entry in payload.items():
            if isinstance(entry, dict) and isinstance(entry.get("usd"), (int, float)) and entry["usd"] > 0:
                keys.add((coin, int(entry["last_updated_at"])))
    return keys


def account(p, seq0: int, seq_end: int, timeout: float = 120):
    """Every good poll served in (seq0, seq_end], row by row with its price, against the table,
    once the table holds them (or the timeout: then what is missing is the answer)."""
    served = served_rows(p.source.served(since=seq0), p.settings)
    served = served[served["seq"] <= seq_end]
    assert len(served) >= 5 * 3, f"only {len(served)} rows served in the window"
    deadline = time.monotonic() + timeout
    while True:
        result = compare(served, p.iceberg.read(columns=("coin_id", "last_updated_at", "usd")), p.settings)
        if result.lost.empty or time.monotonic() > deadline:
            return result
        time.sleep(2)


def copies_by_layer(p, repeated) -> str:
    """Where each repeated (coin_id, last_updated_at) is repeated: its copies in the raw topic (one
    per API answer holding it), in the exploded topic and in the table. What a failure says, so
    the layer that duplicates can be named from CI's output alone."""
    keys = {(str(c), int(t)) for c, t in zip(repeated["coin_id"], repeated["last_updated_at"])}
    if not keys:
        return ""
    raw, exploded = Counter(), Counter()
    for record in p.kafka.read(p.settings.topic_raw, timeout=30):
        try:
            for coin, entry in json.loads(record.value or "{}").items():
                if isinstance(entry, dict) and (coin, entry.get("last_updated_at")) in keys:
                    raw[(coin, entry["last_updated_at"])] += 1
        except (ValueError, AttributeError):
            continue
    for record in p.kafka.read(p.settings.topic_exploded, timeout=30):
        try:
            row = json.loads(record.value or "{}")
            key = (row.get("coin_id"), int(row.get("last_updated_at")))
        except (ValueError, TypeError, AttributeError):
            continue
        if key in keys:
            exploded[key] += 1
    return "; ".join(f"{k}: raw {raw[k]}, exploded {exploded[k]}" for k in sorted(keys))


def pipeline_state(p) -> str:
    """Connectors, the explode job and the Iceberg sink's lag, in one line: what a failure shows of
    a pipeline that stopped moving (CI's logs are gone with its machine)."""
    said = []
    for what, look in (("connectors", lambda: p.connect.states()),
                       ("job", lambda: p.flink.live_job(p.settings.flink_job_name)["state"]),
                       ("sink lag", lambda: p.kafka.consumer_groups(p.settings.iceberg_sink_group)["lag"].tolist())):  # fmt: skip
        try:
            said.append(f"{what}: {look()}")
        except Exception as exc:  # noqa: BLE001 - a diagnosis says what it could not read
            said.append(f"{what}: ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})")
    return "; ".join(said)


def polls_after(p, seq: int, n: int, timeout: float, what: str) -> int:
    """Wait for ``n`` good connector polls after ``seq``; the newest seq."""
    polls = wait_for(lambda: connector_polls(p, seq).query("status == 200").iloc[n - 1:], timeout, what)
    return int(polls["seq"].iloc[-1])


@contextmanager
def own_components(folder: str, names: list[str], ports: list[str], share: Callable[[StatePaths, StatePaths], None],
                   timings: dict[str, float]) -> Iterator[Settings]:  # fmt: skip
    """Optional stack components (``names``) in a fresh state folder ``folder`` beside the suite's, each
    of ``ports`` (settings fields) on a free port; ``share(suite_paths, own_paths)`` gives them the
    suite's downloads. Yields their settings; ``timings["start_s"]`` is how long they took to start.
    Stopped, and the folder removed, after."""
    from dataops.stack import Stack

    suite = load_settings(profile="local")  # the suite's state folder: the downloads are kept there
    root = suite.paths.root / folder
    shutil.rmtree(root, ignore_errors=True)
    s = load_settings(profile="local", state_dir=root, **{port: free_port(SPANS.get(port, 1)) for port in ports})
    share(suite.paths, s.paths)
    stack = Stack(s)
    t0 = time.monotonic()
    try:
        stack.up(names, progress=False)
        timings["start_s"] = time.monotonic() - t0
        yield s
    finally:
        for name in reversed(names):
            stack.stop(name)
        shutil.rmtree(root, ignore_errors=True)


def cli(*args: str) -> None:
    """``dataops ARGS`` in this process; its one-line error in the assertion when it fails (CI shows
    the assertion, not always the captured output)."""
    import io
    from contextlib import redirect_stderr

    from dataops.cli import main

    err = io.StringIO()
    with redirect_stderr(err):
        code = main(list(args))
    assert code == 0, f"dataops {' '.join(args)} -> {code}: {err.getvalue().strip()[-600:]}"
