"""The course's explode job: its Flink SQL, configuration, submission and resumption.

Inspection of the running job is :class:`dataops.flink.layer.FlinkLayer`; the planning
itself runs in a child process, :mod:`dataops.flink.submit`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sys
import time
from pathlib import Path
from contextlib import contextmanager
from typing import Any, Iterator, NoReturn

from dataops import subproc, toolchain
from dataops.flink.checkpoints import FROM_OFFSETS, RestoreChoice, choose, runs
from dataops.config import ENV_PREFIX, PROJECT_ROOT, Settings
from dataops.contract import contract_for
from dataops.engine import child_env, stack_jvm_flags
from dataops.errors import CheckpointError, DataOpsError, StackError
from dataops.flink import prewarm
from dataops.flink.layer import FlinkLayer, root_cause
from dataops.paths import file_uri

logger = logging.getLogger(__name__)

EXPLODE_SQL = Path(__file__).with_name("explode.sql")
UDF_SOURCES = PROJECT_ROOT / "lib" / "stack" / "flink-udf" / "src"  # JSON_MEMBERS, AVRO_POLL
RESTORE_FAILED = "JobInitializationException"  # the jobmanager could not start the job: with a checkpoint, its restore
ROLLBACK = re.compile(r"Failed to rollback to checkpoint/savepoint \S+?\.\s+")


def refusal(stderr: str, width: int = 240) -> str:
    """Why Flink refused to restore a checkpoint, in one line without the checkpoint's path
    (the line names it) nor Flink's advice to skip state (that would drop rows silently)."""
    text = ROLLBACK.sub("", root_cause(stderr.strip(), width=2000))
    return text.split(" If you want to allow")[0][:width]


def job_ids_file(settings: Settings) -> Path:
    """The ids of every run of the job (its checkpoints are found through them)."""
    return settings.paths.flink_checkpoints / f".{settings.flink_job_name}.job-ids"


def restore_choice(settings: Settings) -> RestoreChoice:
    """Where a resubmission of the explode job would resume (see :mod:`dataops.flink.checkpoints`)."""
    ids_file = job_ids_file(settings)
    if not ids_file.exists():
        return RestoreChoice()
    return choose(ids_file.parent, runs(ids_file.read_text()))


def latest_checkpoint(settings: Settings) -> Path | None:
    """Newest complete checkpoint of the explode job's runs (None when there is none or it is unusable)."""
    return restore_choice(settings).checkpoint


def job_config(settings: Settings) -> dict[str, str]:
    """Flink configuration of the explode job (checkpointing on, exactly once)."""
    paths = settings.paths
    return {
        "execution.target": "remote",
        "rest.address": settings.host,
        "rest.port": str(settings.flink_port),
        "pipeline.name": settings.flink_job_name,
        "pipeline.jars": ";".join(jar.as_uri() for jar in (paths.flink_connector_jar, paths.flink_udf_jar,
                                                          *([paths.flink_avro_jar] if settings.topic_format == "avro" else []))),
        "parallelism.default": str(settings.flink_parallelism),
        "execution.checkpointing.interval": f"{int(settings.flink_checkpoint_interval_s * 1000)} ms",
        "execution.checkpointing.mode": "EXACTLY_ONCE",
        "execution.checkpointing.dir": file_uri(paths.flink_checkpoints),
        "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
        # Chained operators hand rows on without a deep copy each (the SQL runtime does not keep
        # references to the rows it emits); the copies cost more than the job's own work.
        "pipeline.object-reuse": "true",
        "table.local-time-zone": "UTC",
        "table.exec.source.idle-timeout": "30 s",
    }


ISO_MILLIS = "'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''"  # DATE_FORMAT's pattern, in UTC (table.local-time-zone)
AVRO_FLINK_TYPES = {"string": "STRING", "double": "DOUBLE", "long": "BIGINT", "int": "INT", "boolean": "BOOLEAN", "float": "FLOAT"}


def _exploded_avro(settings: Settings) -> dict[str, Any]:
    from dataops.registry.avro import avro_schema

    return avro_schema(contract_for(settings).schema)


