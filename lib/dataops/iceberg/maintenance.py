"""Iceberg table maintenance: a sink that commits every few seconds must not grow the table without end.

Each commit of the Iceberg sink adds a snapshot, a small data file, a manifest and a new
metadata file that lists every snapshot so far: left alone, a day at the default rates makes
~17,000 of each and metadata files that grow with every commit. :func:`maintain` runs four
steps, each safe while the sink keeps committing:

1. **table properties**: the table keeps its last :data:`METADATA_VERSIONS` metadata files and
   the writers delete older ones on commit (Iceberg's ``write.metadata.*`` properties); a
   rewrite commits with snapshot isolation over concurrent appends;
2. **compaction**: the small data files become one file per :data:`TARGET_ROWS` rows, sorted
   by event time (so a time window prunes files), in one ``overwrite`` snapshot that removes
   exactly the files it read: the row count is checked before the commit, so no row is lost or
   repeated. A commit that races the sink is retried on the new table state;
3. **snapshots**: those older than ``keep_s`` expire, except the current one and its ancestors
   back to the sink's newest commit (the sink finds what it committed there);
4. **orphans**: files under the table's folder that no snapshot and no kept metadata file
   references, older than ``orphan_age_s`` (a file the sink is still writing is younger).

Example::

    maintain(p.iceberg)             # or: dataops maintain; the monitor runs it every 10 minutes
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import pandas as pd

from dataops.errors import DataOpsError
from dataops.iceberg.protocol import Iceberg

if TYPE_CHECKING:
    from pyiceberg.manifest import DataFile, ManifestFile
    from pyiceberg.table import Table

logger = logging.getLogger(__name__)


class _GoneAlready(logging.Filter):
    """Drops pyiceberg's warning about an old metadata file it could not delete because it is gone:
    both writers (the sink and maintenance) delete the files beyond the last ten, and the other
    one got there first. A file that still exists keeps its warning."""

    PREFIX = "Failed to delete metadata file "

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if not message.startswith(self.PREFIX):
            return True
        return os.path.exists(unquote(urlsplit(message.removeprefix(self.PREFIX)).path))


logging.getLogger("pyiceberg.catalog").addFilter(_GoneAlready())

METADATA_VERSIONS = 10
SMALL_FILE_BYTES = 8 * 1024 * 1024
MIN_SMALL_FILES = 20  # fewer small files than this are left for a later pass
TARGET_ROWS = 2_000_000
SINK_COMMIT = "kafka.connect.commit-id"
COMMIT_RETRIES = 10


@dataclass(frozen=True)
class Compaction:
    files_before: int
    files_read: int
    files_written: int
    rows: int
    attempts: int


def _local_path(uri: str) -> Path | None:
    parts = urlsplit(uri)
    if parts.scheme in ("", "file"):
        return Path(unquote(parts.path))
    return None


def set_table_properties(table: Table, versions: int = METADATA_VERSIONS) -> bool:
    """Make every writer keep only the last ``versions`` metadata files, and let a compaction
    commit over the sink's appends (snapshot isolation: the files it rewrote must still be
    there, and new files added meanwhile do not conflict). True when something changed."""
    wanted = {"write.metadata.delete-after-commit.enabled": "true", "write.metadata.previous-versions-max": str(versions),
              "write.update.isolation-level": "snapshot", "write.delete.isolation-level": "snapshot"}
    if all(table.properties.get(k) == v for k, v in wanted.items()):
        return False
    with table.transaction() as tx:
        tx.set_properties(wanted)
    return True


def _live_data_files(table: Table) -> list[DataFile]:
    snapshot = table.current_snapshot()
    if snapshot is None:
        return []
    return [entry.data_file for manifest in snapshot.manifests(table.io)
            for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True)
            if entry.data_file.content.value == 0]  # fmt: skip


def compact(layer: Iceberg, name: str | None = None, small_bytes: int = SMALL_FILE_BYTES, min_files: int = MIN_SMALL_FILES,
            target_rows: int = TARGET_ROWS) -> Compaction:  # fmt: skip
    """Rewrite the table's small data files as few large ones, in one snapshot.

    Raises:
        DataOpsError: The rewritten rows do not add up (nothing is committed), or the sink kept
            winning the commit race ``COMMIT_RETRIES`` times.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq
    from pyiceberg.exceptions import CommitFailedException
    from pyiceberg.io.pyarrow import _dataframe_to_data_files

    table = layer.table(name)
    files = _live_data_files(table)
    small = [f for f in files if f.file_size_in_bytes < small_bytes]
    if len(small) < min_files:
        return Compaction(len(files), 0, 0, 0, 0)
    expected = sum(f.record_count for f in small)
    arrow_schema = table.schema().as_arrow()
    parts = []
    for f in small:
        with table.io.new_input(f.file_path).open() as stream:
            parts.append(pq.read_table(stream).select(arrow_schema.names).cast(arrow_schema))
    rows = pa.concat_tables(parts)
    if rows.num_rows != expected:
        raise DataOpsError(f"la compactación leyó {rows.num_rows} filas de ficheros que declaran {expected}: no se cambió nada",
                           "vuelve a ejecutar `dataops maintain`; si se repite, los ficheros de la tabla están dañados")  # fmt: skip
    if "event_time" in rows.column_names:
        rows = rows.sort_by([("event_time", "ascending"), ("coin_id", "ascending")])
    written: list[DataFile] = []
    for start in range(0, rows.num_rows, target_rows):
        written += list(_dataframe_to_data_files(table.metadata, rows.slice(start, target_rows), table.io))
    if sum(f.record_count for f in written) != expected:
        raise DataOpsError("la compactación escribió un número de filas distinto del que leyó: no se cambió nada",
                           "vuelve a ejecutar `dataops maintain`; si se repite, avisa")  # fmt: skip
    small_paths = {f.file_path for f in small}
    for attempt in range(1, COMMIT_RETRIES + 1):
        try:
            with table.transaction() as tx:
                with tx.update_snapshot(snapshot_properties={"dataops.iceberg.maintenance": "compaction"}).overwrite() as ow:
                    for f in small:
                        ow.delete_data_file(f)
                    for f in written:
                        ow.append_data_file(f)
            return Compaction(len(files), len(small), len(written), expected, attempt)
        except CommitFailedException:  # the sink committed meanwhile: appends only, our files are still there
            time.sleep(0.2 * attempt)
            table = layer.table(name)
            current = {f.file_path: f for f in _live_data_files(table)}
            if not small_paths <= set(current):
                break  # someone else rewrote them: leave it, the next pass sees the new state
            small = [current[p] for p in small_paths]
    for f in written:  # never committed: not part of the table
        path = _local_path(f.file_path)
        if path is not None:
            path.unlink(missing_ok=True)
    raise DataOpsError(f"la compactación no pudo hacer commit tras {COMMIT_RETRIES} intentos (la tabla no dejaba de cambiar)",
                       "vuelve a ejecutar `dataops maintain` cuando el pipeline esté más tranquilo")  # fmt: skip


