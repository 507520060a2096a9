"""Every learner's monitor in one process: a class server's monitor service.

Each learner's monitor is a :class:`~dataops.monitor.scheduler.Monitor` of its own, logged in as them
(their settings file: their namespace, Kafka password and class token), with its own metrics store,
``/metrics`` port and connector healer: what a process per learner gave, without an interpreter and
its imports per learner (about 200 MB each). It writes only in the folder the spec gives for the
learner (the server's, which their group may read): nothing in a learner's home, where a link of
theirs could lead a root process's writes elsewhere.

The spec file maps each learner to ``{"settings": their settings file, "folder": where theirs writes}``;
at each SIGHUP the process reads it again: a learner added is started, one removed is stopped, one
whose entry or settings file changed (a reset: a new password) is started anew, the others go on.

``python -m dataops.monitor.many --spec FILE`` (started by :mod:`dataops.classroom.monitors`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dataops.config import ENV_PREFIX, Settings, load_settings
from dataops.errors import DataOpsError
from dataops import signals

logger = logging.getLogger("dataops.monitor.many")


def read_spec(path: Path) -> dict[str, dict[str, str]]:
    """Learner → their entry; {} when the file is missing; ValueError (logged) when unreadable."""
    try:
        spec = signals.read_spec(path)
        return {str(name): {"settings": str(entry["settings"]), "folder": str(entry["folder"])} for name, entry in spec.items()}
    except (KeyError, TypeError) as exc:
        logger.error("spec %s: an entry without its settings or folder, nothing changed: %s", path, exc)
        raise ValueError(str(exc)) from exc


def learner_settings(entry: dict[str, str], interval_s: float | None = None) -> Settings:
    """The learner's settings as their session has them (their file's, the names of their namespace
    derived from it), writing in the entry's folder. The process's environment holds no ``DATAOPS_``
    setting (:func:`main` clears them): one there would win over the namespace's names."""
    from dotenv import dotenv_values

    values: dict[str, Any] = {k[len(ENV_PREFIX) :].lower(): v for k, v in dotenv_values(entry["settings"]).items()
                              if k.startswith(ENV_PREFIX) and v is not None}  # fmt: skip
    values.update(state_dir=entry["folder"], metrics_dir=entry["folder"], low_memory=True)
    if interval_s is not None:
        values["monitor_interval_s"] = interval_s
    return load_settings(env_file=os.devnull, **values)


def _fingerprint(entry: dict[str, str]) -> str:
    """The entry and its settings file's content: a reset (a new password) starts theirs anew."""
    try:
        body = Path(entry["settings"]).read_bytes()
    except OSError:
        body = b""
    return hashlib.sha256(json.dumps(entry, sort_keys=True).encode() + body).hexdigest()


@dataclass
class Running:
    """One learner's monitor: its sampling, its ``/metrics`` server, its healer."""

    fingerprint: str
    monitor: Any
    server: Any
    healer: threading.Thread


class Monitors:
    """The monitors the spec lists (see the module's docstring)."""

    def __init__(self, spec: Path, interval_s: float | None = None) -> None:
        self.spec, self.interval_s = spec, interval_s
        self.running: dict[str, Running] = {}

    def reconcile(self) -> None:
        try:
            wanted = read_spec(self.spec)
        except (OSError, ValueError):
            return
        prints = {name: _fingerprint(entry) for name, entry in wanted.items()}
        for name in [n for n, run in self.running.items() if prints.get(n) != run.fingerprint]:
            self._stop(name)
        for name, entry in wanted.items():
            if name not in self.running:
                self._start(name, entry, prints[name])

    def _start(self, name: str, entry: dict[str, str], fingerprint: str) -> None:
        from dataops.monitor.scheduler import Monitor
        from dataops.monitor.service import heal_forever, serve_prometheus

        try:
            settings = learner_settings(entry, self.interval_s)
            Path(entry["folder"]).mkdir(parents=True, exist_ok=True)
            monitor = Monitor(settings, interval_s=settings.monitor_interval_s)
            server = serve_prometheus(monitor.store, settings.host, settings.monitor_port)
        except (DataOpsError, OSError) as exc:
            logger.error("%s: monitor not started: %s", name, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            return
        monitor.start()
        healer = threading.Thread(target=heal_forever, args=(settings, monitor._stop), name=f"dataops-heal-{name}", daemon=True)
        healer.start()
        self.running[name] = Running(fingerprint, monitor, server, healer)
        logger.info("%s: sampling every %.1f s into %s; Prometheus on :%d/metrics", name, settings.monitor_interval_s,
                    monitor.store.path, settings.monitor_port)  # fmt: skip

    def _stop(self, name: str) -> threading.Thread:
        """Stop ``name``'s monitor: its port at once, its sampling and clients in a thread of their own
        (a client of an engine that is down can take seconds to close: the others do not wait)."""
        run = self.running.pop(name)
        run.server.shutdown()
        run.server.server_close()
        run.monitor._stop.set()

        def finish() -> None:
            run.monitor.stop()
            run.healer.join(timeout=10)
            logger.info("%s: monitor stopped", name)

        closing = threading.Thread(target=finish, name=f"dataops-stop-{name}", daemon=True)
        closing.start()
        return closing

    def close(self, within_s: float = 20.0) -> None:
        closing = [self._stop(name) for name in list(self.running)]
        deadline = time.monotonic() + within_s
        for thread in closing:
            thread.join(timeout=max(deadline - time.monotonic(), 0.1))


def main(argv: list[str] | None = None) -> int:
    """Serve the spec's monitors until SIGTERM or Ctrl-C, re-reading the spec at each SIGHUP."""
    ap = argparse.ArgumentParser(prog="python -m dataops.monitor.many",
                                 description="Every learner's monitor of a class in one process.")  # fmt: skip
    ap.add_argument("--spec", type=Path, required=True,
                    help='JSON file: learner -> {"settings": their settings file, "folder": where theirs writes}; read again at SIGHUP')  # fmt: skip
    ap.add_argument("--interval", type=float, default=None, help="seconds between samples (default: each learner's setting)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] %(levelname)s %(name)s: %(message)s")
    for name in [k for k in os.environ if k.startswith(ENV_PREFIX)]:  # the server's (its stack passes them all)
        del os.environ[name]
    monitors = Monitors(args.spec, args.interval)
    return signals.serve_spec(monitors.reconcile, monitors.close)


if __name__ == "__main__":
    sys.exit(main())
