"""Ports for the tests' own servers."""

from __future__ import annotations

import socket

# Settings whose servers also take the next ports (dataops.classroom.flink: REST, then RPC, blob, taskmanager;
# dataops.classroom.simulators and each learner's monitor: one per learner).
SPANS = {"class_flink_port": 4, "class_simulator_port": 4, "class_monitor_port": 4}


def free_port(span: int = 1) -> int:
    """A TCP port on 127.0.0.1 nothing listens on when asked (the OS picks it), and with
    ``span`` > 1 the ``span - 1`` ports after it free too."""
    for _ in range(100):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if span == 1 or all(_bindable(port + i) for i in range(1, span)):
            return port
    raise RuntimeError(f"no {span} free ports in a row on 127.0.0.1")


def _bindable(port: int) -> bool:
    if port > 65535:
        return False
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
