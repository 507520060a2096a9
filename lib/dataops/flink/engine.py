"""Flink's local start: a session cluster of one jobmanager and one taskmanager.

Their ``config.yaml`` is written by :mod:`dataops.flink.conf`; this module builds their command
lines and probes them through the jobmanager's REST API.
"""

from __future__ import annotations

from typing import Any, Callable

import requests

from dataops import subproc
from dataops.artifacts import require_java
from dataops.config import Settings
from dataops.engine import Component, log4j_conf, stack_jvm_flags
from dataops.errors import StackError
from dataops.flink.conf import FLINK_JAVA_OPTS, LOW_MEMORY_JAVA_OPTS, flink_conf_dir
from dataops.paths import StatePaths


def _flink_cmd(kind: str) -> Callable[[Settings, StatePaths], list[str]]:
    """Command line of a Flink jobmanager or taskmanager, as Flink's own scripts build it."""
    main, params = {
        "jobmanager": ("org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint", "GET_JM_RESOURCE_PARAMS"),
        "taskmanager": ("org.apache.flink.runtime.taskexecutor.TaskManagerRunner", "GET_TM_RESOURCE_PARAMS"),
    }[kind]

    def build(s: Settings, paths: StatePaths) -> list[str]:
        java = require_java()
        conf_dir = flink_conf_dir(s, paths)
        lib = paths.flink_home / "lib"
        jars = sorted(str(j) for j in lib.glob("*.jar") if not j.name.startswith("flink-dist"))
        classpath = ":".join([*jars, *map(str, lib.glob("flink-dist-*.jar"))])
        # Flink's memory model turns process sizes into JVM flags and dynamic properties.
        out = subproc.run(
            [java, *stack_jvm_flags(s), "-cp", f"{paths.flink_home / 'bin' / 'bash-java-utils.jar'}:{classpath}",
             "org.apache.flink.runtime.util.bash.BashJavaUtils", params, "--configDir", str(conf_dir)],
            f"la configuración de memoria de Flink para el {kind}", f"revisa {conf_dir / 'config.yaml'}", 60,
            capture_output=True, text=True,
        )  # fmt: skip
        result = [ln.split(":", 1)[1] for ln in out.stdout.splitlines() if ln.startswith("BASH_JAVA_UTILS_EXEC_RESULT:")]
        if out.returncode != 0 or len(result) < 2:
            raise StackError(f"falló la configuración de memoria de Flink para el {kind}", f"revisa {conf_dir / 'config.yaml'}")
        jvm_flags, dynamic = result[0].split(), result[1].split()
        return [
            java, *jvm_flags, "-XX:+UseSerialGC", *stack_jvm_flags(s, hot=kind == "taskmanager"), *FLINK_JAVA_OPTS,
            *(LOW_MEMORY_JAVA_OPTS if s.low_memory else ()),
            f"-Dlog4j.configurationFile=file:{log4j_conf(paths)}",
            "-classpath", classpath, main, "--configDir", str(conf_dir), *dynamic,
        ]  # fmt: skip

    return build


def _flink_json(s: Settings, path: str) -> dict[str, Any] | None:
    try:
        resp = requests.get(f"{s.flink_url}{path}", timeout=2)
        return resp.json() if resp.status_code == 200 else None
    except (requests.RequestException, ValueError):
        return None


def _jobmanager_healthy(s: Settings) -> bool:
    return _flink_json(s, "/overview") is not None


def _taskmanager_healthy(s: Settings) -> bool:
    return bool((_flink_json(s, "/overview") or {}).get("taskmanagers", 0) > 0)


def components(s: Settings) -> list[Component]:
    """The jobmanager and the taskmanager, in start order, as components of the local stack."""
    return [
        Component(
            "flink-jobmanager",
            s.flink_port,
            (s.flink_port, s.flink_rpc_port, s.flink_blob_port),
            s.flink_url,
            _flink_cmd("jobmanager"),
            _jobmanager_healthy,
            start_timeout=90,
            java=True,
            after=(),  # needs no other engine to start (the job is submitted later)
        ),
        Component(
            "flink-taskmanager",
            s.flink_taskmanager_port,
            (s.flink_taskmanager_port,),
            f"{s.host}:{s.flink_taskmanager_port}",
            _flink_cmd("taskmanager"),
            _taskmanager_healthy,
            start_timeout=90,
            java=True,
            after=("flink-jobmanager",),
        ),
    ]
