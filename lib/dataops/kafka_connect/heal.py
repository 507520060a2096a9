"""Restarting a pipeline connector whose task died of a passing Kafka error.

Kafka Connect never restarts a FAILED task by itself. Most failures need a person (a wrong URL,
a missing table), but some only say the Kafka group or transaction of the task moved on while it
was not looking: after a laptop slept, the Iceberg sink's next transactional offset commit carries
the group generation from before the sleep, the broker answers "the coordinator is not aware of
this member" (``CommitFailedException``), and the task is killed "until manually restarted". A
restart is all it needs: the sink seeks back to its last committed offsets and its uncommitted
files are discarded, so nothing is lost or written twice.

A task can also stall while RUNNING: the Iceberg sink 1.12's commit coordinator is started only by
the task that finds, when its partitions are assigned, the group's first partition in an Admin
description of the group; mid-rebalance (after a broker or worker restart on a busy machine) that
description has no partitions, no task starts a coordinator ("found no partitions assigned across
all members, cannot determine leader"), and nothing is ever committed again (apache/iceberg#17637;
a coordinator hung after a broker restart, #15452, looks the same). Given ``progress``, the Healer
restarts such a sink once its committed offsets have not moved for ``stall_s`` while records wait.

A task killed by a full disk is restarted the same way once the disk has room again: Kafka Connect
may even keep reporting it FAILED after ``dataops up`` restarted it, when the FAILED status it wrote
while the broker could not write reached the status topic after the RUNNING one.

The monitor service runs a :class:`Healer` beside its sampling; ``dataops up`` restarts any FAILED
connector anyway (``automation``).
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any, Callable, Iterable

logger = logging.getLogger(__name__)

#: Exceptions in a task's trace that only say a Kafka session, group generation or transaction
#: expired under it; a restart rejoins with a fresh one.
PASSING = (
    "org.apache.kafka.clients.consumer.CommitFailedException",
    "org.apache.kafka.common.errors.ProducerFencedException",
    "org.apache.kafka.common.errors.InvalidProducerEpochException",
    "org.apache.kafka.common.errors.FencedInstanceIdException",
    "org.apache.kafka.common.errors.RebalanceInProgressException",
    "org.apache.kafka.common.errors.UnknownMemberIdException",
    "org.apache.kafka.common.errors.TimeoutException",
    "org.apache.kafka.common.errors.DisconnectException",
    # The Iceberg sink's commit coordinator thread died (after a sleep: its control-topic consumer's
    # CommitFailedException); the task says only this. A lasting cause comes back after the
    # restart, and the Healer's budget then leaves it FAILED.
    "org.apache.iceberg.connect.channel.NotRunningException",
)
_PASSING = re.compile("|".join(re.escape(name) for name in PASSING))


#: How a task that died of a full disk says so (the sink's data files, Connect's own topics' broker).
NO_SPACE = "No space left on device"


def passing_cause(trace: str) -> str | None:
    """The first line of ``trace`` naming a passing Kafka error, or None when the failure is of
    another kind (it then stays FAILED for a person to read)."""
    for line in trace.splitlines():
        if _PASSING.search(line) and not line.lstrip().startswith("at "):  # an exception, not a frame
            return line.strip().removeprefix("Caused by: ")
    return None


class Healer:
    """Restarts the named connectors when a task of theirs FAILED of a passing Kafka error.

    Args:
        connect: The Connect layer (``states``, ``status``, ``restart``).
        names: The pipeline's connectors; others (a learner's practice connector) are left alone.
        min_gap_s: At most one restart per connector in this many seconds.
        budget: At most this many restarts per connector in ``window_s``: a failure that keeps
            coming back is left FAILED (and logged once) for ``dataops up``, the alerts and a person,
            not hidden by a restart loop.
        progress: Connector name → a function giving (offsets committed, records waiting) of what
            it reads, summed over partitions; a RUNNING connector whose committed offsets stay put
            for ``stall_s`` while records wait is restarted, within the budget.
        stall_s: How long committed offsets may stay put with records waiting.
        has_room: Whether the state folder's disks have room again: a task that died of a full disk
            (:data:`NO_SPACE`) is then restarted like one that died of a passing error (a restart
            seeks back to the last committed offsets; without room it would only fail again).
    """

    def __init__(self, connect: Any, names: Iterable[str], min_gap_s: float = 30.0, budget: int = 3,
                 window_s: float = 900.0, clock: Callable[[], float] = time.monotonic,
                 progress: dict[str, Callable[[], tuple[int, int]]] | None = None, stall_s: float = 60.0,
                 has_room: Callable[[], bool] | None = None) -> None:  # fmt: skip
        self.connect = connect
        self.names = list(names)
        self.min_gap_s = min_gap_s
        self.budget = budget
        self.window_s = window_s
        self.clock = clock
        self.times: dict[str, list[float]] = {}
        self.gave_up: set[str] = set()
        self.restarts: list[tuple[str, str]] = []  # (connector, cause), oldest first
        self.progress = progress or {}
        self.stall_s = stall_s
        self.moved: dict[str, tuple[int, float]] = {}  # connector → (committed, when it last moved)
        self.looked: float | None = None
        self.unknown: dict[str, str] = {}  # connector → why its progress is unknown, as last logged
        self.has_room = has_room

    def check(self) -> list[str]:
        """One look: restart what died of a passing error or stalled; return the connectors restarted."""
        try:
            states = self.connect.states()
        except Exception:
            self.moved.clear()  # Connect not answering (frozen, restarting): a stall is timed from its answers
            raise
        now = self.clock()
        if self.looked is not None and now - self.looked > max(3 * self.stall_s / 4, 30.0):
            self.moved.clear()  # this process was frozen or starved itself: nobody's stall is known
        self.looked = now
        done = []
        for name in self.names:
            state = states.get(name, [])
            cause: str | None = None
            if "FAILED" in state:
                status = self.connect.status(name)
                traces = [t.get("trace", "") for t in [status.get("connector", {}), *status.get("tasks", [])] if t.get("state") == "FAILED"]
                causes = [passing_cause(trace) or self._freed(trace) for trace in traces]
                if causes and None not in causes:  # else a failure a person must read
                    cause = str(causes[0])
            elif name in self.progress and state and all(s == "RUNNING" for s in state):
                cause = self._stalled(name, now)
            if cause is None:
                continue
            if self._may_restart(name, cause, now):
                self.connect.restart(name)
                self.restarts.append((name, cause))
                self.moved.pop(name, None)
                logger.warning("restarted connector %s: %s", name, cause)
                done.append(name)
        return done

    def _freed(self, trace: str) -> str | None:
        """A full disk that has room again, as a passing cause (None: another failure, or still full)."""
        if NO_SPACE not in trace or self.has_room is None or not self.has_room():
            return None
        return f"{NO_SPACE} (the disk has room again)"

    def _stalled(self, name: str, now: float) -> str | None:
        """Why ``name`` counts as stalled now, or None (moving, idle, or not known yet)."""
        try:
            committed, waiting = self.progress[name]()
        except Exception as exc:  # noqa: BLE001 - Kafka down or restarting: the wait starts again after
            self.moved.pop(name, None)
            said = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if self.unknown.get(name) != said:  # once per cause, not every look
                logger.info("progress of connector %s unknown: %s", name, said)
            self.unknown[name] = said
            return None
        self.unknown.pop(name, None)
        last = self.moved.get(name)
        if last is None or committed != last[0] or waiting <= 0:
            self.moved[name] = (committed, now)
            return None
        if now - last[1] < self.stall_s:
            return None
        return f"stalled: no offset committed in {now - last[1]:.0f} s with {waiting} records waiting"

    def _may_restart(self, name: str, cause: str, now: float) -> bool:
        """Within the minimum gap and the budget (a cause that keeps coming back is logged once and left)."""
        times = self.times.setdefault(name, [])
        times[:] = [t for t in times if now - t < self.window_s]
        if times and now - times[-1] < self.min_gap_s:
            return False
        if len(times) >= self.budget:
            if name not in self.gave_up:
                self.gave_up.add(name)
                logger.warning("connector %s failed again after %d restarts in %.0f s (%s): left as it is", name, len(times), self.window_s, cause)
            return False
        self.gave_up.discard(name)
        times.append(now)
        return True
