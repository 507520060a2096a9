"""The declared pipeline as the ``confluent`` CLI commands and Flink statements a user runs.

Nothing here can run on the course machine (no cloud account), so the commands are kept honest
as text: every command is an argv that :func:`dataops.automation.confluent_cli.check` checks
against the flags each ``confluent`` command documents. :func:`commands` builds them from the
declaration and the settings; :func:`script` prints them as a bash script
(``dataops pipeline plan --commands``); ``plan`` shows them in its ``cloud-managed`` rows.

Secrets never appear: an API key is written as the environment variable that holds it
(``${DATAOPS_KAFKA_API_KEY}``), which bash fills in when the script runs; an id the settings
lack (``DATAOPS_CONFLUENT_CLUSTER_ID``…) is left as ``${DATAOPS_…}`` the same way.

What differs from the local job (``lib/dataops/flink/explode.sql``) on Confluent Cloud Flink:

* tables are topics: no ``CREATE TABLE … WITH ('connector' = 'kafka', …)``. The source topic
  (schemaless JSON from the connector) is an inferred table whose value is the column ``val``
  (bytes); its partition and offset become metadata columns (``ALTER TABLE … ADD``) and its
  record time is the system column ``$rowtime``. The job's ``raw_polls`` is a view over it.
* the two topics the job writes are created by Flink (``CREATE TABLE`` with the job's columns,
  ``DISTRIBUTED BY … INTO n BUCKETS`` for the declared partitions), so they get their schema in
  Schema Registry; exactly-once and the transaction timeout are the service's, not options.
* statements do not share a session: the temporary views become views in the cluster's database,
  the function is ``CREATE FUNCTION … USING JAR 'confluent-artifact://…'`` after
  ``confluent flink artifact create`` uploads the jar.
* the Iceberg sink connector is Tableflow (``confluent tableflow topic enable``): its control
  topic is not needed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from dataops.automation.confluent_cli import SHELL_VAR, quote, render
from dataops.automation.declaration import Connector, Declaration, Job, Sink, Topic
from dataops.config import ENV_PREFIX, Settings

__all__ = ["Command", "commands", "connector_config", "job_statements", "plan_rows", "script"]

WORKDIR = "WORKDIR"  # the script's temporary folder (the connector's config file lives there, then is removed)
ARTIFACT_VAR = "FLINK_ARTIFACT_ID"


@dataclass(frozen=True)
class Command:
    """One step of the script: a ``confluent`` argv, or a file it writes first.

    ``resource``: the plan's row label (None for the context commands); ``comment``: the line the
    learner reads above it (Spanish); ``capture``: a shell variable that keeps the command's output
    filtered by ``capture_filter``; ``file``/``content``: a file written before the command.
    """

    argv: tuple[str, ...]
    comment: str
    resource: str | None = None
    capture: str | None = None
    capture_filter: str = ""
    file: str | None = None
    content: str | None = None
    sql: str | None = None

    @property
    def line(self) -> str:
        return render(self.argv)


# ---- from the declaration to the commands ----------------------------------------------


def _setting(settings: Settings, name: str) -> str:
    """The setting's value, or ``${DATAOPS_NAME}`` for the script to take from the environment."""
    value = getattr(settings, name, None)
    return str(value) if value else f"${{{ENV_PREFIX}{name.upper()}}}"


def _ids(settings: Settings) -> dict[str, str]:
    return {k: _setting(settings, k) for k in ("confluent_environment_id", "confluent_cluster_id", "flink_compute_pool_id",
                                                 "confluent_cloud", "confluent_region")}  # fmt: skip


def _flink_written(decl: Declaration) -> set[str]:
    return {t for j in decl.jobs for t in (j.sink, j.dead_letter)}


