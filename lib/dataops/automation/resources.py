"""Each declared resource: what it should be, what it is, how to make it so.

A resource's *desired* and *actual* states are flat dicts of strings, so a plan is a
dict difference. What the last ``apply`` declared is kept (``StatePaths.applied``):
an actual state that differs from a declaration nobody changed since was changed by hand
(drift); one that differs from a changed declaration is an update.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

from dataops.automation.declaration import Connector, Declaration, Job, Sink, Topic
from dataops.kafka_connect.converters import raw_value_converter, value_converter
from dataops.config import Settings
from dataops.errors import DataOpsError
from dataops.facade import Layers

# The course's steps, in order; each resource belongs to one.
STEP_TOPICS, STEP_CONNECTOR, STEP_JOB, STEP_SINK = "topics", "conector", "job de Flink", "sink de Iceberg"
CONNECTOR_CLASS = "org.dataops.connect.http.HttpSourceConnector"
T = TypeVar("T")


@dataclass
class Resource:
    """One declared resource; ``key`` is ``kind/name``."""

    kind: str  # topic | connector | job | table | sink
    name: str
    step: str
    spec: Any
    desired: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.kind}/{self.name}"

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}"


def job_settings(settings: Settings, job: Job) -> Settings:
    """The settings the explode job's SQL is filled from, with the declared names."""
    return settings.model_copy(update={"topic_raw": job.source, "topic_exploded": job.sink,
                                       "topic_dlq": job.dead_letter, "flink_job_name": job.name})  # fmt: skip


def sink_settings(settings: Settings, sink: Sink) -> Settings:
    return settings.model_copy(update={"topic_exploded": sink.topic, "iceberg_table": sink.table,
                                       "topic_iceberg_control": sink.control_topic,
                                       "iceberg_connector_name": sink.name,
                                       "iceberg_commit_interval_s": sink.commit_interval_s})  # fmt: skip


def connector_config(settings: Settings, spec: Connector) -> dict[str, str]:
    """The HTTP source connector's Connect config: one record per poll, the body as a string value
    (in Avro with the registry when ``DATAOPS_TOPIC_FORMAT=avro``: :func:`raw_value_converter`).

    To the real API (or a strict simulator) the key goes in the plan's header, and the interval must
    keep ``60 / poll_interval_s`` calls a minute under ``coingecko_calls_per_min`` (else ConfigError).
    """
    settings.model_copy(update={"poll_interval_s": spec.poll_interval_s}).check_rate_limit()
    config = {
        "connector.class": CONNECTOR_CLASS,
        "tasks.max": "1",
        "http.url": spec.url,
        "http.poll.interval.ms": str(int(spec.poll_interval_s * 1000)),
        "kafka.topic": spec.topic,
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        **raw_value_converter(settings),
        "exactly.once.support": "required",
        **spec.config,
    }
    if settings.sends_api_key and settings.coingecko_api_key is not None:
        config["http.api.key"] = settings.coingecko_api_key.get_secret_value()
        config["http.api.key.header"] = settings.source_key_header
    return config


def sink_config(settings: Settings, spec: Sink) -> dict[str, str]:
    """The Iceberg sink ("Tableflow"), exactly once.

    The task writes data files, then commits the input offsets and its control events
    in one Kafka transaction; the coordinator commits the table every ``commit_interval_s``.
    With a ``dead_letter`` topic, a record it cannot convert goes there (:func:`sink_dead_letters`).
    """
    s = sink_settings(settings, spec)
    timeouts = {"session.timeout.ms": "10000", "heartbeat.interval.ms": "3000"}
    return {
        "connector.class": "org.apache.iceberg.connect.IcebergSinkConnector",
        "tasks.max": "1",
        "topics": spec.topic,
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        **value_converter(s),
        "consumer.override.isolation.level": "read_committed",
        **{f"consumer.override.{k}": v for k, v in timeouts.items()},
        "iceberg.tables": spec.table,
        # The table is created by pyiceberg with typed timestamps; auto-create would make strings.
        "iceberg.tables.auto-create-enabled": "false",
        "iceberg.tables.evolve-schema-enabled": "false",
        "iceberg.control.topic": spec.control_topic,
        "iceberg.control.commit.interval-ms": str(int(spec.commit_interval_s * 1000)),
        "iceberg.control.commit.timeout-ms": "10000",
        # Where the table is and how its coordinator reaches Kafka, as the profile says (the local stack's; on a
        # class server the front puts in the learner's, dataops.classroom.front).
        **(settings.runs.sink_catalog(s) if settings.runs.sink_catalog else {}),
        **{f"iceberg.kafka.{k}": v for k, v in timeouts.items()},
        **(sink_dead_letters(settings, spec.dead_letter) if spec.dead_letter else {}),
    }


