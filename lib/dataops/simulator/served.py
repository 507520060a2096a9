"""The simulator's served log: every answer of the price API, in order.

It is the ground truth the later layers (Kafka, Iceberg) are compared against:
each entry carries a contiguous ``seq``, the status, the latency, a digest of the
body (the body itself for ``/simple/price``) and the faults that shaped it. The
newest entries are kept in memory and, when a path is given, appended to a
JSON-lines file whose ``seq`` survives a restart. The file rotates by size
(:mod:`dataops.rotation`: the current file plus ``backups`` older ones), so a day
of running stays bounded; a page that starts before memory's oldest entry is read
from the files, and :attr:`ServedLog.oldest_seq` says where what is kept begins.
"""

from __future__ import annotations

import hashlib
import json
import threading
from bisect import bisect_right
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from dataops import rotation

__all__ = ["ServedLog"]

# The newest entries answered from memory; older pages come from the files (when there are).
MAX_LOG_IN_MEMORY = 20_000
_SEQ_PREFIX = b'{"seq":'


def _line_seq(line: bytes, strict: bool = True) -> int | None:
    """The ``seq`` of one JSON line (None for a torn or foreign line); not ``strict``: read from
    the prefix our own lines start with, without parsing the line (to skip lines quickly)."""
    if not strict and line.startswith(_SEQ_PREFIX):
        end = line.find(b",", len(_SEQ_PREFIX))
        if end > 0 and line.rstrip().endswith(b"}"):
            try:
                return int(line[len(_SEQ_PREFIX) : end])
            except ValueError:
                pass
    try:
        seq = json.loads(line).get("seq")
    except (ValueError, AttributeError):
        return None
    return seq if isinstance(seq, int) else None


def _last_seq(path: Path) -> int:
    """Highest ``seq`` in an existing JSON-lines file (0 if none); tolerates a torn last line."""
    if not path.exists() or path.stat().st_size == 0:
        return 0
    size = path.stat().st_size
    tail = min(size, 1 << 20)
    with path.open("rb") as fh:
        fh.seek(size - tail)
        lines = fh.read().splitlines()
    if tail < size:
        lines = lines[1:]  # the first line of the tail is probably cut
    for line in reversed(lines):
        if (seq := _line_seq(line)) is not None:
            return seq
    if tail < size:  # no valid line in the tail: scan everything
        with path.open("rb") as fh:
            return max((s for line in fh if (s := _line_seq(line)) is not None), default=0)
    return 0


def _first_seq(path: Path) -> int | None:
    """The ``seq`` of the first whole entry of a file (None when it has none)."""
    try:
        with path.open("rb") as fh:
            for line in fh:
                if (seq := _line_seq(line)) is not None:
                    return seq
    except FileNotFoundError:
        pass
    return None


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as fh:
        fh.seek(-1, 2)
        return fh.read(1) == b"\n"