def _topic(t: Topic, ids: dict[str, str]) -> Command:
    argv = ["confluent", "kafka", "topic", "create", t.name, "--partitions", str(t.partitions)]
    if t.config:
        argv += ["--config", ",".join(f"{k}={v}" for k, v in t.config.items())]
    argv += ["--if-not-exists", "--cluster", ids["confluent_cluster_id"], "--environment", ids["confluent_environment_id"]]
    return Command(tuple(argv), f"Topic {t.name}: {t.partitions} particiones, {', '.join(f'{k}={v}' for k, v in t.config.items())}",
                   resource=f"topic {t.name}")  # fmt: skip


def connector_config(c: Connector, settings: Settings) -> dict[str, str]:
    """The HTTP Source V2 connector's configuration (keys of :data:`HTTP_SOURCE_V2_KEYS`); the
    API key and secret as ``${DATAOPS_KAFKA_API_KEY}``/``${DATAOPS_KAFKA_API_SECRET}``."""
    url = urlsplit(c.url)
    base = settings.source_api_url.rstrip("/") if c.url.startswith(str(settings.source_api_url)) else f"{url.scheme}://{url.netloc}"
    path = c.url[len(base):] or "/"
    return {
        "name": c.name,
        "connector.class": "HttpSourceV2",
        "kafka.auth.mode": "KAFKA_API_KEY",
        "kafka.api.key": f"${{{ENV_PREFIX}KAFKA_API_KEY}}",
        "kafka.api.secret": f"${{{ENV_PREFIX}KAFKA_API_SECRET}}",
        "output.data.format": "JSON",  # schemaless: the poll as it came, as the local connector writes it
        "tasks.max": "1",
        "http.api.base.url": base,
        "apis.num": "1",
        "api1.http.api.path": path,
        "api1.http.request.method": "GET",
        "api1.topics": c.topic,
        "api1.request.interval.ms": str(int(c.poll_interval_s * 1000)),
        "api1.http.offset.mode": "SIMPLE_INCREMENTING",
        "api1.http.initial.offset": "0",
        **c.config,
    }


def _connector(c: Connector, settings: Settings, ids: dict[str, str]) -> Command:
    file = f"${{{WORKDIR}}}/{c.name}.json"
    argv = ("confluent", "connect", "cluster", "create", "--config-file", file, "--cluster", ids["confluent_cluster_id"],
            "--environment", ids["confluent_environment_id"])  # fmt: skip
    return Command(argv, f"Conector HTTP Source V2 gestionado {c.name}: sondea {c.url} cada {c.poll_interval_s:g} s → {c.topic}",
                   resource=f"connector {c.name}", file=file, content=json.dumps(connector_config(c, settings), indent=2))  # fmt: skip


def _ident(name: str) -> str:
    return f"`{name}`"


def _strip_comments(statement: str) -> str:
    """The statement without its leading comment lines."""
    lines = statement.splitlines()
    while lines and lines[0].lstrip().startswith("--"):
        lines.pop(0)
    return "\n".join(lines).strip()


