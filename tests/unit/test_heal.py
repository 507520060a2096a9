"""The monitor restarts a pipeline connector whose task died of a passing Kafka error, and only then."""

from __future__ import annotations

import pytest

from dataops.kafka_connect.heal import Healer, passing_cause

pytestmark = pytest.mark.unit

# The Iceberg sink's task, as Connect's status gave it after a 65 s SIGSTOP of the whole stack (CI, 2026-12-04).
AFTER_SLEEP = """org.apache.kafka.connect.errors.ConnectException: Exiting WorkerSinkTask due to unrecoverable exception.
\tat org.apache.kafka.connect.runtime.WorkerSinkTask.deliverMessages(WorkerSinkTask.java:658)
\tat org.apache.kafka.connect.runtime.WorkerSinkTask.poll(WorkerSinkTask.java:359)
\tat java.base/java.lang.Thread.run(Thread.java:840)
Caused by: org.apache.kafka.clients.consumer.CommitFailedException: Transaction offset Commit failed due to consumer group metadata mismatch: The coordinator is not aware of this member.
\tat org.apache.kafka.clients.producer.internals.TransactionManager$TxnOffsetCommitHandler.handleResponse(TransactionManager.java:2006)
\t... 1 more
"""
# A failure a person must fix: the practice connector's URL edited by hand (block 3).
BAD_URL = """org.apache.kafka.connect.errors.ConnectException: java.net.UnknownHostException: api.coingeko.com
\tat io.confluent.connect.http.HttpSourceTask.poll(HttpSourceTask.java:77)
"""
# A frame naming a passing error's class is not the error.
ONLY_A_FRAME = """java.lang.IllegalStateException: table crypto.x does not exist
\tat org.apache.kafka.common.errors.TimeoutException.<init>(TimeoutException.java:10)
"""


def test_the_cause_after_a_sleep_is_passing_and_a_wrong_url_is_not():
    assert passing_cause(AFTER_SLEEP).startswith("org.apache.kafka.clients.consumer.CommitFailedException: Transaction offset")
    assert passing_cause(BAD_URL) is None
    assert passing_cause(ONLY_A_FRAME) is None
    assert passing_cause("") is None


class _Connect:
    """Connect's answers for two connectors; records restarts."""

    def __init__(self, traces: dict[str, str]) -> None:
        self.traces = traces
        self.restarted: list[str] = []

    def states(self):
        return {name: ["RUNNING", "FAILED" if trace else "RUNNING"] for name, trace in self.traces.items()}

    def status(self, name):
        trace = self.traces[name]
        return {"connector": {"state": "RUNNING"}, "tasks": [{"id": 0, "state": "FAILED" if trace else "RUNNING", "trace": trace}]}

    def restart(self, name):
        self.restarted.append(name)
        self.traces[name] = ""


def test_a_sink_killed_by_a_sleep_is_restarted_once_and_a_wrong_url_is_left_for_a_person():
    now = [0.0]
    connect = _Connect({"sink": AFTER_SLEEP, "source": BAD_URL, "practice": AFTER_SLEEP})
    healer = Healer(connect, ["sink", "source"], min_gap_s=60, clock=lambda: now[0])
    assert healer.check() == ["sink"]
    assert connect.restarted == ["sink"]  # not the practice connector: it is not the pipeline's
    assert healer.restarts[0][1].startswith("org.apache.kafka.clients.consumer.CommitFailedException")
    assert healer.check() == []  # healthy now; the wrong URL stays FAILED
    connect.traces["sink"] = AFTER_SLEEP  # it fails again at once: no restart loop
    now[0] = 30.0
    assert healer.check() == []
    now[0] = 61.0
    assert healer.check() == ["sink"]
    assert connect.restarted == ["sink", "sink"]


# The Iceberg sink after Connect alone was frozen for 55 s (its coordinator thread's control-topic commit failed).
COORDINATOR_GONE = """org.apache.kafka.connect.errors.ConnectException: Exiting WorkerSinkTask due to unrecoverable exception.
\tat org.apache.kafka.connect.runtime.WorkerSinkTask.deliverMessages(WorkerSinkTask.java:658)
Caused by: org.apache.iceberg.connect.channel.NotRunningException: Coordinator unexpectedly terminated on committer crypto-prices-iceberg-0
\t... 11 more
"""


def test_a_failure_that_keeps_coming_back_is_left_failed_after_the_budget():
    now = [0.0]
    connect = _Connect({"sink": COORDINATOR_GONE})
    healer = Healer(connect, ["sink"], min_gap_s=30, budget=3, window_s=900, clock=lambda: now[0])
    for t in (0, 40, 80, 120, 160):
        now[0] = t
        healer.check()
        connect.traces["sink"] = COORDINATOR_GONE  # it dies again each time
    assert connect.restarted == ["sink"] * 3
    assert healer.gave_up == {"sink"}
    now[0] = 1000.0  # the window has passed: it gets its budget back
    assert healer.check() == ["sink"]


