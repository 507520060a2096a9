"""The ``cloud-standin`` profile: the managed side of the cloud fixtures, played by engines of this machine.

On Confluent Cloud, what feeds the topics and the tables is managed: a fully managed HTTP source
connector, a Flink SQL statement in a compute pool, and Tableflow materializing the exploded topic
as an Iceberg table ``<cluster id>.<topic>``. The ``confluent`` profile only reads them (``plan``
lists the ``confluent`` commands that create them). With the cloud fixtures (``dataops up --with
cloud-fixtures``) this profile creates their stand-ins, so that the ``confluent`` profile's reads
see a pipeline that runs:

- the HTTP source and the Iceberg sink on ``connect-cloud`` (:mod:`dataops.kafka_connect.cloud`), a
  worker logged in to the fixtures' SASL_SSL broker; the source polls the local simulator;
- the explode job on the local Flink cluster, its tables' Kafka options on SASL_SSL with the shaded
  login module (:func:`dataops.kafka.security.flink_with_clause`), named ``<job>-cloud`` beside the
  local pipeline's own;
- the table in the Iceberg REST catalog's backend (the door Tableflow's materialization writes
  through; outside engines read through the OAuth2 front), namespace = the cluster id;
- both topics in Avro with the fixtures' registry (``DATAOPS_TOPIC_FORMAT``, Avro unless set): the HTTP
  source writes the raw polls with the project's converter and the job decodes them (``AVRO_POLL``);
  Flink's ``avro-confluent`` writes the exploded rows, the sink reads them with the project's converter.

Not a profile to pick for a notebook (``DATAOPS_PROFILE``): it is the cloud's side, not the user's.

:func:`dataops.automation.standin.provision` applies the declaration (``data/pipeline/pipeline.yaml``) with this profile,
resource by resource, as ``apply`` would (idempotent), without touching the local pipeline's record
of what it applied. :func:`client_env` writes the one ``.env`` a user of the ``confluent`` profile
fills for their account, filled for the fixtures.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from dataops.config import ENV_PREFIX, Settings
from dataops.facade import Layers
from dataops.profiles.base import Profile, register
from dataops.profiles.local import flink, kafka, simulator

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

    from dataops.iceberg.layer import IcebergLayer

NAME = "cloud-standin"
JOB_SUFFIX = "-cloud"


def connect(settings: Settings, p: Layers | None) -> Any:
    from dataops.kafka_connect import cloud
    from dataops.kafka_connect.layer import ConnectLayer

    return ConnectLayer(cloud.url(settings))


def _writer(layer: IcebergLayer) -> Catalog:
    from dataops.iceberg import engine

    return engine.writer_catalog(layer.settings)


def iceberg(settings: Settings, p: Layers | None) -> Any:
    from dataops.iceberg.layer import IcebergLayer

    return IcebergLayer(settings, _writer)


def sink_catalog(settings: Settings) -> dict[str, str]:
    """The Iceberg sink on the REST catalog's backend; its coordinator's clients are the worker's own
    (the sink reads the worker's properties file: the broker, the key and the CA, never in a config)."""
    from dataops.iceberg import engine

    return {
        "iceberg.catalog": "tableflow",
        "iceberg.catalog.type": "rest",
        "iceberg.catalog.uri": engine.backend_url(settings),
        "iceberg.catalog.io-impl": "org.apache.iceberg.hadoop.HadoopFileIO",
        "iceberg.kafka.bootstrap.servers": str(settings.kafka_bootstrap),
    }


STANDIN = register(
    Profile(
        NAME,
        builders={"source": simulator, "kafka": kafka, "connect": connect, "flink": flink, "iceberg": iceberg},
        kafka_auth="sasl_plain",
        kafka_from_settings=True,
        sampled=("source", "connect", "kafka", "flink", "rows", "iceberg"),
        maintains_table=False,
        sink_catalog=sink_catalog,
    )
)


def standin_settings(local: Settings) -> Settings:
    """``local`` (the stack's settings) turned into the stand-in's: the fixtures' broker, key and CA, the
    job's own name, the table named as Tableflow names it."""
    from dataops.iceberg import engine
    from dataops.kafka_connect import cloud

    cluster = engine.namespace(local)
    return cloud.confluent_settings(local).model_copy(update={
        "profile": NAME,
        "flink_job_name": local.flink_job_name + JOB_SUFFIX,
        "iceberg_table": f"{cluster}.{local.topic_exploded}",
        "confluent_cluster_id": cluster,
        # Avro with the registry, as the course's cloud, unless DATAOPS_TOPIC_FORMAT says otherwise
        "topic_format": local.topic_format if "topic_format" in local.model_fields_set else "avro",
        **registry_settings(local),
    })  # fmt: skip


def registry_settings(local: Settings) -> dict[str, Any]:
    """The fixtures' registry as the ``confluent`` profile names one (``schema_registry_url``, key, secret)."""
    from pydantic import SecretStr

    from dataops.registry import local as registry

    where = registry.endpoint(local)
    if where is None:
        return {}
    return {"schema_registry_url": where.url, "schema_registry_api_key": SecretStr(where.key or ""), "schema_registry_api_secret": where.secret}


def client_env(local: Settings) -> Path:
    """``<state>/cloud/confluent.env`` (mode 600): the ``confluent`` profile's settings for the fixtures,
    in one file (Kafka's from :mod:`dataops.kafka.sasl`, Tableflow's from :mod:`dataops.iceberg.engine`,
    the source: the local simulator)."""
    from dataops.iceberg import engine
    from dataops.kafka import sasl
    from dataops.paths import write_private

    registry = {f"{ENV_PREFIX}{k.upper()}": v.get_secret_value() if hasattr(v, "get_secret_value") else str(v)
                for k, v in registry_settings(local).items()}  # fmt: skip
    values = {**sasl.client_settings(local), **engine.client_settings(local), **registry,
              f"{ENV_PREFIX}COINGECKO_URL": f"{local.simulator_url}/api/v3"}  # fmt: skip
    target = local.paths.root / "cloud" / "confluent.env"
    head = "# The confluent profile on this machine's cloud fixtures (`dataops up --with cloud-fixtures`).\n"
    write_private(target, head + "".join(f"{k}={v}\n" for k, v in values.items()))
    return target