def job_statements(job: Job, settings: Settings, decl: Declaration) -> list[tuple[str, str]]:
    """``(name, sql)`` of the Flink statements of ``job`` on Confluent Cloud, in the order they run.

    Built from the job's own SQL (``explode.sql`` filled as :func:`dataops.flink.job.job_params`
    fills it), rewritten as the module docstring says; the views and the final statement set keep
    the job's SELECTs word for word.
    """
    from dataops.flink.job import EXPLODE_SQL, job_params
    from dataops.flink.submit import plan_statements

    # the cloud's raw_polls is a view over the topic's table (below): its body is text there
    params = {**job_params(settings, raw_topic_format="json"), "source_topic": job.source, "good_topic": job.sink,
              "dlq_topic": job.dead_letter}  # fmt: skip
    local = [_strip_comments(s) for s in plan_statements(EXPLODE_SQL.read_text(encoding="utf-8"), params)]
    partitions = {t.name: t.partitions for t in decl.topics}
    out: list[tuple[str, str]] = []
    name = job.name
    src = _ident(job.source)
    out.append((f"{name}-source-partition", f"ALTER TABLE {src} ADD (src_partition INT METADATA FROM 'partition' VIRTUAL)"))
    out.append((f"{name}-source-offset", f"ALTER TABLE {src} ADD (src_offset BIGINT METADATA FROM 'offset' VIRTUAL)"))
    table = re.compile(r"CREATE TEMPORARY TABLE (\w+) \((.*)\) WITH \(", re.S)
    function = re.compile(r"CREATE TEMPORARY FUNCTION (\w+) AS ('[\w.]+') LANGUAGE JAVA")
    view = re.compile(r"CREATE TEMPORARY VIEW (\w+) AS\s+(.*)", re.S)
    targets = {"exploded": (job.sink, "coin_id"), "dead_letters": (job.dead_letter, "reason")}
    for statement in local:
        if m := table.match(statement):
            if m.group(1) == "raw_polls":
                out.append((f"{name}-view-raw-polls", f"CREATE VIEW raw_polls AS\nSELECT\n  CAST(val AS STRING) AS body,\n"
                                                      f"  '{job.source}' AS src_topic,\n  src_partition,\n  src_offset,\n"
                                                      f"  `$rowtime` AS src_timestamp\nFROM {src}"))  # fmt: skip
                continue
            topic, key = targets[m.group(1)]
            out.append((f"{name}-table-{m.group(1).replace('_', '-')}",
                        f"CREATE TABLE {_ident(topic)} (\n  {m.group(2).strip()}\n)\n"
                        f"DISTRIBUTED BY ({key}) INTO {partitions.get(topic, 1)} BUCKETS"))  # fmt: skip
        elif m := function.match(statement):
            out.append((f"{name}-function", f"CREATE FUNCTION {m.group(1)} AS {m.group(2)} USING JAR 'confluent-artifact://${{{ARTIFACT_VAR}}}'"))
        elif m := view.match(statement):
            out.append((f"{name}-view-{m.group(1).replace('_', '-')}", f"CREATE VIEW {m.group(1)} AS\n{m.group(2).strip()}"))
        elif statement.startswith("EXECUTE STATEMENT SET"):
            sql = statement
            for local_name, (topic, _) in targets.items():
                sql = sql.replace(f"INSERT INTO {local_name}", f"INSERT INTO {_ident(topic)}")
            out.append((name, sql))
        else:
            raise ValueError(f"explode.sql: una sentencia que este módulo no sabe llevar a Confluent Cloud: {statement[:60]!r}")
    return out


def _job(job: Job, settings: Settings, decl: Declaration, ids: dict[str, str]) -> list[Command]:
    from dataops.paths import FLINK_UDF_JAR

    jar = settings.paths.flink_udf_jar if settings.paths.flink_udf_jar.exists() else f"lib/stack/flink-udf/target/{FLINK_UDF_JAR}"
    out = [Command(("confluent", "flink", "artifact", "create", f"{job.name}-udf", "--artifact-file", str(jar), "--cloud",
                    ids["confluent_cloud"], "--region", ids["confluent_region"], "--environment", ids["confluent_environment_id"],
                    "--runtime-language", "java", "--output", "json"),
                   f"La función Java JSON_MEMBERS del job (lib/stack/flink-udf): se sube el jar y se guarda su id en ${ARTIFACT_VAR}",
                   resource=f"flink artifact {job.name}-udf", capture=ARTIFACT_VAR, capture_filter="jq -r .id")]  # fmt: skip
    for name, sql in job_statements(job, settings, decl):
        argv = ("confluent", "flink", "statement", "create", name, "--sql", sql, "--compute-pool", ids["flink_compute_pool_id"],
                "--database", ids["confluent_cluster_id"], "--environment", ids["confluent_environment_id"], "--wait")  # fmt: skip
        what = "el job: un sondeo → una fila por moneda, lo rechazado a la DLQ" if name == job.name else sql.splitlines()[0]
        out.append(Command(argv, f"Flink ({name}): {what}", resource=f"flink statement {name}", sql=sql))
    return out


