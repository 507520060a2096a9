"""The class server's Flink: one session cluster every learner shares (``class-flink-jobmanager``,
``class-flink-taskmanager``), reached only through the class's front (:mod:`dataops.classroom.front`).

Why: Flink's REST API runs whatever job it is sent, as the user Flink runs as, and shows every job
to whoever asks; its RPC and blob ports take jobs too. So:

- **Every port takes the class's certificate only**: the REST API with mutual TLS
  (``security.ssl.rest.authentication-enabled``), the jobmanager's and taskmanager's RPC, blob and
  data connections with Flink's internal TLS, all with the key store and CA of the class's Connect
  (:func:`dataops.classroom.connect.ensure_tls`). Learners have shells: a loopback port is no boundary.
- **Learners submit no code**: the front submits a learner's explode job itself (the course's SQL,
  the learner's names, their Kafka login), and lets them see, inspect and cancel only jobs named
  under their prefix (:mod:`dataops.classroom.flink_front`).
- The cluster lives in a state folder of its own (``<state>/class/flink``: its configuration,
  checkpoints, the Flink distribution hard-linked from the server's) on the ports from
  ``DATAOPS_CLASS_FLINK_PORT`` (REST; RPC, blob and taskmanager on the next three, a second
  taskmanager on the fourth when ``DATAOPS_CLASS_NODES=2``), with :data:`SLOTS` slots each:
  one explode job per learner, two at most (block 3's manual demo; the front refuses a third).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from dataops.classroom import connect
from dataops.config import Settings, load_settings
from dataops.engine import Component, port_open
from dataops.flink.conf import EXTRA
from dataops.paths import StatePaths, write_private

JOBMANAGER, TASKMANAGER = "class-flink-jobmanager", "class-flink-taskmanager"
#: A second taskmanager (``DATAOPS_CLASS_NODES=2``): RPC on the REST port + 4, the same
#: configuration; the jobmanager spreads the learners' jobs over both (slot load balancing).
TASKMANAGER_2 = "class-flink-taskmanager-2"
#: Task slots of the class's taskmanager: a learner's explode job each (a class of 25), and room for
#: some of block 3's manual demos at once (a job waits for a free slot beyond that).
SLOTS = 32
TASKMANAGER_MEMORY, LOW_MEMORY_TASKMANAGER = "1536m", "1024m"
CIPHERS = ("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256")


def cluster_settings(s: Settings) -> Settings:
    """The class cluster's own settings: the ``local`` profile's Flink, in ``<state>/class/flink``, on the class's ports."""
    base = s.class_flink_port
    return load_settings(profile="local", state_dir=s.paths.classroom / "flink", host=s.host, flink_port=base, flink_rpc_port=base + 1,
                         flink_blob_port=base + 2, flink_taskmanager_port=base + 3, low_memory=s.low_memory,
                         flink_taskmanager_memory=LOW_MEMORY_TASKMANAGER if s.low_memory else TASKMANAGER_MEMORY)  # fmt: skip


def rest_url(s: Settings) -> str:
    return f"https://{s.host}:{s.class_flink_port}"


def tls_config(s: Settings) -> dict[str, Any]:
    """Flink's TLS settings for the class (REST mutual TLS, internal TLS), as a ``config.yaml`` section."""
    tls = connect.ensure_tls(s)
    password = connect.store_password(s.paths)
    stores = {"keystore": str(tls["keystore"]), "keystore-password": password, "key-password": password,
              "truststore": str(tls["truststore"]), "truststore-password": password}  # fmt: skip
    # Flink offers one RSA cipher suite by default; the class's keys are P-256 (ECDSA).
    return {"security": {"ssl": {"algorithms": ",".join(CIPHERS), "rest": {"enabled": True, "authentication-enabled": True, **stores},
                                 "internal": {"enabled": True, **stores}}}}  # fmt: skip


def client_config(s: Settings) -> dict[str, str]:
    """What a Flink client (the submitting child) needs to reach the class's REST API (passwords included)."""
    ssl = tls_config(s)["security"]["ssl"]
    out = {f"security.ssl.rest.{k}": str(v).lower() if isinstance(v, bool) else str(v) for k, v in ssl["rest"].items()}
    return {**out, "security.ssl.algorithms": ssl["algorithms"]}


