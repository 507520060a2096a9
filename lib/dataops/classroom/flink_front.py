"""The class front's Flink part: what a learner may ask of the class's Flink (:mod:`dataops.classroom.flink`).

- ``GET /flink/overview`` (the cluster's counts), ``GET /flink/jobs/overview`` (their own jobs only:
  named under their prefix), and any ``GET`` on ``/flink/jobs/<id>…`` of a job of theirs, and
  ``PATCH /flink/jobs/<id>?mode=cancel`` of one.
- ``POST /flink/dataops/explode``: the front submits their explode job itself, unless it runs (the
  course's SQL with their names, or names of theirs they give (a scratch copy), and their Kafka login, resumed from its newest checkpoint:
  :func:`dataops.flink.job.ensure_explode_job`). A learner sends no SQL and no jar: a job is code,
  and a learner's code would run as the server's Flink.
- Everything else: refused in one Spanish line (403), and Flink never hears of it.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from dataops.classroom import access, broker, flink
from dataops.classroom.namespace import prefix
from dataops.config import Settings, load_settings
from dataops.errors import DataOpsError, RefusedError
from dataops.flink.layer import TERMINAL

JOB_ID = re.compile(r"^[0-9a-f]{32}$")
_LOCKS: dict[str, threading.Lock] = {}
_GUARD = threading.Lock()


def learner_settings(s: Settings, learner: str) -> Settings:
    """``learner``'s settings as their session has them, aimed at the class's Flink from the server's
    side (its state folder: the Flink distribution, the jobs' checkpoints)."""
    return load_settings(profile="class", env_file=access.env_file(s.paths, learner), state_dir=flink.cluster_settings(s).state_dir,
                         host=s.host, flink_port=s.class_flink_port, kafka_bootstrap=broker.bootstrap(s))  # fmt: skip


#: What a learner may name in their explode job (``POST /flink/dataops/explode``): the job, and the
#: topics it reads and writes (a scratch copy's, like block 3's ``demo-manual``); each theirs.
JOB_NAMES = {"job": "flink_job_name", "source": "topic_raw", "good": "topic_exploded", "dlq": "topic_dlq"}


#: A learner's jobs running at once on the shared cluster: the course's explode job and block 3's
#: manual demo. More is refused, so a loop cannot take the class's slots.
MAX_JOBS = 2


def job_names(learner: str, body: bytes) -> dict[str, str]:
    """The settings fields a learner's request names (none: their course job's), each checked to be theirs.

    Raises:
        RefusedError: A name outside their namespace, or an unknown key (403, one line).
    """
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        raise RefusedError(400, "el cuerpo de la petición no es JSON") from None
    data = data if isinstance(data, dict) else {}
    unknown = sorted(set(data) - set(JOB_NAMES))
    if unknown:
        raise RefusedError(403, f"tu job de explode solo admite los nombres {', '.join(JOB_NAMES)}: sobra {unknown[0]!r}")
    mine = re.compile(re.escape(prefix(learner)) + r"[a-z0-9][a-z0-9._-]{0,120}")
    for key, name in data.items():
        if not isinstance(name, str) or not mine.fullmatch(name):
            raise RefusedError(403, f"{key}={name!r}: en la clase tu job solo usa nombres tuyos ({prefix(learner)}…)")
    return {JOB_NAMES[key]: name for key, name in data.items()}


def submit(s: Settings, learner: str, names: dict[str, str] | None = None) -> str:
    """Submit ``learner``'s explode job unless it runs (one submission at a time per learner), under
    ``names`` (:func:`job_names`) when given; what was done."""
    from dataops.flink.job import ensure_explode_job
    from dataops.flink.layer import FlinkLayer

    with _GUARD:
        lock = _LOCKS.setdefault(learner, threading.Lock())
    with lock:
        mine = learner_settings(s, learner).model_copy(update=names or {})
        running = sorted(str(j.get("name")) for j in flink.jobs(s)
                         if str(j.get("name", "")).startswith(prefix(learner)) and j.get("state") not in TERMINAL)  # fmt: skip
        if mine.flink_job_name not in running and len(running) >= MAX_JOBS:
            raise DataOpsError(f"ya tienes {len(running)} jobs en marcha en el Flink de la clase ({', '.join(running)}), el máximo",
                               "cancela uno antes (`p.flink.cancel(JOB_ID)`) o avisa al profesor")  # fmt: skip
        client = FlinkLayer(flink.rest_url(s), http=flink.session(s), job_name=mine.flink_job_name)
        return ensure_explode_job(mine, client=client, client_config=flink.client_config(s))


def _flink(s: Settings, method: str, path: str) -> tuple[int, Any]:
    import requests

    try:
        answer = flink.session(s).request(method, f"{flink.rest_url(s)}{path}", timeout=30)
    except requests.RequestException:
        return 503, {"message": "el Flink de la clase no responde: avisa al profesor"}
    try:
        return answer.status_code, answer.json() if answer.content else None
    except ValueError:
        return answer.status_code, {"message": answer.text[:300]}


def handle(s: Settings, learner: str, method: str, path: str, body: bytes = b"") -> tuple[int, Any]:
    """``learner``'s request on ``/flink…``: (status, JSON answer).

    Raises:
        RefusedError: Not theirs to make (one line).
    """
    where = urlsplit(path)
    parts = [unquote(p) for p in where.path.split("/") if p][1:]  # after "flink"
    if method == "GET" and parts == ["overview"]:
        return _flink(s, "GET", "/overview")
    if method == "GET" and parts == ["jobs", "overview"]:
        status, data = _flink(s, "GET", "/jobs/overview")
        if status == 200:
            data = {"jobs": [j for j in data.get("jobs", []) if str(j.get("name", "")).startswith(prefix(learner))]}
        return status, data
    if method == "POST" and parts == ["dataops", "explode"]:
        names = job_names(learner, body)  # a name not theirs: RefusedError, answered with its status
        try:
            return 200, {"done": submit(s, learner, names)}
        except DataOpsError as exc:
            return 409, {"message": str(exc).splitlines()[0]}
    if len(parts) >= 2 and parts[0] == "jobs" and JOB_ID.match(parts[1]):
        status, job = _flink(s, "GET", f"/jobs/{parts[1]}")
        if status != 200:
            return status, job
        if not str(job.get("name", "")).startswith(prefix(learner)):
            raise RefusedError(403, f"el job {job.get('name')!r} no es tuyo: en la clase solo son tuyos los jobs que empiezan por {prefix(learner)!r}")
        rest = "/" + "/".join(quote(p, safe="") for p in ["jobs", *parts[1:]]) + (f"?{where.query}" if where.query else "")
        if method == "GET" and not any(p in (".", "..") for p in parts):
            return _flink(s, "GET", rest)
        if method == "PATCH" and parts[2:] == [] and where.query == "mode=cancel":
            return _flink(s, "PATCH", rest)
    raise RefusedError(403, f"{method} {where.path}: en la clase solo puedes ver tus jobs de Flink, cancelarlos y enviar tu job de explode")


def answer_json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode()