def avro_columns(schema: dict[str, Any], indent: str = "  ") -> str:
    """The Flink columns an Avro record maps to exactly (Flink checks a given schema against the
    table's: ``["null", t]`` is a nullable ``t``, any other type ``NOT NULL``)."""
    cols = []
    for f in schema["fields"]:
        kind = f["type"]
        nullable = isinstance(kind, list) and "null" in kind
        base = next(k for k in kind if k != "null") if isinstance(kind, list) else kind
        cols.append(f"{f['name']} {AVRO_FLINK_TYPES[base]}{'' if nullable else ' NOT NULL'}")
    return f",\n{indent}".join(cols)


def exploded_format(settings: Settings) -> dict[str, str]:
    """The exploded topic's value format (``${exploded_format}``) and its timestamps' expressions.

    JSON: timestamps as Flink writes them (ISO-8601). Avro (``DATAOPS_TOPIC_FORMAT=avro``):
    Flink's ``avro-confluent`` with the contract's Avro schema under ``<topic>-value`` (one
    contract for JSON and Avro), the timestamps as ISO-8601 strings (the format cannot map
    ``TIMESTAMP_LTZ``), the registry the profile's (its login apart, :func:`registry_auth`).

    Raises:
        ConfigError: Avro without a registry to reach (one line: how to start or name one).
    """
    if settings.topic_format == "json":
        return {"exploded_format": "  'value.format' = 'json',\n  'value.json.timestamp-format.standard' = 'ISO-8601',\n",
                "event_time": "TO_TIMESTAMP_LTZ(last_updated_at, 0)", "processed_at": "CURRENT_TIMESTAMP"}  # fmt: skip
    from dataops.registry.avro import subject
    from dataops.registry.layer import SchemaRegistryLayer

    where = SchemaRegistryLayer(settings).endpoint()
    options = {"value.format": "avro-confluent", "value.avro-confluent.url": where.url,
               "value.avro-confluent.subject": subject(settings.topic_exploded),
               "value.avro-confluent.schema": json.dumps(_exploded_avro(settings))}  # fmt: skip
    if where.key:
        options["value.avro-confluent.basic-auth.credentials-source"] = "USER_INFO"
    text = "".join(f"  {_literal(k)} = {_literal(v)},\n" for k, v in options.items())
    return {"exploded_format": text, "event_time": f"DATE_FORMAT(TO_TIMESTAMP_LTZ(last_updated_at, 0), {ISO_MILLIS})",
            "processed_at": f"DATE_FORMAT(CURRENT_TIMESTAMP, {ISO_MILLIS})"}  # fmt: skip


def registry_auth(settings: Settings) -> str:
    """The registry's login as a line of the exploded table's ``WITH`` (secret: "" unless Avro with a key)."""
    if settings.topic_format == "json":
        return ""
    from dataops.registry.layer import SchemaRegistryLayer

    where = SchemaRegistryLayer(settings).endpoint()
    if not where.key or where.secret is None:
        return ""
    return f"  {_literal('value.avro-confluent.basic-auth.user-info')} = {_literal(f'{where.key}:{where.secret.get_secret_value()}')},\n"


AVRO_POLL = "org.dataops.flink.AvroPoll"  # lib/stack/flink-udf


