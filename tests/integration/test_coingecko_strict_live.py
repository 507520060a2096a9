"""The real HTTP source connector against the strict simulator: its polls carry the key in the
plan's header, and at the profiles' poll interval they never meet CoinGecko's rate limit.

Starts only what it needs (the simulator in strict mode, Kafka, Connect), not the whole stack,
and stops at the end what it started; a simulator that was running is started again as it was.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from dataops.source import SimulatorLayer
from tests.integration.helpers import connector_polls, wait_for

pytestmark = pytest.mark.integration

KEY, BURST = "CG-itest-connector", "CG-itest-burst"
NAME = TOPIC = "cg-strict-itest"
INTERVAL = 5.0  # the profiles' poll interval (DATAOPS_POLL_INTERVAL_S's default): 60 / 5 × 1 = 12 calls a minute
LIMIT = math.floor(60 / INTERVAL) + 1  # 13: one spare call, so a poller only a little faster would meet a 429
COMPONENTS = ("simulator", "kafka", "connect")


@pytest.fixture()
def strict() -> Iterator[object]:
    """The strict simulator, Kafka and Connect. The pipeline's own source connector, when the suite's
    stack has it, is paused meanwhile: it has no key, so its polls would be the strict simulator's 401s
    in the same served log (same path, same query)."""
    import dataops

    p = dataops.connect(profile="local", simulator_strict=True, coingecko_api_key=KEY, simulator_api_keys=f"{KEY},{BURST}",
                        simulator_calls_per_min=LIMIT, poll_interval_s=INTERVAL, connector_name=NAME, topic_raw=TOPIC)  # fmt: skip
    own = dataops.connect(profile="local").settings.connector_name
    running = {name for name in COMPONENTS if p.stack.process(name)}
    paused = False
    try:
        if "connect" in running and p.connect.config(own) is not None:
            p.connect.pause(own)
            paused = True
            wait_for(lambda: p.connect.states().get(own, [""])[1:] == ["PAUSED"], 30, f"{own} to pause")
        if "simulator" in running:
            p.stack.stop("simulator")  # started again below, strict
        p.stack.up(COMPONENTS, progress=False)
        if not paused and p.connect.config(own) is not None:  # a Connect this test started runs it too
            p.connect.pause(own)
            paused = True
            wait_for(lambda: p.connect.states().get(own, [""])[1:] == ["PAUSED"], 30, f"{own} to pause")
        time.sleep(INTERVAL)  # a poll of it in flight lands before the test's first seq
        yield p
    finally:
        try:
            if p.connect.config(NAME) is not None:
                p.connect.delete(NAME)
        except dataops.DataOpsError:
            pass
        p.stack.stop("simulator")
        if "simulator" in running:
            dataops.connect(profile="local").stack.up(["simulator"], progress=False)
        if paused:  # before a Connect this test started stops: its target state is kept in Kafka
            p.connect.resume(own)
        for name in ("connect", "kafka"):
            if name not in running:
                p.stack.stop(name)


def test_the_connector_sends_the_key_and_stays_under_the_limit(strict) -> None:
    from dataops.automation.declaration import load
    from dataops.automation.resources import actual, make_so, resources

    p = strict
    assert p.source.health()["strict"] == {"plan": "demo", "header": "x-cg-demo-api-key", "calls_per_min": LIMIT, "keys": 2}
    url = p.settings.simulator_url
    assert SimulatorLayer(url).raw_price("bitcoin")[0] == 401  # without the key: CoinGecko's 10002

    seq0 = p.source.last_seq()
    for r in resources(load(p.settings), p.settings):
        if r.key in (f"topic/{TOPIC}", f"connector/{NAME}"):
            make_so(p, r, *actual(p, r))
    config = p.connect.config(NAME)
    assert config is not None and config["http.api.key.header"] == "x-cg-demo-api-key"
    assert config["http.poll.interval.ms"] == "5000"

    def polls():
        served = connector_polls(p, seq0)
        return served if len(served) >= LIMIT + 2 else None  # more than a whole minute of polls

    served = wait_for(polls, (LIMIT + 2) * INTERVAL + 40, f"{LIMIT + 2} polls of the connector")
    assert set(served["status"]) == {200}, served[["seq", "ts", "status"]]  # the key was sent, no 429
    gaps = served["ts"].diff().dropna().dt.total_seconds()
    assert gaps.min() > INTERVAL - 0.5, gaps.describe()
    assert p.kafka.end_offsets(TOPIC) and sum(p.kafka.end_offsets(TOPIC).values()) >= len(served) - 1

    # The limit is live: another key's burst meets it on its (LIMIT + 1)th call, with Retry-After.
    burst = SimulatorLayer(url, api_key=SecretStr(BURST))
    statuses = [burst.raw_price("bitcoin")[0] for _ in range(LIMIT + 1)]
    assert statuses == [200] * LIMIT + [429], statuses
    time.sleep(INTERVAL)  # the connector's key is not the burst's: its next poll is still answered
    after = connector_polls(p, int(served["seq"].max()))
    assert len(after) >= 1 and set(after["status"]) == {200}, after[["seq", "status"]]
