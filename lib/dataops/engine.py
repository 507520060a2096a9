"""What every engine of the local stack shares: the :class:`Component` and the helpers that start and probe one.

One :class:`Component` per process: its ports, the command line that starts it (writing its
configuration files first) and its health probe. Each layer package builds its own in its
``engine`` module (:mod:`dataops.kafka.engine`, :mod:`dataops.flink.engine`, …);
:mod:`dataops.stack.engines` puts them in start order.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import requests

from dataops.artifacts import require_java
from dataops.config import Settings
from dataops.paths import StatePaths


@dataclass(frozen=True)
class Component:
    """One process of the local stack.

    Attributes:
        name: Short name used by the CLI (`dataops logs NAME`).
        port: Main port (shown by `status`).
        ports: Every port it binds.
        url: Its address (shown by `status`).
        command: Builds the command line; may write config files first.
        healthy: True when the component answers.
        start_timeout: Seconds to wait for health after start.
        java: Needs Java and the Maven artifacts.
        optional: Started only when asked for (``dataops up --with NAME``), not by a plain ``up``.
        after: The components that must be healthy before it starts (those of them that are
            started with it); None: every component before it in the start order. Components
            whose ``after`` are healthy start at once, side by side.
    """

    name: str
    port: int
    ports: tuple[int, ...]
    url: str
    command: Callable[[Settings, StatePaths], list[str]]
    healthy: Callable[[Settings], bool]
    start_timeout: float = 60.0
    java: bool = False
    optional: bool = False
    after: tuple[str, ...] | None = None


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        return requests.get(url, timeout=timeout).status_code == 200
    except requests.RequestException:
        return False


def _escape_property(text: str) -> str:
    """``text`` as a ``.properties`` value that ``java.util.Properties`` reads back unchanged.

    Kafka and Connect load their files as ISO-8859-1, so a UTF-8 "é" (a state folder in
    ``/home/José``) would come back as "Ã©": every character beyond ASCII is written as a
    ``\\uXXXX`` escape (UTF-16, as Java reads it); backslashes and line breaks are escaped too.
    """
    out = []
    for i, ch in enumerate(text):
        if ch == "\\":
            out.append("\\\\")
        elif ch in "\n\r\t\f":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t", "\f": "\\f"}[ch])
        elif ch == " " and i == 0:  # a leading blank would be taken for the separator's
            out.append("\\ ")
        elif " " <= ch <= "~":
            out.append(ch)
        else:
            units = ch.encode("utf-16-be")
            out.extend(f"\\u{int.from_bytes(units[j:j + 2], 'big'):04x}" for j in range(0, len(units), 2))
    return "".join(out)


def properties(values: dict[str, object]) -> str:
    """A Java ``.properties`` file: one ``key=value`` line each, values escaped (spaces and
    accents in paths included) so that Java reads back exactly ``str(value)``."""
    return "".join(f"{k}={_escape_property(str(v))}\n" for k, v in values.items())


def log4j_conf(paths: StatePaths) -> Path:
    conf = paths.conf / "log4j2.properties"
    conf.write_text(
        properties(
            {
                "status": "warn",
                "appender.out.type": "Console",
                "appender.out.name": "OUT",
                "appender.out.layout.type": "PatternLayout",
                "appender.out.layout.pattern": "[%d] %p %m (%c{1})%n",
                "rootLogger.level": "INFO",
                "rootLogger.appenderRef.out.ref": "OUT",
                # The chatty parts of the engines; warnings still show.
                "logger.clients.name": "org.apache.kafka.clients",
                "logger.clients.level": "WARN",
                "logger.common.name": "org.apache.kafka.common",
                "logger.common.level": "WARN",
                "logger.raft.name": "org.apache.kafka.raft",
                "logger.raft.level": "WARN",
                "logger.reflections.name": "org.reflections",
                "logger.reflections.level": "ERROR",
            }
        )
    )
    return conf


# The JVMs that only steer (Kafka's broker, Flink's jobmanager, the registry, the catalog) compile
# with C1 only: no C2 compiler thread and arenas, less compiled code, less CPU while starting. The
# two that carry the rows (Flink's taskmanager and Connect, with the Iceberg sink) keep C2: with C1
# a year's backfill took 109 s instead of 59 (benchmarks/backfill.py --year), 81 s with C1 in
# Connect alone. Measured on 2 cores (benchmarks/memory.py, startup.py): a stack starting from
# nothing used 24.5 CPU seconds instead of 32 and its first record came 16 s after `up` instead of
# 19; the low-memory mode compiles with C1 everywhere, ``DATAOPS_FULL_JIT=1`` with C2 everywhere.
C1_ONLY_JVM_FLAGS = ("-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1", "-XX:ReservedCodeCacheSize=32m")

# The low-memory mode (``DATAOPS_LOW_MEMORY=1``, ``dataops up --low-memory``): flags every JVM of the
# stack gets after its own heap flags (so ``-Xms`` here wins, also over Flink's ``-Xms`` = ``-Xmx``).
LOW_MEMORY_JVM_FLAGS = (
    "-Xms16m",  # the heap grows as it is used; serial GC sizes the young generation from it
    "-XX:MinHeapFreeRatio=10",  # grow and shrink the heap in small steps, and give back what a full GC frees
    "-XX:MaxHeapFreeRatio=30",
    "-Djdk.nio.maxCachedBufferSize=262144",  # NIO keeps no large temporary direct buffer per thread
)
# …and the environment of every process it starts: glibc's malloc keeps two arenas, not 8 per core.
LOW_MEMORY_ENV = {"MALLOC_ARENA_MAX": "2"}


def stack_jvm_flags(s: Settings, metaspace: str | None = None, direct: str | None = None, hot: bool = False) -> list[str]:
    """The JVM flags of the stack's modes: C1 only (see above), and the low-memory mode's.

    Args:
        hot: The JVM carries the rows (it keeps C2 unless in the low-memory mode).
        metaspace: Cap on class metadata (``-XX:MaxMetaspaceSize``) in the low-memory mode, when the
            engine sets none itself.
        direct: Cap on direct buffers (``-XX:MaxDirectMemorySize``) in the low-memory mode, when the
            engine sets none itself.
    """
    jit = [] if s.full_jit or (hot and not s.low_memory) else list(C1_ONLY_JVM_FLAGS)
    if not s.low_memory:
        return jit
    caps = [f"-XX:MaxMetaspaceSize={metaspace}"] if metaspace else []
    caps += [f"-XX:MaxDirectMemorySize={direct}"] if direct else []
    return [*jit, *LOW_MEMORY_JVM_FLAGS, *caps]


def child_env(s: Settings) -> dict[str, str]:
    """Environment variables every process of the stack gets besides the settings'."""
    return dict(LOW_MEMORY_ENV) if s.low_memory else {}


def java_cmd(paths: StatePaths, heap: str, main: str, *args: str, jvm_flags: Sequence[str] = ()) -> list[str]:
    return [
        require_java(),
        f"-Xmx{heap}",
        *(() if any(flag.startswith("-Xms") for flag in jvm_flags) else ("-Xms64m",)),
        "-XX:+UseSerialGC",
        *jvm_flags,
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={log4j_conf(paths)}",
        "-cp",
        f"{paths.lib}/*",
        main,
        *args,
    ]