def sink_dead_letters(settings: Settings, topic: str) -> dict[str, str]:
    """Connect's error handling for the Iceberg sink: a bad record goes to ``topic`` and the task goes on.

    Connect tolerates (``errors.tolerance=all``) only what fails in the converter or in a
    transform; the Iceberg sink (1.12) has no errant-record reporter, so a record that fails
    inside its ``put()`` (a JSON value that is not an object, a number field holding text)
    still stops the task. Two transforms make those records fail one stage earlier, where
    Connect sends them to ``topic`` with the error in the ``__connect.errors.*`` headers: a
    ``Cast`` to the contract's numeric types, and the project's ``TimestampGuard``
    (``lib/connect``), which reads the contract's timestamps as the sink would.
    """
    from dataops.contract import contract_for

    contract = contract_for(settings)
    casts = [f"{c.name}:{'int64' if c.json_type == 'integer' else 'float64'}" for c in contract.columns if c.numeric]
    return {
        "errors.tolerance": "all",
        "errors.log.enable": "true",
        "errors.deadletterqueue.topic.name": topic,
        "errors.deadletterqueue.topic.replication.factor": "1",
        "errors.deadletterqueue.context.headers.enable": "true",
        "transforms": "contract,timestamps",
        "transforms.contract.type": "org.apache.kafka.connect.transforms.Cast$Value",
        "transforms.contract.spec": ",".join(casts),
        "transforms.timestamps.type": "org.dataops.connect.transforms.TimestampGuard",
        "transforms.timestamps.fields": ",".join(c.name for c in contract.columns if c.timestamp),
    }


def resources(decl: Declaration, settings: Settings, managed: bool = True) -> list[Resource]:
    """The declaration's resources in apply order, with their desired states.

    Args:
        managed: False: the topics only. True: the kinds the profile manages (``profile.manages``:
            every kind locally and on a class server, through its front; the topics in ``confluent``).
    """
    from dataops.contract import contract_for
    from dataops.flink.job import job_spec

    kinds = settings.runs.manages if managed else {"topic"}
    out = [Resource("topic", t.name, STEP_TOPICS, t, {"partitions": str(t.partitions), **t.config}) for t in decl.topics]
    if "connector" in kinds:
        out += [Resource("connector", c.name, STEP_CONNECTOR, c, connector_config(settings, c)) for c in decl.connectors]
    if "job" in kinds:
        out += [Resource("job", j.name, STEP_JOB, j, job_spec(job_settings(settings, j))) for j in decl.jobs]
    if "table" in kinds:
        columns = ",".join(contract_for(settings).iceberg_schema().column_names)
        out += [Resource("table", t.name, STEP_SINK, t, {"columns": columns}) for t in decl.tables]
    if "sink" in kinds:
        out += [Resource("sink", s.name, STEP_SINK, s, sink_config(settings, s)) for s in decl.sinks]
    return out


# ---- what runs ------------------------------------------------------------------


def actual(p: Layers, r: Resource) -> tuple[dict[str, str] | None, str]:
    """The resource's current state (None: it does not exist) and a problem with it ("" when none)."""
    if r.kind == "topic":
        return p.kafka.topic_config(r.name, [k for k in r.desired if k != "partitions"]), ""
    if r.kind in ("connector", "sink"):
        current = p.connect.config(r.name)
        if current is None:
            return None, ""
        states = _settled(lambda: p.connect.states().get(r.name, []), lambda st: not st or any(s in PASSING_STATES for s in st))
        problem = "" if states and all(s == "RUNNING" for s in states) else f"state {'/'.join(states) or 'UNASSIGNED'}"
        if "FAILED" in states:
            problem = f"FAILED: {_failure(p, r.name)}"
        return {k: v for k, v in current.items() if k != "name"}, problem
    if r.kind == "job":
        live = _settled(lambda: p.flink.live_job(r.name), lambda job: job is not None and job["state"] in PASSING_STATES)
        if live is None:
            return None, ""
        problem = "" if live["state"] == "RUNNING" else f"state {live['state']}"
        return dict(applied(p.settings).get(r.key) or r.desired), problem  # Flink does not echo the params back
    if r.kind == "table":
        try:
            table = p.iceberg.table(r.name)
        except DataOpsError:
            return None, ""
        return {"columns": ",".join(table.schema().column_names)}, ""
    raise ValueError(r.kind)


#: States a connector's task or a Flink job passes through on its own (a rebalance of the worker, a
#: restart by the monitor's healer or Flink's restart strategy): the plan waits them out, up to
#: :data:`SETTLE_S`, before calling what it sees drift.
PASSING_STATES = ("UNASSIGNED", "RESTARTING", "CREATED", "INITIALIZING", "RECONCILING")
SETTLE_S = 20.0


def _settled(read: Callable[[], T], passing: Callable[[T], bool], wait_s: float | None = None) -> T:
    """``read()`` once it is not ``passing``, or its last value after ``wait_s`` (:data:`SETTLE_S`)."""
    deadline = time.monotonic() + (SETTLE_S if wait_s is None else wait_s)
    value = read()
    while passing(value) and time.monotonic() < deadline:
        time.sleep(0.5)
        value = read()
    return value


