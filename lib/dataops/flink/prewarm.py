"""The explode job's submission started ahead: while ``up`` starts the stack, the submitting child
(:mod:`dataops.flink.submit` ``--when-told``) starts its JVM and warms Flink's planner, then waits;
the set-up's job step tells it what to restore from, and the job is planned in 0.1-0.3 s instead of
3 s after a JVM start, and submitted in 4-5 s instead of 6 (measured here). A child that is never told
(the job was running after all) is told to go away when ``up`` ends. Its output is kept in temporary
files, read once it has exited. The child lowers its own priority (``submit.py``: ``os.nice``).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

from dataops.errors import StackError

__all__ = ["MIN_CPUS", "Ahead", "ahead", "take"]

_WAITING: dict[str, Ahead] = {}  # state folder -> the child started ahead for it


# Below this many cores the child's warm-up (a JVM, Flink's planner) slows the components' start as
# much as it saves the set-up: on 2 cores here, `up` ready 28-32 s with it against 28-30 s without,
# and the first record 19 s against 13 s. With 4 cores or more the ~7 s it saves are free.
MIN_CPUS = 4


class Ahead:
    """One submitting child started ahead: ``cmd`` (without ``--restore``) and its environment."""

    def __init__(self, cmd: list[str], env: dict[str, str]) -> None:
        self.cmd = list(cmd)
        self._ready = False
        self._out: IO[bytes] = tempfile.TemporaryFile()
        self._err: IO[bytes] = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([*cmd, "--when-told"], stdin=subprocess.PIPE, stdout=self._out,
                                     stderr=self._err, env=env)  # fmt: skip

    def run(self, restore: Path | None, timeout: float, what: str, hint: str) -> subprocess.CompletedProcess[str] | None:
        """Tell the child to submit (restoring ``restore``); its exit code and output. None when the
        child is gone already (its warm-up failed: the caller submits the usual way).

        Raises:
            StackError: It did not finish in ``timeout`` seconds (``what``, ``hint``: the line).
        """
        if self.proc.poll() is not None or self.proc.stdin is None:
            return None
        try:
            self.proc.stdin.write((json.dumps({"restore": str(restore) if restore else None}) + "\n").encode())
            self.proc.stdin.close()
        except OSError:  # it exited just now
            return None
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise StackError(f"{what} no terminó en {timeout:.0f} s", hint) from None
        return subprocess.CompletedProcess(self.cmd, code, self._read(self._out), self._read(self._err))

    def ready(self) -> bool:
        """Whether the child has warmed up and waits to be told (it printed ``{"ready": true}``)."""
        if not self._ready and not self._out.closed:
            self._out.seek(0)
            self._ready = b'"ready": true' in self._out.read()
        return self._ready

    @staticmethod
    def _read(fh: IO[bytes]) -> str:
        fh.seek(0)
        return fh.read().decode("utf-8", "replace")

    def close(self) -> None:
        """Let an untold child go: the end of stdin makes a waiting child exit without submitting; one
        still warming up is stopped (its JVM, pyflink's gateway, exits when its parent's pipe closes)."""
        if self.proc.poll() is None:
            try:
                if self.proc.stdin is not None:
                    self.proc.stdin.close()
                self.proc.wait(5 if self.ready() else 0.1)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.terminate()
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        self._out.close()
        self._err.close()


@contextmanager
def ahead(key: str, cmd: list[str], env: dict[str, str]) -> Iterator[Ahead]:
    """A child started ahead for the state folder ``key`` while the block runs; :func:`take` gets it."""
    child = Ahead(cmd, env)
    _WAITING[key] = child
    try:
        yield child
    finally:
        if _WAITING.get(key) is child:
            del _WAITING[key]
        child.close()


def take(key: str, cmd: list[str]) -> Ahead | None:
    """The child started ahead for ``key`` with this very command, once (None when there is none)."""
    child = _WAITING.get(key)
    if child is None or child.cmd != cmd:
        return None
    del _WAITING[key]
    return child
