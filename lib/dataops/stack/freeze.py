"""Freezing the stack as a sleeping laptop does, and thawing it (``Stack.pause`` / ``Stack.resume``).

``SIGSTOP`` goes to each component's process group (its own session: the process and any child it
started); the groups frozen are written down in ``run/frozen.json``, so that the thaw reaches every
one of them even when a process is no longer recognised by its record, and ``up`` thaws a freeze
nobody ended (a drill stopped half-way). A group left frozen would stop its layer for good: the
monitor's, say, with nothing left to tell.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import time
from pathlib import Path
from typing import Iterable

import psutil

from dataops.paths import StatePaths, write_private

logger = logging.getLogger(__name__)

__all__ = ["frozen", "pause", "resume"]


def _file(paths: StatePaths) -> Path:
    return paths.run / "frozen.json"


def frozen(paths: StatePaths) -> dict[str, int]:
    """Component -> process group, of the groups frozen and not thawed yet."""
    try:
        return {str(k): int(v) for k, v in json.loads(_file(paths).read_text()).items()}
    except (FileNotFoundError, ValueError, AttributeError):
        return {}


def _write(paths: StatePaths, groups: dict[str, int]) -> None:
    try:
        if groups:
            write_private(_file(paths), json.dumps(groups))
        else:
            _file(paths).unlink(missing_ok=True)
    except OSError as exc:  # a full disk: the freeze itself must still happen
        logger.warning("could not note the frozen components in %s: %s", _file(paths), exc)


def _signal(groups: dict[str, int], sig: int) -> list[str]:
    done = []
    for name, pid in groups.items():  # the signals go out within a millisecond of each other
        try:
            os.killpg(pid, sig)
            done.append(name)
        except (ProcessLookupError, PermissionError):
            pass
    return done


def _stopped(pid: int) -> bool:
    """Whether a process of the group ``pid`` (its leader or a child) is stopped."""
    try:
        procs = [psutil.Process(pid)]
        procs += procs[0].children(recursive=True)
    except psutil.Error:
        return False
    for proc in procs:
        try:
            if proc.status() == psutil.STATUS_STOPPED:
                return True
        except psutil.Error:
            continue
    return False


def pause(paths: StatePaths, groups: dict[str, int]) -> list[str]:
    """``SIGSTOP`` to each of ``groups`` (component -> process group), written down first; the
    components signalled."""
    _write(paths, {**frozen(paths), **groups})
    return _signal(groups, signal.SIGSTOP)


def resume(paths: StatePaths, groups: dict[str, int], names: Iterable[str] | None = None) -> list[str]:
    """``SIGCONT`` to each of ``groups`` and to each group written down (of ``names``; all when None),
    again while one of their processes is still stopped; the components signalled."""
    noted = frozen(paths)
    wanted = set(names) if names else None
    thaw = {**{n: pid for n, pid in noted.items() if wanted is None or n in wanted}, **groups}
    done = _signal(thaw, signal.SIGCONT)
    for _ in range(20):
        stopped = {n: pid for n, pid in thaw.items() if _stopped(pid)}
        if not stopped:
            break
        _signal(stopped, signal.SIGCONT)
        time.sleep(0.05)
    _write(paths, {n: pid for n, pid in noted.items() if n not in thaw})
    return done
