"""Several simulators in one process: a class server's, one per learner.

Each learner's simulator is a :class:`~dataops.simulator.server.Simulator` of its own, on its own port,
with its own market, faults, served log and control token: what a process per learner gave, without an
interpreter per learner (about 25 MB each). The spec file maps each learner to the arguments of
``python -m dataops.simulator`` that describe their simulator; the process serves what it lists,
and at each SIGHUP reads it again: a learner added is started, one removed is stopped, one whose
arguments changed is started anew, and the others keep their state (their faults, their ticks).

``python -m dataops.simulator.many --spec FILE`` (started by :mod:`dataops.classroom.simulators`).
"""

from __future__ import annotations

import argparse
import logging
import sys
from http.server import ThreadingHTTPServer
from pathlib import Path

from dataops.errors import DataOpsError
from dataops import signals
from dataops.simulator.cli import make, parse, parser
from dataops.simulator.server import Simulator

logger = logging.getLogger("dataops.simulator.many")


def read_spec(path: Path) -> dict[str, list[str]]:
    """Learner → their simulator's arguments; {} when the file is missing; ValueError (logged) when unreadable."""
    return {str(name): [str(a) for a in argv] for name, argv in signals.read_spec(path).items()}


class Simulators:
    """The simulators the spec lists, each serving from its own thread."""

    def __init__(self, spec: Path) -> None:
        self.spec = spec
        self.running: dict[str, tuple[list[str], Simulator, ThreadingHTTPServer]] = {}

    def reconcile(self) -> None:
        """Serve what the spec lists now (see the module's docstring)."""
        try:
            wanted = read_spec(self.spec)
        except (OSError, ValueError):
            return
        for name in [n for n, (argv, _, _) in self.running.items() if wanted.get(n) != argv]:
            self._stop(name)
        for name, argv in wanted.items():
            if name not in self.running:
                self._start(name, argv)

    def _start(self, name: str, argv: list[str]) -> None:
        try:
            args, strict = parse(parser(), argv)
            sim = make(args, strict)
            server = sim.serve(args.host, args.port)
        except SystemExit:  # the parser's error, already written to stderr (the log)
            logger.error("%s: simulator not started (its arguments)", name)
            return
        except (DataOpsError, OSError) as exc:
            logger.error("%s: simulator not started: %s", name, exc)
            return
        self.running[name] = (argv, sim, server)

    def _stop(self, name: str) -> None:
        _, sim, server = self.running.pop(name)
        server.shutdown()
        server.server_close()
        sim.close()
        logger.info("%s: simulator stopped", name)

    def close(self) -> None:
        for name in list(self.running):
            self._stop(name)


def main(argv: list[str] | None = None) -> int:
    """Serve the spec's simulators until SIGTERM or Ctrl-C, re-reading the spec at each SIGHUP."""
    ap = argparse.ArgumentParser(prog="python -m dataops.simulator.many",
                                 description="Several CoinGecko simulators in one process, one per learner of a class.")  # fmt: skip
    ap.add_argument("--spec", type=Path, required=True,
                    help="JSON file: learner -> the arguments of `python -m dataops.simulator` for theirs; read again at SIGHUP")  # fmt: skip
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sims = Simulators(args.spec)
    return signals.serve_spec(sims.reconcile, sims.close)


if __name__ == "__main__":
    sys.exit(main())