def _protected(table: Table) -> set[int]:
    """The current snapshot and its ancestors back to the sink's newest commit (just the current
    one when no ancestor is the sink's)."""
    chain = []
    snap = table.current_snapshot()
    while snap is not None:
        chain.append(snap.snapshot_id)
        if SINK_COMMIT in (snap.summary.additional_properties if snap.summary else {}):
            return set(chain)
        snap = table.metadata.snapshot_by_id(snap.parent_snapshot_id) if snap.parent_snapshot_id is not None else None
    return set(chain[:1])


def expire_snapshots(layer: Iceberg, name: str | None = None, keep_s: float = 3600.0) -> int:
    """Expire the snapshots older than ``keep_s`` (see the module's rules). Returns how many."""
    from pyiceberg.exceptions import CommitFailedException

    cutoff_ms = (time.time() - keep_s) * 1000
    for attempt in range(1, COMMIT_RETRIES + 1):
        table = layer.table(name)
        keep = _protected(table)
        old = [s.snapshot_id for s in table.metadata.snapshots if s.timestamp_ms < cutoff_ms and s.snapshot_id not in keep]
        if not old:
            return 0
        try:
            table.maintenance.expire_snapshots().by_ids(old).commit()
            return len(old)
        except CommitFailedException:
            time.sleep(0.2 * attempt)
    raise DataOpsError(f"la expiración de snapshots no pudo hacer commit tras {COMMIT_RETRIES} intentos (la tabla no dejaba de cambiar)",
                       "vuelve a ejecutar `dataops maintain` cuando el pipeline esté más tranquilo")  # fmt: skip


