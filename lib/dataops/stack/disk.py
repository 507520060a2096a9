"""A full disk under the state folder: what the engines do, and the one line that says so.

When the disk that holds the stack's data fills, each engine meets ENOSPC its own way: the Kafka
broker shuts down ("all log dirs have failed"), Flink's checkpoints fail, the Iceberg sink's commits
fail, the monitor's SQLite store answers "database or disk is full". None of that names the disk to
a learner. ``dataops up``, ``p.health()`` and ``dataops doctor`` do, in one line, from the free space
of the disks that hold the state folder and its data (a separate disk may be mounted on ``data/``).
Nothing accepted is lost: after space is freed, one ``dataops up`` restarts the broker and the
pipeline goes on from its committed positions.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from dataops.errors import DiskFullError

#: Below this many free bytes a disk of the state folder counts as full (Kafka alone writes an
#: index of 10 MB per new segment).
FULL_BELOW = 64 * 2**20


def _existing(path: Path) -> Path:
    path = Path(path).absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def disks(state_dir: Path) -> list[Path]:
    """The state folder and its ``data/``, one path per distinct disk (device), existing ones."""
    out: list[Path] = []
    seen: set[int] = set()
    for path in (Path(state_dir), Path(state_dir) / "data"):
        here = _existing(path)
        try:
            dev = os.stat(here).st_dev
        except OSError:
            continue
        if dev not in seen:
            seen.add(dev)
            out.append(here)
    return out


def full_line(state_dir: Path, free=lambda p: shutil.disk_usage(p).free) -> str | None:
    """One Spanish line naming the full disk of the state folder, or None when every one has room."""
    for path in disks(state_dir):
        left = free(path)
        if left < FULL_BELOW:
            return (f"el disco de {path} está lleno ({left / 2**20:.0f} MB libres): Kafka se para, y los checkpoints, "
                    f"la tabla y las métricas no se pueden escribir; libera espacio en ese disco y ejecuta `dataops up`, "
                    f"que sigue desde lo ya confirmado sin perder nada")  # fmt: skip
    return None


def require_room(state_dir: Path) -> None:
    """Raise :class:`DiskFullError` (one line) when a disk of the state folder is full."""
    line = full_line(state_dir)
    if line:
        message, _, hint = line.partition("; ")
        raise DiskFullError(message, hint)
