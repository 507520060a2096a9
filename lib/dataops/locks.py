"""One holder at a time: an exclusive lock file under the state folder's ``run/``.

Two ``dataops up`` (or two ``apply``) started together must not both submit the Flink job
or create the same connector: the second waits for the first, then finds everything in place.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dataops.errors import StackError


@contextmanager
def exclusive(path: Path, what: str, wait_s: float = 600.0, progress: bool = False) -> Iterator[None]:
    """Hold ``path`` exclusively; wait up to ``wait_s`` for another holder (a process of this
    machine) to finish. The lock goes with the process: a killed holder never leaves it stuck.

    Raises:
        StackError: Still held by another process after ``wait_s``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as fh:
        deadline = time.monotonic() + wait_s
        told = False
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    fh.seek(0)
                    holder = fh.read().strip() or "?"
                    raise StackError(f"otro {what} sigue en marcha (pid {holder}) tras {wait_s:.0f} s",
                                     f"espera a que termine, o páralo (kill {holder}) y vuelve a ejecutarlo") from None  # fmt: skip
                if progress and not told:
                    print(f"  … waiting for another {what} to finish", flush=True)
                    told = True
                time.sleep(0.5)
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