def referenced_files(table: Table) -> set[str]:
    """Every file a kept snapshot or metadata file of ``table`` needs, as local paths."""
    refs: set[str] = {table.metadata_location, *(e.metadata_file for e in table.metadata.metadata_log)}
    manifests: dict[str, ManifestFile] = {}
    for snap in table.metadata.snapshots:
        refs.add(snap.manifest_list)
        manifests.update((m.manifest_path, m) for m in snap.manifests(table.io))
    for path, manifest in manifests.items():
        refs.add(path)
        refs.update(entry.data_file.file_path for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=False))
    for stats in (*table.metadata.statistics, *table.metadata.partition_statistics):
        refs.add(stats.statistics_path)
    return {str(p) for p in map(_local_path, refs) if p is not None}


def remove_orphans(layer: Iceberg, name: str | None = None, orphan_age_s: float = 3600.0) -> int:
    """Delete the files under the table's folder that nothing references and that are older than
    ``orphan_age_s``. Returns how many. A table outside the local disk is left alone (0)."""
    table = layer.table(name)
    root = _local_path(table.metadata.location)
    if root is None or not root.is_dir():
        return 0
    refs = referenced_files(table)
    cutoff = time.time() - orphan_age_s
    removed = 0
    for folder, _, names in os.walk(root):
        for file_name in names:
            path = Path(folder) / file_name
            try:
                if str(path) not in refs and path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
    return removed


def table_stats(layer: Iceberg, name: str | None = None) -> dict[str, int]:
    """Snapshots, live data files, and files on disk under the table's folder."""
    table = layer.table(name)
    root = _local_path(table.metadata.location)
    on_disk = sum(len(n) for _, _, n in os.walk(root)) if root is not None and root.is_dir() else -1
    return {"snapshots": len(table.metadata.snapshots), "data_files": len(_live_data_files(table)), "files_on_disk": on_disk}


def maintain(layer: Iceberg, name: str | None = None, keep_s: float = 3600.0, orphan_age_s: float = 3600.0,
             min_files: int = MIN_SMALL_FILES) -> pd.DataFrame:  # fmt: skip
    """The four steps of the module on one table; one row per step: ``paso, resultado``."""
    t0 = time.monotonic()
    before = table_stats(layer, name)
    steps = []
    changed = set_table_properties(layer.table(name))
    steps.append(("ficheros de metadatos", f"se guardan los {METADATA_VERSIONS} últimos" + (" (activado ahora)" if changed else "")))
    c = compact(layer, name, min_files=min_files)
    steps.append(("compactación", f"{c.files_read} ficheros pequeños → {c.files_written} ({c.rows} filas)" if c.files_read
                  else f"nada que compactar ({c.files_before} ficheros de datos)"))  # fmt: skip
    steps.append(("snapshots caducados", str(expire_snapshots(layer, name, keep_s))))
    steps.append(("ficheros huérfanos borrados", str(remove_orphans(layer, name, orphan_age_s))))
    after = table_stats(layer, name)
    steps.append(("tabla", f"snapshots {before['snapshots']} → {after['snapshots']}, ficheros de datos "
                           f"{before['data_files']} → {after['data_files']}, en disco {before['files_on_disk']} → "
                           f"{after['files_on_disk']} ({time.monotonic() - t0:.1f} s)"))  # fmt: skip
    logger.info("maintenance of %s: %s", name or "the table", "; ".join(f"{a}: {b}" for a, b in steps))
    return pd.DataFrame(steps, columns=["paso", "resultado"])
