"""Which retained checkpoint the explode job may resume from, and why not the others.

Flink marks a checkpoint complete only after the jobmanager has written its ``_metadata``;
only then do the job's exactly-once Kafka sinks commit the transactions of that checkpoint
(and the source commits its offsets to the consumer group). That decides what is safe:

* a ``chk-N`` folder **without** ``_metadata`` never completed: its transactions were never
  committed (the sinks abort them when the job resumes), so passing over it to the newest
  complete checkpoint is exactly what Flink itself would do: nothing is lost or repeated;
* a ``chk-N`` **with** a ``_metadata`` that is unreadable (empty, truncated, not Flink's) may
  have completed, and its transactions may be visible downstream. Resuming from an older
  checkpoint would write those rows again, so the choice stops there and says so.

Runs of the job are listed, oldest first, in the ids file (one ``<jid> from=<where>`` line
per submission); a run started from the consumer offsets supersedes every earlier run.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["FROM_OFFSETS", "RestoreChoice", "choose", "metadata_problem", "runs"]

MAGIC = 0x4960672D  # org.apache.flink.runtime.checkpoint.Checkpoints.HEADER_MAGIC_NUMBER
JAVA_STREAM = b"\xac\xed\x00\x05"  # the checkpoint properties that end a version >= 4 _metadata
FROM_OFFSETS = "offsets"
CHK = re.compile(r"chk-(\d+)")


def metadata_problem(chk: Path) -> str:
    """Why ``chk`` cannot be resumed from, as a short phrase ("" when it looks whole).

    Checks what can be checked without Flink: the file, its header (magic number, a
    checkpoint id equal to the folder's number) and, from format version 4, that the
    properties block which closes the file is there. Flink reads the rest when it restores.
    """
    meta = chk / "_metadata"
    if not meta.is_file():
        return "sin _metadata: nunca se completó"
    data = meta.read_bytes()
    if len(data) < 16:
        return f"_metadata está truncado ({len(data)} bytes)"
    magic, version, chk_id = struct.unpack(">iiq", data[:16])
    if magic != MAGIC:
        return "_metadata no es un checkpoint de Flink (cabecera incorrecta)"
    match = CHK.fullmatch(chk.name)
    if match and chk_id != int(match.group(1)):
        return f"_metadata es del checkpoint {chk_id}, no del {match.group(1)}"
    if version >= 4 and JAVA_STREAM not in data[16:]:
        return f"_metadata está truncado ({len(data)} bytes, faltan sus propiedades finales)"
    return ""


def runs(ids_text: str) -> list[str]:
    """The job ids whose checkpoints count, oldest first: those from the last run that started
    from the consumer offsets on (lines without ``from=``, written before it was recorded, all count)."""
    kept: list[str] = []
    for line in ids_text.splitlines():
        parts = line.split()
        if not parts:
            continue
        if f"from={FROM_OFFSETS}" in parts[1:]:
            kept = []
        kept.append(parts[0])
    return kept


def _newest_first(root: Path, job_ids: list[str]) -> list[Path]:
    found = []
    for order, jid in enumerate(job_ids):
        folder = root / jid
        if folder.is_dir():
            found += [(order, int(m.group(1)), p) for p in folder.iterdir() if p.is_dir() and (m := CHK.fullmatch(p.name))]
    return [p for *_, p in sorted(found, key=lambda t: (t[0], t[1]), reverse=True)]


@dataclass
class RestoreChoice:
    """The outcome of :func:`choose`.

    Attributes:
        checkpoint: The ``chk-N`` folder to resume from (None: start from the consumer offsets).
        skipped: Newer folders passed over safely, with why (they never completed).
        refused: The newest complete-looking checkpoint that cannot be used, with why; when set,
            ``checkpoint`` is None and nothing may be submitted without an explicit choice.
    """

    checkpoint: Path | None = None
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    refused: tuple[Path, str] | None = None

    def describe(self) -> str:
        """One line: where the job resumes and what was passed over."""
        passed = "; ".join(f"{p.name} skipped: {why}" for p, why in self.skipped)
        if self.refused is not None:
            head = f"cannot resume from {self.refused[0].name}: {self.refused[1]}"
        elif self.checkpoint is not None:
            head = f"resumed from {self.checkpoint.name}"
        else:  # the consumer group's committed offsets (earliest on a first run)
            head = "submitted"
        return f"{head} ({passed})" if passed else head


def choose(root: Path, job_ids: list[str]) -> RestoreChoice:
    """The newest complete checkpoint of the runs ``job_ids`` (oldest first) under ``root``.

    Passes over folders that never completed; stops at the first one whose ``_metadata``
    exists but is unusable (``refused``): an older checkpoint would repeat its rows.
    """
    choice = RestoreChoice()
    for chk in _newest_first(root, job_ids):
        problem = metadata_problem(chk)
        if not problem:
            choice.checkpoint = chk
            return choice
        if not (chk / "_metadata").exists():
            choice.skipped.append((chk, problem))
            continue
        choice.refused = (chk, problem)
        return choice
    return choice
