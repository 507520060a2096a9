"""Ports for the tests' own servers."""

from __future__ import annotations

import random
import socket
from pathlib import Path

# Settings whose servers also take the next ports (dataops.classroom.flink: REST, then RPC, blob, taskmanager;
# dataops.classroom.simulators and each learner's monitor: one per learner).
SPANS = {"kafka_class_controller_port": 3, "class_flink_port": 5, "class_simulator_port": 4, "class_monitor_port": 4}
_GIVEN: set[int] = set()  # handed out in this process: a fixture's servers start after all are chosen


def _below_ephemeral() -> tuple[int, int]:
    """Ports below the range the system hands out to outgoing connections: one chosen there cannot be
    taken by a client's connection between the choice and the server's start (the OS picks a port for
    ``bind(0)`` from that very range, so a test server's port once was, minutes later, in CI)."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    return 20000, max(min(low, 32768) - 1, 20100)


def free_port(span: int = 1) -> int:
    """A TCP port on 127.0.0.1 nothing listens on when asked, outside the range of outgoing
    connections' ports; with ``span`` > 1 the ``span - 1`` ports after it free too. Never one this
    process was given before (its server may not listen yet)."""
    low, high = _below_ephemeral()
    for _ in range(500):
        port = random.randint(low, high - span)
        wanted = range(port, port + span)
        if not _GIVEN.intersection(wanted) and all(_bindable(p) for p in wanted):
            _GIVEN.update(wanted)
            return port
    raise RuntimeError(f"no {span} free ports in a row on 127.0.0.1 between {low} and {high}")


def _bindable(port: int) -> bool:
    if port > 65535:
        return False
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