def raw_format(settings: Settings) -> dict[str, str]:
    """How the job reads the raw topic's values (``${raw_type}``, ``${raw_decoder}``, ``${poll_decoding}``,
    ``${poll_body}``, ``${decode_check}``): the poll's JSON text either way.

    JSON: the value is that text. Avro (``DATAOPS_TOPIC_FORMAT=avro``, the HTTP source writing through
    the project's converter): the value's bytes go through ``AVRO_POLL`` (``lib/stack/flink-udf``), which
    decodes the wire format by the writer's schema from the profile's registry and hands on any other
    value (a poll the schema could not carry, a replay) as its text; a value that does not decode goes
    to the dead letters as ``undecodable_avro``. The registry's login stays in a file the function
    reads (:func:`dataops.kafka_connect.converters.registry_login_file`), never in the job's SQL.
    """
    if settings.topic_format == "json":
        return {"raw_type": "STRING", "raw_decoder": "", "poll_decoding": "", "poll_body": "r.body", "decode_check": ""}
    from dataops.kafka_connect.converters import registry_login
    from dataops.registry.layer import SchemaRegistryLayer

    where = SchemaRegistryLayer(settings).endpoint()
    login = registry_login(settings, where)
    return {"raw_type": "BYTES",
            "raw_decoder": f"CREATE TEMPORARY FUNCTION AVRO_POLL AS {_literal(AVRO_POLL)} LANGUAGE JAVA\n;\n",
            "poll_decoding": f"\nCROSS JOIN UNNEST(ARRAY[AVRO_POLL(r.body, {_literal(where.url)}, {_literal(str(login or ''))})]) AS a (poll, decode_error)",
            "poll_body": "a.poll", "decode_check": "WHEN a.decode_error IS NOT NULL THEN 'undecodable_avro'\n    "}  # fmt: skip


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def job_params(settings: Settings, raw_topic_format: str | None = None) -> dict[str, str]:
    """The ``${placeholders}`` of ``explode.sql``: names from the settings, columns from the contract;
    the raw topic's values read as ``raw_topic_format`` (default the settings' ``topic_format``)."""
    contract = contract_for(settings)
    raw = settings if raw_topic_format in (None, settings.topic_format) else settings.model_copy(update={"topic_format": raw_topic_format})
    return {
        # the profile's brokers (a class server's); the local broker when none is set (confluent's statements need none)
        "bootstrap": settings.kafka_bootstrap if settings.runs.kafka_from_settings and settings.kafka_bootstrap else f"{settings.host}:{settings.kafka_port}",
        "kafka_security": "",  # the Kafka login's options: the submitting child gets them apart (submit_command), never in a spec
        "registry_auth": "",  # the same for the registry's login, in Avro
        **exploded_format(settings),
        **raw_format(raw),
        "source_topic": settings.topic_raw,
        "good_topic": settings.topic_exploded,
        "dlq_topic": settings.topic_dlq,
        "group_id": settings.flink_job_name,
        "txn_prefix": settings.flink_job_name,
        "cur": contract.price,
        "exploded_columns": contract.flink_columns() if settings.topic_format == "json" else avro_columns(_exploded_avro(settings)),
        **contract.flink_extraction(),
        "coin_checks": contract.flink_checks(),
    }


def job_spec(settings: Settings) -> dict[str, str]:
    """What makes the running job the declared one: its parameters, its checkpoint interval, its
    parallelism, the SQL text itself and the source of its Java function (a change to any of them
    resubmits the job from its checkpoint)."""
    sql = hashlib.sha256(EXPLODE_SQL.read_bytes()).hexdigest()[:12]
    udf = hashlib.sha256()
    for java in sorted(UDF_SOURCES.glob("**/*.java")):
        udf.update(java.read_bytes())
    config = job_config(settings)
    return {**job_params(settings), "checkpoint_interval": config["execution.checkpointing.interval"],
            "parallelism": config["parallelism.default"], "sql": sql, "udf": udf.hexdigest()[:12]}  # fmt: skip


def submit_command(settings: Settings, client_config: dict[str, str] | None = None) -> tuple[list[str], dict[str, str]]:
    """The child that plans and submits the explode job (without ``--restore``), and its environment.

    The job's Kafka security options (``${kafka_security}``: none locally) and ``client_config`` (how
    the child reaches a Flink REST API behind TLS) go in its environment, never on its command line."""
    from dataops.flink.submit import SECRETS_VAR
    from dataops.kafka.security import flink_with_clause

    env = toolchain.java_env()  # pyflink's gateway finds Java through JAVA_HOME
    env["PYTHONPATH"] = os.pathsep.join([str(settings.paths.flink_python), str(PROJECT_ROOT / "lib")])
    env["_python_worker_execution_mode"] = "process"
    env.update(child_env(settings))
    # pyflink's gateway JVM plans once and exits: it is not hot (C1 only, and the low-memory mode's flags)
    if flags := stack_jvm_flags(settings):
        env["JVM_ARGS"] = " ".join(flags)
    secret = {"kafka_security": flink_with_clause(settings), "registry_auth": registry_auth(settings)}
    env[SECRETS_VAR] = json.dumps({"params": secret, "config": client_config or {}})
    cmd = [
        sys.executable, "-m", "dataops.flink.submit",
        "--sql", str(EXPLODE_SQL),
        "--params", json.dumps(job_params(settings)),
        "--config", json.dumps(job_config(settings)),
    ]  # fmt: skip
    return cmd, env


