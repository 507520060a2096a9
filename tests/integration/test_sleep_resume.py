"""The lid closes at the break: every component stops for a minute, then resumes with its clock jumped.

Every process of the stack is frozen (SIGSTOP to its process group, the simulator too) for longer
than every liveness timeout between them (Kafka's broker and group sessions, Flink's heartbeat), then
thawed (SIGCONT). Nobody runs `up`: the pipeline must heal by itself, and every row the API served
must be in the table once, with its price.

When the broker wakes up a moment before Connect (or Connect alone was stopped), the broker has
expelled the Iceberg sink from its groups, and the sink's next commit kills its task "until
manually restarted": the monitor service restarts it (`dataops.kafka_connect.heal`).
"""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from dataops import DataOpsError
from dataops.kafka.engine import BROKER_SESSION_TIMEOUT_MS
from dataops.reliability import compare, served_rows
from tests.integration.helpers import connector_polls, copies_by_layer, pipeline_state, wait_for

pytestmark = pytest.mark.integration

SLEEP_S = 65  # past the group sessions (10-45 s) and Flink's heartbeat timeout (10 s here, 50 s by default)
RECOVERY_BOUND_S = 90  # SIGCONT to a new row in the table (about 15 s on the course's machines)


def _at(line: str) -> float:
    """The UNIX time of a Kafka log line (``[2026-12-05 14:54:06,483] INFO …``); 0 for another line."""
    try:
        return datetime.strptime(line[1:24], "%Y-%m-%d %H:%M:%S,%f").timestamp()
    except ValueError:
        return 0.0


def _newest_tick(p) -> int:
    try:
        value = p.sql("SELECT max(last_updated_at) AS t FROM crypto_prices_exploded")["t"][0]
    except DataOpsError:  # the table read in the middle of a commit: ask again
        return 0
    return int(value) if value == value else 0


def test_after_a_sleep_the_pipeline_heals_by_itself_with_every_served_row_once(pipeline):
    p = pipeline
    _sleep_and_check(p, None, lambda frozen: set(p.stack.names) <= set(frozen))  # all six (and Prometheus, when it runs)


def test_connect_frozen_alone_past_its_group_sessions_is_restarted_by_the_monitor(pipeline):
    """Connect alone stops for 55 s: the broker expels the Iceberg sink, whose task then fails
    (CommitFailedException, or its coordinator's NotRunningException); the monitor restarts it."""
    p = pipeline
    _sleep_and_check(p, ["connect"], lambda frozen: frozen == ["connect"], sleep_s=55)


def _clean_broker_session(p) -> None:
    """A broker restarted after a crash runs with Kafka's short session (so it could register again,
    `dataops.kafka.engine.session_timeout_ms`), and would be fenced on waking: restart it cleanly first."""
    conf = (p.stack.paths.conf / "kafka.properties").read_text()
    if f"broker.session.timeout.ms={BROKER_SESSION_TIMEOUT_MS}" not in conf:
        p.stack.stop("kafka")
        p.up(progress=False)


def _sleep_and_check(p, names, frozen_ok, sleep_s: float = SLEEP_S) -> None:
    _clean_broker_session(p)
    seq0 = p.source.last_seq()
    wait_for(lambda: connector_polls(p, seq0).query("status == 200").iloc[1:], 30, "polls to flow before the sleep")
    frozen = p.stack.pause(names)
    try:
        assert frozen_ok(frozen), frozen
        time.sleep(sleep_s)
    finally:
        woke = time.time()
        p.stack.resume(names)
    try:
        wait_for(lambda: _newest_tick(p) > woke, RECOVERY_BOUND_S, "a new row in the table after the wake-up", step=1)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; connectors: {p.connect.states()}") from None
    recovered_s = time.time() - woke
    # a few polls after the wake-up: each must land too
    last = p.source.last_seq()
    wait_for(lambda: connector_polls(p, last).query("status == 200").iloc[1:], 30, "polls after the wake-up")
    served = served_rows(p.source.served(since=seq0), p.settings)
    served = served[served["seq"] <= p.source.last_seq()]
    deadline = time.monotonic() + 60
    while True:
        result = compare(served, p.iceberg.read(columns=("coin_id", "last_updated_at", "usd")), p.settings)
        if result.exact or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert result.expected >= 4 * len(p.settings.coins), result.expected
    assert result.exact, (f"new rows {recovered_s:.0f} s after SIGCONT; lost {result.lost.head(6).to_dict('records')}, "
                          f"repeated {result.repeated.head(3).to_dict('records')} ({copies_by_layer(p, result.repeated.head(3))}), "
                          f"changed {result.changed.head(3).to_dict('records')}; {pipeline_state(p)}")  # fmt: skip
    # The broker's own controller did not fence it on waking: that left every partition without a
    # leader for a moment, and a transaction aborted then got no abort marker (its rows committed later)
    fenced = [line for line in p.stack.logs("kafka", 4000).splitlines() if "because its session has timed out" in line and _at(line) >= woke - 1]
    assert not fenced, fenced[:2]
    assert all(state == "RUNNING" for states in p.connect.states().values() for state in states), p.connect.states()
    assert p.flink.live_job(p.settings.flink_job_name)["state"] == "RUNNING"
    try:
        p.wait_ready(60, progress=False)  # the monitor, frozen too, reports every layer again, none red
    except DataOpsError as exc:  # what CI cannot show otherwise: every layer, and what the monitor said
        table = p.health(progress=False).to_string(index=False)
        table += "\nprocesses: " + ", ".join(f"{n}: {proc.status() if (proc := p.stack.process(n)) else 'not found'}" for n in p.stack.names)
        raise AssertionError(f"{exc}\n{table}\nlast change {p.stack.last_change()} (now {time.time():.0f})\n"
                             f"monitor log:\n{p.stack.logs('monitor', 40)}") from None  # fmt: skip
