"""The disk fills mid-stream: a stack of its own whose ``data/`` is a small tmpfs, filled to the last byte.

Shared by tests/integration/test_disk_full.py and benchmarks/disk_full.py. Every engine that writes
(the Kafka broker's log, Flink's checkpoints, the Iceberg sink's files and commits, the monitor's
SQLite store) writes under ``data/``, so each meets ENOSPC. The simulator's served log stands for
the CoinGecko API, which is not on the learner's disk: ``data/simulator`` is a link to a folder
outside the small disk, so the ground truth survives. The mount is made inside a mount namespace of
the drill's own (benchmarks/disk_full.py runs itself under ``unshare``), never on the machine.
"""

from __future__ import annotations

import os
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

SHIFT = 1200  # clear of every stack `make test` runs beside it (tests/unit/test_suite_ports.py)
SIZE_MB = 320
#: How each engine's log says it met ENOSPC (Java's IOException, SQLite's error).
ENOSPC_SIGNS = ("No space left on device", "database or disk is full")


@dataclass
class DiskFullRun:
    """What one drill saw."""

    full_s: float = 0.0  # how long the disk stayed full
    health_line: str = ""  # p.health()'s Disco row while full
    doctor_line: str = ""  # dataops doctor's row while full
    up_refused: str = ""  # `dataops up` while full
    kafka_died: bool = False
    up_s: float = 0.0  # the one `up` after space was freed
    recovery_s: float = 0.0  # space freed -> a new row in the table (one `up` between)
    met_enospc: dict = field(default_factory=dict)  # component -> its log says so
    served: int = 0
    lost: int = 0
    duplicate: int = 0
    changed: int = 0
    details: dict = field(default_factory=dict)


def env(root: Path) -> dict[str, str]:
    from dataops.config import PORTS

    out = {"DATAOPS_STATE_DIR": str(root / "state")}
    out.update({f"DATAOPS_{name.upper()}_PORT": str(port + SHIFT) for name, port in PORTS.items()})
    return out


@contextmanager
def small_disk(root: Path, size_mb: int = SIZE_MB) -> Iterator[Path]:
    """``root/state/data`` on a tmpfs of ``size_mb``; the downloads shared from the project's stack."""
    from dataops.artifacts import share_downloads
    from dataops.config import PROJECT_ROOT
    from dataops.paths import StatePaths

    data = root / "state" / "data"
    if os.path.ismount(data):
        subprocess.run(["umount", "-l", str(data)], check=False)
    data.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(data)], capture_output=True, text=True)
    if done.returncode != 0:
        raise AssertionError(f"cannot mount a {size_mb} MB tmpfs on {data} (run inside `unshare -m`, as benchmarks/disk_full.py does): {done.stderr.strip()}")
    outside = root / "api-served-log"
    outside.mkdir(exist_ok=True)
    (data / "simulator").symlink_to(outside, target_is_directory=True)
    main = StatePaths(PROJECT_ROOT / ".stack")
    for candidate in (main, StatePaths(PROJECT_ROOT / ".stack" / "test")):
        try:
            share_downloads(candidate, StatePaths(root / "state"))
            break
        except OSError:
            continue
    try:
        yield data
    finally:
        subprocess.run(["umount", "-l", str(data)], check=False)


def fill(data: Path) -> Path:
    """Write a file on ``data`` until the disk has no byte left; its path."""
    filler = data / "filler.bin"
    block = b"\0" * 2**20
    with open(filler, "wb", buffering=0) as out:
        try:
            while True:
                out.write(block)
        except OSError:
            pass
        try:  # the last partial block
            while True:
                out.write(b"\0" * 4096)
        except OSError:
            pass
    return filler


def drill(p, data: Path, full_s: float = 30.0, settle_s: float = 120.0) -> DiskFullRun:
    """Fill ``data`` mid-stream for ``full_s``, read what health/doctor/up say, free it, run one
    ``up``, and account for every row the API served."""
    from dataops import doctor
    from dataops.errors import DiskFullError
    from dataops.reliability import compare, served_rows

    run = DiskFullRun(full_s=full_s)
    seq0 = p.source.last_seq()
    _wait(lambda: p.source.last_seq() >= seq0 + 3, 60, "polls before the disk fills")
    logs = {name: p.settings.paths.log_file(name) for name in p.stack.names}
    sizes = {name: log.stat().st_size if log.exists() else 0 for name, log in logs.items()}
    filler = fill(data)
    time.sleep(full_s)
    for name, log in logs.items():
        with open(log, "rb") as f:
            f.seek(sizes[name])
            said = f.read().decode("utf-8", "replace")
        run.met_enospc[name] = any(sign in said for sign in ENOSPC_SIGNS)
    run.kafka_died = p.stack.process("kafka") is None
    health = p.health(progress=False)
    disco = health[health["layer"] == "Disco"]
    run.health_line = str(disco["detail"].iloc[0]) if len(disco) else ""
    table = doctor.diagnose(p.settings, p.stack)
    row = table[table.iloc[:, 0] == "disco de los datos"]
    run.doctor_line = " | ".join(str(v) for v in row.iloc[0].tolist()) if len(row) else ""
    try:
        p.up(progress=False, ready_timeout_s=None)
    except DiskFullError as exc:
        run.up_refused = str(exc)
    filler.unlink()
    freed = time.time()
    p.up(progress=False, ready_timeout_s=settle_s)
    run.up_s = round(time.time() - freed, 1)
    _wait(lambda: _newest_tick(p) > freed, settle_s, "a new row in the table after space was freed", lambda: _where_it_stands(p))
    run.recovery_s = round(time.time() - freed, 1)
    last = p.source.last_seq()
    _wait(lambda: p.source.last_seq() >= last + 3, 60, "polls after the disk was freed")
    served = served_rows(p.source.served(since=seq0), p.settings)
    served = served[served["seq"] <= p.source.last_seq() - 2]
    deadline = time.monotonic() + settle_s
    while True:
        result = compare(served, p.iceberg.read(columns=("coin_id", "last_updated_at", "usd")), p.settings)
        if result.exact or time.monotonic() > deadline:
            break
        time.sleep(2)
    run.served, run.lost, run.duplicate, run.changed = result.expected, len(result.lost), len(result.repeated), len(result.changed)
    run.details = {"lost": result.lost.head(6).to_dict("records"), "repeated": result.repeated.head(3).to_dict("records")}
    return run


def _newest_tick(p) -> float:
    from dataops.errors import DataOpsError

    try:
        value = p.sql("SELECT max(last_updated_at) AS t FROM crypto_prices_exploded")["t"][0]
    except DataOpsError:
        return 0.0
    return float(value) if value == value else 0.0


def _where_it_stands(p) -> str:
    """What CI cannot show otherwise when the pipeline did not come back: each layer's health and the
    connectors' and the job's states."""
    try:
        health = p.health(progress=False).to_string(index=False)
        return f"connectors: {p.connect.states()}; job: {p.flink.live_job(p.settings.flink_job_name)}\n{health}"
    except Exception as exc:  # noqa: BLE001 - a diagnosis only
        return f"(no diagnosis: {exc})"


def _wait(predicate, timeout: float, what: str, diagnosis=None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}" + (f"\n{diagnosis()}" if diagnosis else ""))