def ahead_pays(settings: Settings, cpus: int | None = None) -> bool:
    """Whether starting the submission ahead shortens ``up`` here: with cores to spare (``cpus``, default
    this machine's, at least :data:`prewarm.MIN_CPUS`) and memory to spare (not in low-memory mode)."""
    return (cpus if cpus is not None else os.cpu_count() or 1) >= prewarm.MIN_CPUS and not settings.low_memory


@contextmanager
def submitting_ahead(settings: Settings) -> Iterator[None]:
    """While the block runs (``up`` starting the stack), the submitting child starts ahead: its JVM and
    Flink's planner warm up beside the components (:mod:`dataops.flink.prewarm`), and a submission in
    the block takes it. Nothing is started when pyflink is not installed yet (a first ``up``)."""
    if not settings.paths.flink_python.is_dir():
        yield
        return
    cmd, env = submit_command(settings)
    with prewarm.ahead(str(settings.state_dir), cmd, env):
        yield


def submit_sql_job(settings: Settings, restore: Path | None = None, client_config: dict[str, str] | None = None) -> str:
    """Plan and submit the explode job in a child process (the one started ahead, when there is one);
    returns the job id. ``client_config``: :func:`submit_command`'s."""
    paths = settings.paths
    cmd, env = submit_command(settings, client_config)
    log = paths.log_file("flink-submit")
    what, hint = "el envío del job de Flink", f"mira {log} y `dataops logs flink-jobmanager`"
    warm = prewarm.take(str(settings.state_dir), cmd)
    out = warm.run(restore, 300, what, hint) if warm is not None else None
    ahead = ", started ahead" if out is not None else ""
    if out is None:
        out = subproc.run([*cmd, *(["--restore", str(restore)] if restore else [])], what, hint, 300,
                          capture_output=True, text=True, env=env)  # fmt: skip
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as fh:
        fh.write(f"\n===== {time.strftime('%Y-%m-%d %H:%M:%S')} submit (restore={restore}{ahead}) =====\n")
        fh.write((out.stdout + out.stderr).rstrip("\n") + "\n")
    result: dict[str, Any] = {}
    for line in reversed(out.stdout.strip().splitlines()):
        if line.startswith("{"):
            result = json.loads(line)
            break
    if out.returncode != 0 or "jid" not in result:
        if restore is not None and RESTORE_FAILED in out.stderr:
            raise CheckpointError(f"Flink no pudo restaurarlo: {refusal(out.stderr)}", f"mira {log}", checkpoint=str(restore))
        raise StackError(
            f"falló el envío del job de Flink ({result.get('error') or root_cause(out.stderr.strip()) or '?'})",
            f"el job no se envió y nada cambió: corrige la causa (mira {log}) y vuelve a `dataops up`",
        )
    jid: str = result["jid"]
    ids = job_ids_file(settings)
    ids.parent.mkdir(parents=True, exist_ok=True)
    with ids.open("a") as fh:  # a run from the offsets supersedes the checkpoints of earlier runs
        fh.write(f"{jid} from={restore or FROM_OFFSETS}\n")
    return jid


def _note(settings: Settings, line: str, warn: bool = False) -> None:
    """One line about the restore in the submit log (``.stack/logs/flink-submit.log``) and the logger."""
    (logger.warning if warn else logger.info)("%s: %s", settings.flink_job_name, line)
    log = settings.paths.log_file("flink-submit")
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as fh:
        fh.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} restore: {line}\n")


