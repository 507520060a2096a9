"""The simulator's served log: every answer of the price API, in order.

It is the ground truth the later layers (Kafka, Iceberg) are compared
against: each entry carries a contiguous ``seq``, the status, the latency, a
digest of the body (the body itself for ``/simple/price``) and the faults that
shaped it. Entries are kept in memory (the newest ones) and, when a path is
given, appended to a JSON-lines file whose ``seq`` survives a restart.
"""

from __future__ import annotations

import hashlib
import json
from bisect import bisect_right
from pathlib import Path
from typing import Any, TextIO

__all__ = ["ServedLog"]

MAX_LOG_IN_MEMORY = 200_000


def _last_seq(path: Path) -> int:
    """Highest ``seq`` in an existing JSON-lines log (0 if none); tolerates a torn last line."""
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
        try:
            seq = json.loads(line).get("seq")
        except (ValueError, AttributeError):
            continue
        if isinstance(seq, int):
            return seq
    if tail < size:  # no valid line in the tail: scan everything
        best = 0
        with path.open("rb") as fh:
            for line in fh:
                try:
                    seq = json.loads(line).get("seq")
                except (ValueError, AttributeError):
                    continue
                if isinstance(seq, int):
                    best = max(best, seq)
        return best
    return 0


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as fh:
        fh.seek(-1, 2)
        return fh.read(1) == b"\n"


class ServedLog:
    """The log of served answers; not thread-safe on its own (the simulator holds a lock).

    Args:
        path: JSON-lines file the entries are appended to; ``seq`` continues
            after the last entry already in it.

    Attributes:
        served: How many answers were logged since this object was created.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.served = 0
        self._entries: list[dict[str, Any]] = []
        self._file: TextIO | None = None
        self._seq = 0
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._seq = _last_seq(self.path)
            torn = self.path.exists() and self.path.stat().st_size > 0 and not _ends_with_newline(self.path)
            self._file = self.path.open("a", encoding="utf-8")
            if torn:
                self._file.write("\n")
                self._file.flush()

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
        self._seq += 1
        entry = {
            "seq": self._seq,
            "ts": ts,
            "path": path,
            "query": query,
            "status": status,
            "latency_ms": round(latency_ms, 3),
            "digest": hashlib.sha256(body).hexdigest(),
            "faults": list(faults),
            "body": body.decode("utf-8", "replace") if keep_body else None,
        }
        self._entries.append(entry)
        if len(self._entries) > MAX_LOG_IN_MEMORY:
            del self._entries[: len(self._entries) - MAX_LOG_IN_MEMORY]
        self.served += 1
        if self._file is not None:
            self._file.write(json.dumps(entry, separators=(",", ":")) + "\n")
            self._file.flush()

    @property
    def last_seq(self) -> int:
        """The ``seq`` of the newest entry (0 before the first)."""
        return self._seq

    def page(self, since: int, limit: int) -> list[dict[str, Any]]:
        """At most ``limit`` entries with ``seq > since``, oldest first (from memory)."""
        start = bisect_right(self._entries, since, key=lambda e: e["seq"])
        return self._entries[start : start + limit]

    def close(self) -> None:
        """Close the file (logging goes on in memory)."""
        if self._file is not None:
            self._file.close()
            self._file = None