def _failure(p: Layers, name: str) -> str:
    try:
        status = p.connect.status(name)
    except DataOpsError:
        return "mira `dataops logs connect`"
    traces = [t.get("trace", "") for t in [status.get("connector", {}), *status.get("tasks", [])] if t.get("state") == "FAILED"]
    first = next((t.strip().splitlines()[0] for t in traces if t.strip()), "mira `dataops logs connect`")
    return first[:160]


def diff(desired: dict[str, str], current: dict[str, str] | None) -> dict[str, tuple[str | None, str | None]]:
    """Field → (current, desired) for every field that differs."""
    if current is None:
        return {}
    keys = list(desired) + [k for k in current if k not in desired]
    return {k: (current.get(k), desired.get(k)) for k in keys if current.get(k) != desired.get(k)}


def describe(changes: dict[str, tuple[str | None, str | None]], secret: Callable[[str], bool] = lambda k: k.endswith((".key", "password", "secret"))) -> str:
    """``field: old → new`` for each change (secret values masked, long ones shortened)."""

    def show(key: str, value: str | None) -> str:
        if value is None:
            return "∅"
        if secret(key):
            return "****"
        return value if len(value) <= 48 else value[:45] + "…"

    return "; ".join(f"{k}: {show(k, a)} → {show(k, b)}" for k, (a, b) in changes.items())


# ---- the record of what apply declared --------------------------------------------


def applied(settings: Settings) -> dict[str, dict[str, str]]:
    try:
        return json.loads(settings.paths.applied.read_text())
    except (FileNotFoundError, ValueError):
        return {}


def record_applied(settings: Settings, r: Resource) -> None:
    record = applied(settings)
    record[r.key] = r.desired
    path = settings.paths.applied
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=1, sort_keys=True))
    tmp.replace(path)


def forget_applied(settings: Settings, keys: list[str]) -> None:
    record = {k: v for k, v in applied(settings).items() if k not in keys}
    path = settings.paths.applied
    if path.parent.exists():
        path.write_text(json.dumps(record, indent=1, sort_keys=True))


# ---- making it so -----------------------------------------------------------------


def make_so(p: Layers, r: Resource, current: dict[str, str] | None, problem: str) -> str:
    """Create, update or repair one resource; returns what was done (one short line)."""
    if r.kind == "topic":
        return _apply_topic(p, r, current)
    if r.kind in ("connector", "sink"):
        from dataops.kafka_connect.wait import wait_running

        if current is None or diff(r.desired, current):
            p.connect.put_config(r.name, r.desired)
            done = "created" if current is None else "updated"
        else:
            done = "unchanged"
        if problem.startswith("FAILED") or (done == "updated" and problem):
            p.connect.restart(r.name)
            done = f"{done}, reiniciado (estaba {problem.split(':')[0]})"
            _wait_not_failed(p, r.name)  # the restart is asynchronous: the old FAILED shows for a moment
        if "PAUSED" in p.connect.states().get(r.name, []):  # declared means running: a pause by hand is drift
            p.connect.resume(r.name)
            done = f"{done}, reanudado (estaba en pausa)"
        wait_running(p.connect, r.name)
        return done
    if r.kind == "job":
        s = job_settings(p.settings, r.spec)
        if current is not None and diff(r.desired, current):
            p.flink.cancel(p.flink.live_job(r.name)["jid"])
            return "resubmitted: " + p.flink.ensure_explode_job(s)
        return p.flink.ensure_explode_job(s)
    if r.kind == "table":
        if current is not None and diff(r.desired, current):
            raise DataOpsError(f"la tabla {r.name} tiene columnas distintas de las del contrato ({describe(diff(r.desired, current))})",
                               "el sink no puede escribirla: borra la tabla o restaura data/schemas/exploded_row.json")  # fmt: skip
        return p.iceberg.ensure_table(r.name)
    raise ValueError(r.kind)


def _wait_not_failed(p: Layers, name: str, wait_s: float = 10.0) -> None:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline and "FAILED" in p.connect.states().get(name, []):
        time.sleep(0.5)


def _apply_topic(p: Layers, r: Resource, current: dict[str, str] | None) -> str:
    spec: Topic = r.spec
    if current is None:
        return p.kafka.ensure_topic(spec.name, spec.partitions, spec.config)
    done = []
    if int(current["partitions"]) < spec.partitions:
        from confluent_kafka.admin import NewPartitions

        admin = p.kafka.admin()  # held until the future is done
        admin.create_partitions([NewPartitions(spec.name, spec.partitions)])[spec.name].result(timeout=30)
        done.append(f"partitions {current['partitions']} → {spec.partitions}")
    action = p.kafka.ensure_topic(spec.name, spec.partitions, spec.config)
    if action.startswith("updated"):
        done.append(action.removeprefix("updated "))
    return "updated " + ", ".join(done) if done else "exists"


def impossible(r: Resource, current: dict[str, str] | None) -> str:
    """Why a change cannot be applied ("" when it can)."""
    if r.kind == "topic" and current is not None and int(current["partitions"]) > r.spec.partitions:
        return (f"topic {r.name} has {current['partitions']} partitions; Kafka cannot remove partitions "
                f"(declare {current['partitions']} or more, or delete the topic by hand)")  # fmt: skip
    return ""