def _refuse(settings: Settings, chk: Path, why: str, flink_said: bool = False) -> CheckpointError:
    where = f"{chk.parent.name}/{chk.name}"
    _note(settings, f"cannot resume from {where}: {why}", warn=True)
    first = "si `dataops up` vuelve a fallar igual, " if flink_said else "recupera su _metadata de una copia, o "
    return CheckpointError(
        f"no se puede reanudar el job de Flink desde {chk.name} ({why}); un checkpoint más antiguo volvería a escribir sus filas",
        f"{first}`{ENV_PREFIX}FLINK_RESTORE=offsets dataops up` arranca desde los offsets que confirmó ese checkpoint "
        f"(solo se repiten filas si la caída ocurrió entre su commit y el de los offsets); mira {where} y "
        f"{settings.paths.log_file('flink-submit')}",
        checkpoint=str(chk),
    )


def _failure(client: FlinkLayer, jid: str) -> str:
    try:
        return client.failure(jid)
    except DataOpsError:  # the reason is a courtesy: never hide the failure behind another one
        return ""


def ensure_explode_job(settings: Settings, wait_s: float = 120.0, client: FlinkLayer | None = None,
                       client_config: dict[str, str] | None = None) -> str:  # fmt: skip
    """Submit the explode job unless a copy is alive; resume from its newest complete checkpoint.

    Never falls back silently: checkpoint folders that never completed are passed over (safe:
    their transactions were never committed) and named in the answer; a checkpoint that
    looks complete but is unreadable, or that Flink refuses to restore, stops here with a
    :class:`CheckpointError`, because an older checkpoint would write its rows to Kafka again, and
    the committed offsets repeat one checkpoint's rows when the job stopped between the sinks'
    commit and Flink's asynchronous commit of the offsets (about one stop in three right after a
    poll, on the real stack). ``DATAOPS_FLINK_RESTORE=offsets`` starts from those offsets, on purpose.
    A submission that fails for another reason (a bad statement) is a :class:`StackError` that
    names its cause and changes nothing: it is not blamed on the checkpoint.

    ``client`` and ``client_config``: how this process and the submitting child reach a Flink whose
    REST API is behind TLS (a class server's); by default, ``settings.flink_url`` as it is.

    Returns:
        What was done, on one line: ``running`` (left alone), ``submitted …`` or ``resumed from chk-N …``.

    Raises:
        CheckpointError: The newest checkpoint cannot be used.
        StackError: The job could not be submitted (nothing changed: no run recorded) or did not start.
    """
    client = client or FlinkLayer(settings.flink_url, job_name=settings.flink_job_name)
    live = client.live_job(settings.flink_job_name)
    if live is not None:
        return f"running ({live['state']})"
    if settings.flink_restore == FROM_OFFSETS:
        choice, done = RestoreChoice(), f"submitted from the committed consumer offsets ({ENV_PREFIX}FLINK_RESTORE=offsets)"
    else:
        choice = restore_choice(settings)
        done = choice.describe()
    if choice.refused is not None:
        raise _refuse(settings, *choice.refused)
    if choice.skipped or settings.flink_restore == FROM_OFFSETS:
        _note(settings, done)
    restore = choice.checkpoint
    try:
        jid = submit_sql_job(settings, restore, client_config)
    except CheckpointError as exc:  # Flink refused the checkpoint; any other failure is not the checkpoint's
        raise _refuse(settings, restore or Path(exc.checkpoint), exc.message, flink_said=True) from None
    state = client.wait_running(jid, wait_s)
    if state != "RUNNING":
        cause = _failure(client, jid) if state == "FAILED" else ""
        if restore is not None and state == "FAILED":
            raise _refuse(settings, restore, f"Flink no pudo restaurarlo: {cause or 'mira `dataops logs flink-jobmanager`'}", flink_said=True)
        _not_running(settings, state, cause)
    return done


def _not_running(settings: Settings, state: str, cause: str = "") -> NoReturn:
    raise StackError(f"el job de Flink {settings.flink_job_name} está en {state}" + (f" ({cause})" if cause else ""),
                     "mira `dataops logs flink-jobmanager`")  # fmt: skip
