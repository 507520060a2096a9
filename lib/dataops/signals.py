"""A long-running process's wait for its end: SIGTERM or Ctrl-C, and SIGHUP to read its spec again
(:mod:`dataops.simulator.many`, :mod:`dataops.monitor.many`: one JSON file, learner -> theirs)."""

from __future__ import annotations

import json
import logging
import signal
import threading
from pathlib import Path
from typing import Any, Callable

logger = logging.getLogger(__name__)


def until_stopped(on_hangup: Callable[[], None] | None = None) -> None:
    """Wait for SIGTERM or Ctrl-C. With ``on_hangup``: call it (in this thread) once the signals are
    handled, then at each SIGHUP (so a SIGHUP sent as soon as the process runs is never its death)."""
    stop, hangup = threading.Event(), threading.Event()

    def _stop(signum: int, _frame: object) -> None:
        logger.info("received signal %d, stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if on_hangup is not None:
        signal.signal(signal.SIGHUP, lambda _signum, _frame: hangup.set())
        hangup.set()
    while not stop.wait(0.1 if hangup.is_set() else 0.5):
        if hangup.is_set():
            hangup.clear()
            on_hangup()  # type: ignore[misc]


def read_spec(path: Path) -> dict[str, Any]:
    """A spec file as written; {} when it is missing. Raises (and logs) on an unreadable one: the
    process then keeps what it serves."""
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, TypeError) as exc:
        logger.error("spec %s unreadable, nothing changed: %s", path, exc)
        raise ValueError(str(exc)) from exc


def serve_spec(reconcile: Callable[[], None], close: Callable[[], None]) -> int:
    """Serve what the spec lists (``reconcile``: now and at each SIGHUP) until SIGTERM or Ctrl-C, then ``close``."""
    try:
        until_stopped(on_hangup=reconcile)
    finally:
        close()
    return 0