def write_extra(s: Settings) -> Path:
    """The cluster's ``extra.yaml`` (mode 600): TLS, :data:`SLOTS` slots, no jar upload through the web UI."""
    cs = cluster_settings(s)
    extra = {**tls_config(s), "taskmanager": {"numberOfTaskSlots": SLOTS, "load-balance": {"mode": "SLOTS"}},
             "web": {"submit": {"enable": False}}}  # fmt: skip
    return write_private(cs.paths.conf / "flink" / EXTRA, yaml.safe_dump(extra, sort_keys=False))


def _command(kind: str, rpc_offset: int = 0) -> Any:
    from dataops.artifacts import share_downloads
    from dataops.flink import engine as flink_engine

    def build(s: Settings, paths: StatePaths) -> list[str]:
        cs = cluster_settings(s)
        cs.paths.make()
        share_downloads(s.paths, cs.paths)  # the Flink distribution, hard-linked: nothing downloaded twice
        write_extra(s)
        cmd = flink_engine._flink_cmd(kind)(cs, cs.paths)
        return [*cmd, "-D", f"taskmanager.rpc.port={s.class_flink_port + rpc_offset}"] if rpc_offset else cmd

    return build


def names(s: Settings) -> list[str]:
    """The class's Flink components ``class up`` starts, in order: the jobmanager and its taskmanager(s)."""
    return [JOBMANAGER, TASKMANAGER, *([TASKMANAGER_2] if s.class_nodes > 1 else [])]


def session(s: Settings) -> Any:
    """A ``requests`` session the class's Flink lets in (the front's certificate)."""
    return connect.worker_session(s)


def _overview(s: Settings) -> dict[str, Any] | None:
    import requests

    if not port_open(s.host, s.class_flink_port):
        return None
    try:
        answer = session(s).get(f"{rest_url(s)}/overview", timeout=2)
        return answer.json() if answer.status_code == 200 else None  # type: ignore[no-any-return]
    except (requests.RequestException, ValueError):
        return None


def jobmanager_healthy(s: Settings) -> bool:
    return _overview(s) is not None


def taskmanager_healthy(s: Settings) -> bool:
    return bool((_overview(s) or {}).get("taskmanagers", 0) > 0)


def second_taskmanager_healthy(s: Settings) -> bool:
    return bool((_overview(s) or {}).get("taskmanagers", 0) > 1)


def jobs(s: Settings) -> list[dict[str, Any]]:
    """Every job on the class's cluster (the instructor's view); [] when it is not running."""
    import requests

    try:
        answer = session(s).get(f"{rest_url(s)}/jobs/overview", timeout=10)
    except requests.RequestException:
        return []
    return list(answer.json().get("jobs", [])) if answer.status_code == 200 else []


def cancel_jobs(s: Settings, learner: str) -> int:
    """Cancel ``learner``'s running jobs and forget their checkpoints (a reset, or a learner taken off
    the roster: their next job starts anew, never from where one before the reset stopped); how many ran."""
    import re
    import shutil

    from dataops.classroom.namespace import prefix
    from dataops.flink.layer import TERMINAL, FlinkLayer

    client = FlinkLayer(rest_url(s), http=session(s))
    mine = [j for j in jobs(s) if j["name"].startswith(prefix(learner)) and j["state"] not in TERMINAL]
    for job in mine:
        client.cancel(job["jid"])
    root = cluster_settings(s).paths.flink_checkpoints
    for ids in root.glob(f".{prefix(learner)}*.job-ids"):
        done = [line.split()[0] for line in ids.read_text().splitlines() if line.split()]
        ids.unlink(missing_ok=True)  # first: without it, nothing resumes from what is left below
        for jid in filter(re.compile(r"[0-9a-f]{32}").fullmatch, done):
            shutil.rmtree(root / jid, ignore_errors=True)
    return len(mine)


def components(s: Settings) -> list[Component]:
    """The class's jobmanager and taskmanager, optional components started by ``dataops class up``."""
    base = s.class_flink_port
    return [
        Component(JOBMANAGER, base, (base, base + 1, base + 2), rest_url(s), _command("jobmanager"), jobmanager_healthy,
                  start_timeout=90, java=True, optional=True, after=()),  # fmt: skip
        Component(TASKMANAGER, base + 3, (base + 3,), f"{s.host}:{base + 3}", _command("taskmanager"), taskmanager_healthy,
                  start_timeout=90, java=True, optional=True, after=(JOBMANAGER,)),  # fmt: skip
        Component(TASKMANAGER_2, base + 4, (base + 4,), f"{s.host}:{base + 4}", _command("taskmanager", 4), second_taskmanager_healthy,
                  start_timeout=90, java=True, optional=True, after=(JOBMANAGER,)),  # fmt: skip
    ]
