"""Flink's configuration for the local stack: its ``config.yaml`` and the JVM options it needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dataops.config import Settings
from dataops.paths import StatePaths, file_uri

FLINK_JAVA_OPTS = [
    # The module opens Flink 2.x needs on Java 17 (env.java.opts.all of its stock config).
    "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
    "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
    *(
        f"--add-opens=java.base/{pkg}=ALL-UNNAMED"
        for pkg in (
            "java.lang", "java.net", "java.io", "java.nio", "sun.nio.ch", "java.lang.reflect", "java.text",
            "java.time", "java.util", "java.util.concurrent", "java.util.concurrent.atomic",
            "java.util.concurrent.locks",
        )
    ),
]  # fmt: skip

# The low-memory mode's split of the process sizes (``flink_*_memory``; the heap is what is left).
# Metaspace and the direct-memory parts are caps, not allocations (Flink turns them into
# -XX:MaxMetaspaceSize and -XX:MaxDirectMemorySize); the network buffers are allocated at start,
# and the explode job needs a few dozen (one network edge, to the dead letters' sink).
LOW_MEMORY_TASKMANAGER = {
    "framework": {"heap": {"size": "48m"}, "off-heap": {"size": "64m"}},
    "network": {"min": "8m", "max": "8m"},  # 256 buffers of 32 KB
    "managed": {"size": "16m"},  # hashmap state + pure SQL: managed memory unused
    "jvm-metaspace": {"size": "128m"},
    "jvm-overhead": {"min": "48m", "max": "48m"},
}  # fmt: skip
LOW_MEMORY_JOBMANAGER = {
    "off-heap": {"size": "64m"},
    "jvm-metaspace": {"size": "128m"},
    "jvm-overhead": {"min": "48m", "max": "48m"},
}  # fmt: skip


# Flink's Netty (RPC, REST, shuffle; shaded, so its properties carry the shaded prefix) keeps one pool
# arena per core, each holding a 4 MB chunk once used: one arena is plenty for the course's traffic.
LOW_MEMORY_JAVA_OPTS = [
    f"-Dorg.apache.flink.shaded.netty4.io.netty.allocator.{arenas}=1" for arenas in ("numDirectArenas", "numHeapArenas")
]


def memory_conf(s: Settings) -> dict[str, dict[str, Any]]:
    """The ``memory`` sections of the jobmanager and the taskmanager, by component."""
    jobmanager: dict[str, Any] = {"process": {"size": s.flink_jobmanager_memory}}
    taskmanager: dict[str, Any] = {
        "process": {"size": s.flink_taskmanager_memory},
        "managed": {"size": "64m"},  # hashmap state + pure SQL: managed memory unused
        "jvm-metaspace": {"size": "192m"},
    }
    if s.low_memory:
        jobmanager.update(LOW_MEMORY_JOBMANAGER)
        taskmanager.update(LOW_MEMORY_TASKMANAGER)
    return {"jobmanager": jobmanager, "taskmanager": taskmanager}


def flink_conf_dir(s: Settings, paths: StatePaths) -> Path:
    """Write Flink's config.yaml (and make its data folders); returns the config folder.

    The log4j config is written with the command line (:func:`dataops.flink.engine._flink_cmd`).
    """
    import yaml

    conf_dir = paths.conf / "flink"
    conf_dir.mkdir(parents=True, exist_ok=True)
    data = paths.data / "flink"
    memory = memory_conf(s)
    config = {
        "jobmanager": {
            "bind-host": s.host,
            "rpc": {"address": s.host, "port": s.flink_rpc_port},
            "memory": memory["jobmanager"],
            "execution": {"failover-strategy": "region"},
        },
        "taskmanager": {
            "bind-host": s.host,
            "host": s.host,
            "rpc": {"port": s.flink_taskmanager_port},
            "numberOfTaskSlots": 2,
            "memory": memory["taskmanager"],
        },
        "parallelism": {"default": 1},
        "rest": {"address": s.host, "bind-address": s.host, "port": s.flink_port},
        "blob": {"server": {"port": s.flink_blob_port}},
        # A killed taskmanager is noticed in seconds, not the default 50 s.
        "heartbeat": {"interval": 2000, "timeout": 10000},
        "state": {"backend": {"type": "hashmap"}},
        "execution": {
            "checkpointing": {
                "dir": file_uri(paths.flink_checkpoints),
                "savepoint-dir": file_uri(data / "savepoints"),
                "externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
                "num-retained": 3,
            }
        },
        "restart-strategy": {
            "type": "exponential-delay",
            "exponential-delay": {
                "initial-backoff": "1s",
                "max-backoff": "30s",
                "backoff-multiplier": 2.0,
                "reset-backoff-threshold": "5min",
                "attempts-before-reset-backoff": 1000000,
            },
        },
        "io": {"tmp": {"dirs": str(data / "tmp")}},
        "web": {"tmpdir": str(data / "web"), "upload": {"dir": str(data / "web-upload")}},
    }
    for sub in ("checkpoints", "savepoints", "tmp", "web", "web-upload"):
        (data / sub).mkdir(parents=True, exist_ok=True)
    extra = conf_dir / EXTRA
    if extra.is_file():  # a cluster of another kind (a class server's: TLS, more slots) adds or replaces keys
        config = merged(config, yaml.safe_load(extra.read_text(encoding="utf-8")) or {})
    target = conf_dir / "config.yaml"
    target.touch(mode=0o600)  # the extra keys may hold the key stores' password
    target.write_text(yaml.safe_dump(config, sort_keys=False))
    return conf_dir


#: Beside ``config.yaml``: keys a cluster of another kind adds to it (:func:`merged` in), written by who
#: starts that cluster (:mod:`dataops.classroom.flink`).
EXTRA = "extra.yaml"


def merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``extra``'s keys, nested sections merged key by key."""
    out = dict(base)
    for key, value in extra.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out
