"""Restarting a pipeline connector whose task died of a passing Kafka error.

Kafka Connect never restarts a FAILED task by itself. Most failures need a person (a wrong URL,
a missing table), but some only say the Kafka group or transaction of the task moved on while it
was not looking: after a laptop slept, the Iceberg sink's next transactional offset commit carries
the group generation from before the sleep, the broker answers "the coordinator is not aware of
this member" (``CommitFailedException``), and the task is killed "until manually restarted". A
restart is all it needs: the sink seeks back to its last committed offsets and its uncommitted
files are discarded, so nothing is lost or written twice.

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
    """

    def __init__(self, connect: Any, names: Iterable[str], min_gap_s: float = 30.0, budget: int = 3,
                 window_s: float = 900.0, clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.connect = connect
        self.names = list(names)
        self.min_gap_s = min_gap_s
        self.budget = budget
        self.window_s = window_s
        self.clock = clock
        self.times: dict[str, list[float]] = {}
        self.gave_up: set[str] = set()
        self.restarts: list[tuple[str, str]] = []  # (connector, cause), oldest first

    def check(self) -> list[str]:
        """One look: restart what died of a passing error; return the connectors restarted."""
        states = self.connect.states()
        done = []
        for name in self.names:
            if "FAILED" not in states.get(name, []):
                continue
            status = self.connect.status(name)
            traces = [t.get("trace", "") for t in [status.get("connector", {}), *status.get("tasks", [])] if t.get("state") == "FAILED"]
            causes = [passing_cause(trace) for trace in traces]
            if not causes or None in causes:
                continue  # a failure a person must read
            now = self.clock()
            times = self.times.setdefault(name, [])
            times[:] = [t for t in times if now - t < self.window_s]
            if times and now - times[-1] < self.min_gap_s:
                continue
            if len(times) >= self.budget:
                if name not in self.gave_up:
                    self.gave_up.add(name)
                    logger.warning("connector %s failed again after %d restarts in %.0f s (%s): left FAILED", name, len(times), self.window_s, causes[0])
                continue
            self.gave_up.discard(name)
            times.append(now)
            self.connect.restart(name)
            self.restarts.append((name, str(causes[0])))
            logger.warning("restarted connector %s: its task failed of a passing Kafka error (%s)", name, causes[0])
            done.append(name)
        return done