class ServedLog:
    """The log of served answers: one writer (the simulator holds its lock around :meth:`append`),
    any number of readers on other threads.

    Args:
        path: JSON-lines file the entries are appended to; ``seq`` continues
            after the last entry already in it (or in its rotated files).
        max_bytes: Size at which the file rotates.
        backups: Rotated files kept besides the current one.

    Attributes:
        served: How many answers were logged since this object was created.
    """

    def __init__(self, path: str | Path | None = None, max_bytes: int = rotation.DEFAULT_MAX_BYTES,
                 backups: int = rotation.DEFAULT_BACKUPS) -> None:  # fmt: skip
        if max_bytes <= 0 or backups < 1:
            raise ValueError(f"el log de peticiones servidas necesita max_bytes > 0 y backups >= 1, no {max_bytes} y {backups}")
        self.path = Path(path) if path is not None else None
        self.max_bytes = int(max_bytes)
        self.backups = int(backups)
        self.served = 0
        self._entries: list[dict[str, Any]] = []
        self._memory = threading.Lock()  # the in-memory list: append vs page
        self._files = threading.RLock()  # the files: a rotation vs a page (or oldest_seq) reading them
        self._file: BinaryIO | None = None
        self._size = 0
        self._seq = 0
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            for segment in reversed(rotation.segments(self.path)):  # the current file may be new and empty
                if (seq := _last_seq(segment)) > 0:
                    self._seq = seq
                    break
            torn = self.path.exists() and self.path.stat().st_size > 0 and not _ends_with_newline(self.path)
            self._file = self.path.open("ab")
            if torn:
                self._file.write(b"\n")
                self._file.flush()
            self._size = self.path.stat().st_size

    def append(
        self,
        *,
        ts: float,
        path: str,
        query: str,
        status: int,
        latency_ms: float,
        body: bytes,
        faults: list[str],
        keep_body: bool,
    ) -> None:
        """Log one answer (``keep_body``: store the body text, not only its digest)."""
        entry = {
            "seq": self._seq + 1,
            "ts": ts,
            "path": path,
            "query": query,
            "status": status,
            "latency_ms": round(latency_ms, 3),
            "digest": hashlib.sha256(body).hexdigest(),
            "faults": list(faults),
            "body": body.decode("utf-8", "replace") if keep_body else None,
        }
        with self._memory:
            self._seq += 1
            self._entries.append(entry)
            if len(self._entries) > MAX_LOG_IN_MEMORY:
                del self._entries[: len(self._entries) - MAX_LOG_IN_MEMORY]
        self.served += 1
        if self._file is not None:
            self._write((json.dumps(entry, separators=(",", ":")) + "\n").encode("utf-8"))

    def _write(self, data: bytes) -> None:
        assert self._file is not None and self.path is not None
        if rotation.needs_rotation(self._size, len(data), self.max_bytes):
            with self._files:
                self._file.close()
                rotation.rotate(self.path, self.backups)
                self._file = self.path.open("ab")
                self._size = 0
        self._file.write(data)
        self._file.flush()
        self._size += len(data)

    @property
    def last_seq(self) -> int:
        """The ``seq`` of the newest entry (0 before the first)."""
        return self._seq

    @property
    def oldest_seq(self) -> int:
        """The ``seq`` of the oldest entry kept (in the files or in memory); ``last_seq + 1``
        when none is kept. Every entry from it to :attr:`last_seq` can be paged."""
        with self._memory:
            kept = [self._entries[0]["seq"]] if self._entries else []
            newest = self._seq
        if (first := self._files_oldest()) is not None:
            kept.append(first)
        return min(kept, default=newest + 1)

    def _files_oldest(self) -> int | None:
        # Under the files' lock: read in the middle of a rotation, every file can be renamed away
        # between listing and reading, and "the files keep nothing" made a page skip to memory.
        if self.path is None:
            return None
        with self._files:
            return next((s for f in rotation.segments(self.path) if (s := _first_seq(f)) is not None), None)

    def page(self, since: int, limit: int) -> list[dict[str, Any]]:
        """At most ``limit`` entries with ``seq > since``, oldest first.

        From memory when it holds the entry after ``since``, else from the files. A
        ``since`` older than what is kept gets what is kept (see :attr:`oldest_seq`).
        """
        with self._memory:
            start = bisect_right(self._entries, since, key=lambda e: e["seq"])
            memory = self._entries[start : start + limit]
            covered = start > 0 or since >= self._seq or (self._entries and self._entries[0]["seq"] == since + 1)
            if covered or self.path is None:
                return memory
            in_memory = self._entries[0]["seq"] if self._entries else None
        with self._files:  # no rotation between deciding to read the files and reading them
            first = self._files_oldest()
            if first is None or (in_memory is not None and in_memory <= first):
                return memory  # the files keep nothing older than memory does
            return list(self._read_files(since, limit))

    def _read_files(self, since: int, limit: int) -> Iterator[dict[str, Any]]:
        assert self.path is not None
        files = rotation.segments(self.path)
        firsts = [_first_seq(f) for f in files]
        # Start at the newest file that begins at or before since + 1 (an older one holds nothing newer).
        begin = max((i for i, first in enumerate(firsts) if first is not None and first <= since + 1), default=0)
        last, given = since, 0
        for segment in files[begin:]:
            with segment.open("rb") as fh:
                for line in fh:
                    seq = _line_seq(line, strict=False)
                    if seq is None or seq <= last:  # torn, foreign, or not newer: never twice, never back
                        continue
                    try:
                        entry = json.loads(line)
                    except ValueError:  # a line being written right now, or torn by a crash
                        continue
                    yield entry
                    last, given = seq, given + 1
                    if given >= limit:
                        return

    def close(self) -> None:
        """Close the file (logging goes on in memory)."""
        if self._file is not None:
            with self._files:
                self._file.close()
                self._file = None