class _Progress:
    """The sink's committed offsets and the records waiting, as set by the test."""

    def __init__(self) -> None:
        self.committed, self.waiting, self.fails = 100, 0, False

    def __call__(self):
        if self.fails:
            raise RuntimeError("Kafka not reachable")
        return self.committed, self.waiting


def test_a_running_sink_that_commits_nothing_while_records_wait_is_restarted_after_stall_s():
    """The Iceberg sink with no commit coordinator (no task found the leader partition mid-rebalance):
    RUNNING, records waiting, nothing committed. Moving, idle, or unknown progress is left alone."""
    now = [0.0]
    connect = _Connect({"sink": "", "source": ""})
    progress = _Progress()
    healer = Healer(connect, ["sink", "source"], min_gap_s=30, clock=lambda: now[0], progress={"sink": progress}, stall_s=60)
    progress.waiting = 40
    for t in range(0, 60, 5):  # committing as it goes: fine
        now[0] = float(t)
        progress.committed += 5
        assert healer.check() == []
    for t in range(60, 125, 5):  # idle: nothing waits, nothing to commit
        now[0] = float(t)
        progress.waiting = 0
        assert healer.check() == []
    progress.waiting = 35  # stalled: last seen idle at t=120
    _nothing_restarted(healer, now, 125, 180)
    now[0] = 180.0
    assert healer.check() == ["sink"]
    assert connect.restarted == ["sink"] and healer.restarts[-1][1].startswith("stalled: no offset committed in 60 s with 35")
    now[0] = 185.0
    assert healer.check() == []  # the restarted sink gets stall_s again
    now[0] = 190.0
    progress.fails = True  # Kafka down: the wait starts again once it answers
    assert healer.check() == []
    progress.fails = False
    _nothing_restarted(healer, now, 195, 255)  # first seen again at 195
    now[0] = 255.0
    assert healer.check() == ["sink"]


def _waiting_sink(**kw):
    """A healer of one RUNNING sink with 10 records waiting and nothing committed; the clock is ``now[0]``."""
    now = [0.0]
    connect = _Connect({"sink": ""})
    progress = _Progress()
    progress.waiting = 10
    return Healer(connect, ["sink"], clock=lambda: now[0], progress={"sink": progress}, **{"stall_s": 60, **kw}), connect, now


def _nothing_restarted(healer, now, start: int, end: int) -> None:
    for t in range(start, end, 5):  # the monitor's cadence
        now[0] = float(t)
        assert healer.check() == [], t


def test_a_healer_that_was_frozen_itself_knows_no_stall_on_waking():
    """After a laptop's sleep the monitor wakes with the clock jumped: the sink gets stall_s to commit."""
    healer, _, now = _waiting_sink()
    assert healer.check() == []
    _nothing_restarted(healer, now, 600, 660)  # woken at 600
    now[0] = 660.0
    assert healer.check() == ["sink"]


def test_a_stall_counts_in_the_restart_budget():
    healer, _, now = _waiting_sink(min_gap_s=0, budget=2, stall_s=20)
    restarts = []
    for t in range(0, 200, 5):
        now[0] = float(t)
        restarts += healer.check()
    assert restarts == ["sink", "sink"] and healer.gave_up == {"sink"}


def test_a_stall_is_timed_only_while_connect_answers():
    """Connect frozen alone (a test of the sleep): no answer, no stall; from its waking, stall_s again."""
    healer, connect, now = _waiting_sink()
    assert healer.check() == []
    answers = connect.states
    connect.states = lambda: (_ for _ in ()).throw(TimeoutError("Connect frozen"))
    for t in range(5, 60, 5):
        now[0] = float(t)
        with pytest.raises(TimeoutError):
            healer.check()
    connect.states = answers
    _nothing_restarted(healer, now, 60, 120)
    now[0] = 120.0
    assert healer.check() == ["sink"]


# The Iceberg sink when the state folder's disk filled (benchmarks/disk_full.py, 2026-12-06).
DISK_FULL = """org.apache.kafka.connect.errors.ConnectException: Exiting WorkerSinkTask due to unrecoverable exception.
\tat org.apache.kafka.connect.runtime.WorkerSinkTask.deliverMessages(WorkerSinkTask.java:658)
Caused by: java.io.IOException: No space left on device
\tat java.base/java.io.FileOutputStream.writeBytes(Native Method)
"""


def test_a_task_killed_by_a_full_disk_is_restarted_once_the_disk_has_room_and_not_before():
    room = [False]
    connect = _Connect({"sink": DISK_FULL, "source": ""})
    healer = Healer(connect, ["sink", "source"], min_gap_s=0, clock=lambda: 0.0, has_room=lambda: room[0])
    assert passing_cause(DISK_FULL) is None  # not a passing Kafka error by itself
    assert healer.check() == []  # still full: a restart would only fail again
    room[0] = True
    assert healer.check() == ["sink"] and healer.restarts[0][1] == "No space left on device (the disk has room again)"
    assert Healer(_Connect({"sink": DISK_FULL}), ["sink"]).check() == []  # no way to know the disk: left for `up`