def _tableflow(s: Sink, ids: dict[str, str]) -> Command:
    argv = ("confluent", "tableflow", "topic", "enable", s.topic, "--cluster", ids["confluent_cluster_id"], "--environment",
            ids["confluent_environment_id"], "--storage-type", "MANAGED", "--table-formats", "ICEBERG")  # fmt: skip
    return Command(argv, f"Tableflow: {s.topic} como tabla Iceberg (almacenamiento gestionado por Confluent); en local, el sink {s.name}",
                   resource=f"tableflow {s.topic}")  # fmt: skip


def commands(decl: Declaration, settings: Settings) -> list[Command]:
    """Every step, in order: the context, the topics, the connectors, the Flink job, Tableflow."""
    ids = _ids(settings)
    out = [Command(("confluent", "environment", "use", ids["confluent_environment_id"]), "El entorno de Confluent Cloud (env-…)"),
           Command(("confluent", "kafka", "cluster", "use", ids["confluent_cluster_id"]), "El clúster de Kafka (lkc-…)")]  # fmt: skip
    by_flink = _flink_written(decl)
    control = {s.control_topic for s in decl.sinks}
    out += [_topic(t, ids) for t in decl.topics if t.name not in by_flink | control]
    out += [_connector(c, settings, ids) for c in decl.connectors]
    for job in decl.jobs:
        out += _job(job, settings, decl, ids)
    out += [_tableflow(s, ids) for s in decl.sinks]
    return out


def plan_rows(decl: Declaration, settings: Settings) -> list[list[str]]:
    """The ``cloud-managed`` rows of ``plan``: each resource with its command (the SQL cut short)."""
    rows = []
    for cmd in commands(decl, settings):
        if cmd.resource is None or cmd.resource.startswith("topic "):
            continue  # the context; the topics are planned through the Admin API
        argv = cmd.argv
        if cmd.sql is not None:
            i = argv.index("--sql")
            argv = (*argv[:i + 1], cmd.sql.splitlines()[0] + " …", *argv[i + 2:])
        rows.append([cmd.resource, "cloud-managed", render(argv)])
    return rows


def script(decl: Declaration, settings: Settings) -> str:
    """A bash script that builds the declared pipeline on Confluent Cloud with the ``confluent`` CLI."""
    cmds = commands(decl, settings)
    needed = sorted({v for c in cmds for a in c.argv for v in SHELL_VAR.findall(a)}
                    | {v for c in cmds if c.content for v in SHELL_VAR.findall(c.content)}) # fmt: skip
    needed = [v for v in needed if v.startswith(ENV_PREFIX)]
    lines = [
        "#!/usr/bin/env bash",
        f"# El pipeline de {decl.source or 'data/pipeline/pipeline.yaml'} en Confluent Cloud, con el CLI `confluent`.",
        "# Generado por `dataops pipeline plan --commands`: no lo edites, cambia la declaración o los ajustes.",
        "# Antes: `confluent login`; jq instalado; el jar de la función (lib/stack/flink-udf) construido.",
        "# Ejecútalo desde la raíz del proyecto: bash <(dataops pipeline plan --commands)",
        "# Los topics que escribe el job de Flink los crea Flink (CREATE TABLE): no los crees antes.",
        "set -euo pipefail",
        "",
        "# Lo que no está en los ajustes se toma del entorno (los secretos, siempre del entorno):",
    ]
    lines += [f': "${{{v}:?falta {v}: ponla en .env o expórtala}}"' for v in needed]
    lines += [f'{WORKDIR}="$(mktemp -d)"', f"trap 'rm -rf \"${{{WORKDIR}}}\"' EXIT", ""]
    for cmd in cmds:
        lines.append(f"# {cmd.comment}")
        if cmd.file:
            lines += [f"cat > {quote(cmd.file)} <<EOF", cmd.content or "", "EOF"]
        if cmd.capture:
            lines.append(f'{cmd.capture}="$({cmd.line} | {cmd.capture_filter})"')
        else:
            lines.append(cmd.line)
        lines.append("")
    lines.append('echo "listo: mira el pipeline en la consola de Confluent Cloud"')
    return "\n".join(lines) + "\n"
