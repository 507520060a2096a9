"""Size-rotated JSON-lines logs: the current file plus a few older ones, bounded in total.

``served.jsonl`` grows up to ``max_bytes``; the next line first turns it into
``served.jsonl.1`` (``.1`` becomes ``.2`` and so on, and the one past ``backups`` is
deleted), then starts a new ``served.jsonl``. So the log never holds more than
``(backups + 1) * max_bytes`` (plus one line), and readers see the kept lines oldest
first with :func:`segments`. Used by the simulator's served log and the alert log.
"""

from __future__ import annotations

import fcntl
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["DEFAULT_BACKUPS", "DEFAULT_MAX_BYTES", "append_line", "read_lines", "rotate", "segments"]

DEFAULT_MAX_BYTES = 16 * 1024 * 1024
DEFAULT_BACKUPS = 4


def rotated(path: Path, n: int) -> Path:
    """The ``n``-th older file of ``path`` (``served.jsonl.1`` is the newest rotated one)."""
    return path.with_name(f"{path.name}.{n}")


def segments(path: Path) -> list[Path]:
    """The files of the log that exist, oldest first: ``.N`` … ``.1``, then ``path`` itself."""
    pattern = re.compile(re.escape(path.name) + r"\.(\d+)")
    older = []
    if path.parent.is_dir():
        older = [(int(m.group(1)), p) for p in path.parent.iterdir() if (m := pattern.fullmatch(p.name))]
    files = [p for _, p in sorted(older, reverse=True)]
    return files + [path] if path.exists() else files


def rotate(path: Path, backups: int) -> None:
    """Shift ``path`` to ``.1`` (``.1`` to ``.2`` …), deleting what would go past ``.{backups}``."""
    for old in segments(path):
        if old != path and int(old.name.rsplit(".", 1)[1]) >= backups:
            old.unlink(missing_ok=True)
    for n in range(backups - 1, 0, -1):
        if rotated(path, n).exists():
            rotated(path, n).replace(rotated(path, n + 1))
    if path.exists():
        path.replace(rotated(path, 1))


def needs_rotation(size: int, adding: int, max_bytes: int) -> bool:
    """Whether a file of ``size`` bytes must rotate before ``adding`` more (never an empty one)."""
    return size > 0 and size + adding > max_bytes


@contextmanager
def _flock(path: Path) -> Iterator[None]:
    with path.with_name(path.name + ".lock").open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def append_line(path: Path, line: str, max_bytes: int = DEFAULT_MAX_BYTES, backups: int = DEFAULT_BACKUPS) -> bool:
    """Append one line (no newline in it), rotating first when the file would pass ``max_bytes``.

    Safe for several processes appending to the same log (an exclusive lock on
    ``<path>.lock`` around the check, the rotation and the write). Returns whether it rotated.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (line + "\n").encode("utf-8")
    with _flock(path):
        size = path.stat().st_size if path.exists() else 0
        rotating = needs_rotation(size, len(data), max_bytes)
        if rotating:
            rotate(path, backups)
        with path.open("ab") as fh:
            fh.write(data)
    return rotating


def read_lines(path: Path, last: int | None = None) -> list[str]:
    """The non-empty lines of the log across its files, oldest first (only the ``last`` ones if given).

    Holds the writers' lock while reading, so a rotation cannot make a line appear twice.
    """
    if last is not None and last <= 0 or not path.parent.is_dir():
        return []
    chunks: list[list[str]] = []
    found = 0
    with _flock(path):
        for segment in reversed(segments(path)):
            text = segment.read_text(encoding="utf-8", errors="replace")
            chunks.append([line for line in text.splitlines() if line.strip()])
            found += len(chunks[-1])
            if last is not None and found >= last:
                break
    kept = [line for chunk in reversed(chunks) for line in chunk]
    return kept if last is None else kept[-last:]
