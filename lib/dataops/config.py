"""Typed settings: one object, two profiles.

Precedence, highest first: keyword arguments, environment variables
(``DATAOPS_*``), the project's ``.env`` file, defaults. Settings are read when
:func:`load_settings` is called (by ``connect()`` or a CLI command), never at
import. Secrets are :class:`pydantic.SecretStr` and print as ``**********``.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from dataops import profiles
from dataops.coingecko import FREE_TIER_CALLS_PER_MIN, KEY_HEADERS, calls_per_minute, plan_for_url
from dataops.coins import DEFAULT_COINS
from dataops.errors import ConfigError
from dataops.paths import StatePaths

ENV_PREFIX = "DATAOPS_"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The rule, suite, schema and scenario files the library reads: package data (``lib/dataops/data``: a link to ``data/``).
DATA_DIR = Path(__file__).parent / "data"

#: A class server's learner: a Unix-like user name, no dot (``<learner>.`` prefixes their resources).
LEARNER_PATTERN = r"^[a-z][a-z0-9_]{1,31}$"

# The fixed ports of the local stack (documented in the README).
PORTS = {
    "simulator": 8090,
    "kafka": 9092,
    "kafka_controller": 9093,
    "connect": 8083,
    "flink": 8081,
    "flink_rpc": 6123,
    "flink_blob": 6124,
    "flink_taskmanager": 6122,
    "monitor": 9108,
    "prometheus": 9090,  # optional: `dataops up --with prometheus`
    "schema_registry": 8086,  # optional: `dataops up --with schema-registry` (Apicurio's ccompat API)
    "schema_registry_management": 8087,  # its health and metrics (Quarkus's management interface)
    "kafka_sasl": 9094,  # optional: `dataops up --with cloud-fixtures`, a broker on SASL_SSL as Confluent Cloud
    "kafka_sasl_controller": 9095,  # its KRaft controller
    "iceberg_rest": 8181,  # optional: `dataops up --with cloud-fixtures`, Iceberg's REST catalog server (loopback, no auth)
    "tableflow": 8182,  # its front shaped like Tableflow's catalog (OAuth2, read-only)
    "connect_cloud": 8183,  # `dataops up --with cloud-fixtures`: the managed connectors' Connect worker, on kafka-sasl
    "kafka_class": 9096,  # optional: `dataops class up`, a class server's broker (SCRAM users, ACLs)
    "kafka_class_internal": 9097,  # its administrator's listener
    "kafka_class_controller": 9098,  # its KRaft controller; a second broker's listeners on +1, +2
    "class_hub": 8010,  # optional: `dataops class up --hub`, JupyterHub's proxy (what browsers open)
    "class_hub_api": 8011,  # the hub's own API, behind the proxy
    "class_proxy_api": 8012,  # the proxy's API (the hub adds each learner's route)
    "class_connect": 8013,  # `dataops class up`: the class's Kafka Connect worker (https, the front's certificate only)
    "class_front": 8014,  # the class's authorising front: each learner's own connectors and Flink jobs only
    "class_flink": 8015,  # `dataops class up`: the class's Flink REST (https, the front's certificate only); RPC, blob, taskmanager(s) on +1, +2, +3 (+4)
    "class_simulator": 8100,  # `dataops class up`: each learner's simulator on a port of their own from 8100 on
    "class_monitor": 8300,  # and their monitor's /metrics (the class's monitor service, class-monitors) from 8300 on
}

# The heaps and Flink process sizes of the low-memory mode (``DATAOPS_LOW_MEMORY=1``, ``dataops up
# --low-memory``), each used unless that setting is given explicitly. The other knobs of the mode
# (JVM flags, Flink's memory components, Kafka's cleaner buffer) live beside each engine.
LOW_MEMORY_SIZES = {
    "kafka_heap": "160m",
    "connect_heap": "192m",
    "flink_jobmanager_memory": "352m",  # heap 112m (see dataops.flink.conf)
    "flink_taskmanager_memory": "424m",  # heap 160m: 48m framework + 112m task
    "schema_registry_heap": "160m",
}


class Settings(BaseSettings):
    """Everything the library needs to reach the pipeline.

    Every field can be set as ``DATAOPS_<FIELD>`` in the environment or in
    ``.env``; list fields take comma-separated values.
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=None,  # set per call in load_settings, after validating the file
        extra="ignore",
        validate_default=True,
        allow_inf_nan=False,  # DATAOPS_POLL_INTERVAL_S=inf is refused like -5
    )

    profile: str = Field(default="local", description="a registered profile (dataops.profiles): local, confluent, …")
    state_dir: Path = Field(default=PROJECT_ROOT / ".stack", description="where the local stack writes")
    learner: str | None = Field(default=None, pattern=LEARNER_PATTERN,
                                description="on a class server: whose namespace this is (the `class` profile; set by the server)")

    # Pipeline shape (both profiles)
    coins: Annotated[list[str], NoDecode] = Field(default=list(DEFAULT_COINS), min_length=1)
    vs_currency: str = "usd"
    poll_interval_s: float = Field(default=5.0, gt=0, description="connector poll cadence")
    topic_raw: str = "crypto-prices"
    topic_exploded: str = "crypto-prices-exploded"
    topic_partitions: int = Field(default=3, ge=1)
    topic_retention_ms: int = Field(default=7 * 24 * 3600 * 1000, ge=-1)
    connector_name: str = "crypto-prices-source"

    # Local stack
    host: str = "127.0.0.1"
    allow_remote_host: bool = Field(default=False, description="let `up` listen on a non-loopback host (no authentication!)")
    simulator_port: int = PORTS["simulator"]
    kafka_port: int = PORTS["kafka"]
    kafka_controller_port: int = PORTS["kafka_controller"]
    connect_port: int = PORTS["connect"]
    flink_port: int = PORTS["flink"]
    flink_rpc_port: int = PORTS["flink_rpc"]
    flink_blob_port: int = PORTS["flink_blob"]
    flink_taskmanager_port: int = PORTS["flink_taskmanager"]
    monitor_port: int = PORTS["monitor"]
    prometheus_port: int = PORTS["prometheus"]
    schema_registry_port: int = PORTS["schema_registry"]
    schema_registry_management_port: int = PORTS["schema_registry_management"]
    schema_registry_heap: str = "256m"
    kafka_sasl_port: int = PORTS["kafka_sasl"]
    kafka_sasl_controller_port: int = PORTS["kafka_sasl_controller"]
    iceberg_rest_port: int = PORTS["iceberg_rest"]
    tableflow_port: int = PORTS["tableflow"]
    connect_cloud_port: int = PORTS["connect_cloud"]
    kafka_class_port: int = PORTS["kafka_class"]
    kafka_class_internal_port: int = PORTS["kafka_class_internal"]
    kafka_class_controller_port: int = PORTS["kafka_class_controller"]
    class_hub_port: int = PORTS["class_hub"]
    class_hub_api_port: int = PORTS["class_hub_api"]
    class_proxy_api_port: int = PORTS["class_proxy_api"]
    class_connect_port: int = PORTS["class_connect"]
    class_front_port: int = PORTS["class_front"]
    class_flink_port: int = PORTS["class_flink"]
    class_nodes: int = Field(default=1, ge=1, le=2, description="brokers and Flink taskmanagers of the class (`class up`): 2 adds a second of each")
    class_simulator_port: int = PORTS["class_simulator"]
    class_monitor_port: int = PORTS["class_monitor"]
    monitor_interval_s: float = Field(default=5.0, gt=0, le=60)
    health_grace_s: float = Field(default=180.0, gt=0, description="how long a layer may report no sample before it is red")
    simulator_seed: int = 42
    simulator_refresh_s: float = Field(default=1.0, gt=0)
    simulator_token: SecretStr | None = Field(default=None, description="a class learner's token: their simulator's changes, their connectors")
    simulator_strict: bool = Field(default=False, description="the simulator applies CoinGecko's key and rate-limit rules")
    simulator_plan: Literal["demo", "pro"] = Field(default="demo", description="the host the strict simulator plays")
    simulator_calls_per_min: int = Field(default=FREE_TIER_CALLS_PER_MIN, ge=1, description="calls per minute and key the strict simulator allows")
    simulator_api_keys: SecretStr | None = Field(default=None, description="keys the strict simulator accepts, comma-separated (unset: the API key)")
    log_max_mb: float = Field(default=16.0, gt=0, description="size at which the served log and the alert log rotate")
    log_backups: int = Field(default=4, ge=1, le=100, description="rotated files of each of those logs kept besides the current one")
    low_memory: bool = Field(default=False, description="start every component with small heaps and lean JVM flags (8 GB laptops)")
    class_archives: bool = Field(default=True, description="each JVM maps last start's classes from an archive (dataops.class_archive)")
    full_jit: bool = Field(default=False, description="every JVM compiles hot code with C2, not only Connect and Flink's taskmanager: more CPU while starting")
    kafka_heap: str = "512m"
    connect_heap: str = "512m"
    flink_jobmanager_memory: str = "768m"
    flink_taskmanager_memory: str = "1024m"
    flink_checkpoint_interval_s: float = Field(default=1.0, gt=0)
    flink_parallelism: int = Field(default=1, ge=1, le=2, description="the taskmanager has 2 slots")
    topic_dlq: str = "crypto-prices-dlq"
    flink_job_name: str = "crypto-explode"
    flink_restore: Literal["checkpoint", "offsets"] = Field(default="checkpoint", description="where a resubmitted explode job starts: its "
        "newest complete checkpoint, or (set it by hand when `up` says that checkpoint cannot be used) the offsets the group committed")  # fmt: skip
    iceberg_commit_interval_s: float = Field(default=1.0, gt=0, le=60)
    maintenance_interval_s: float = Field(default=600.0, ge=0, description="how often the monitor runs `dataops maintain` on the table (0: never)")
    iceberg_connector_name: str = "crypto-prices-iceberg"
    iceberg_table: str = Field(default="crypto.crypto_prices_exploded", pattern=r"^[\w-]+\.[\w-]+$", description="namespace.table of the exploded rows (Tableflow: <cluster>.<topic>)")
    iceberg_dir: Path | None = Field(default=None, description="the SQL catalog and warehouse (unset: <state>/data/iceberg; a class learner's own)")
    metrics_dir: Path | None = Field(default=None, description="the monitor's metrics store (unset: <state>/data/metrics; a class learner's: the class's monitor's folder for them)")
    topic_iceberg_control: str = "crypto-iceberg-control"
    topic_format: Literal["json", "avro"] = Field(default="json", description="the raw and exploded topics' values: JSON, or Avro in Confluent's wire format with the registry (cloud-standin)")

    # Confluent Cloud profile
    kafka_bootstrap: str | None = None
    kafka_api_key: SecretStr | None = None
    kafka_api_secret: SecretStr | None = None
    kafka_ca_file: Path | None = Field(default=None, description="PEM file of the CA of the brokers' certificates (unset: the system's)")
    schema_registry_url: str | None = None
    schema_registry_api_key: SecretStr | None = None
    schema_registry_api_secret: SecretStr | None = None
    confluent_environment_id: str | None = Field(default=None, description="the Confluent Cloud environment (env-…) of `dataops pipeline plan --commands`")
    confluent_cluster_id: str | None = Field(default=None, description="the Kafka cluster (lkc-…): also the Flink database")
    confluent_cloud: str | None = Field(default=None, description="the cloud provider of the Flink region: aws, azure or gcp")
    confluent_region: str | None = Field(default=None, description="the Flink region (e.g. eu-west-1) where the UDF artifact is uploaded")
    flink_compute_pool_id: str | None = Field(default=None, description="the Flink compute pool (lfcp-…) the statements run in")
    flink_endpoint: str | None = None
    flink_api_key: SecretStr | None = None
    flink_api_secret: SecretStr | None = None
    tableflow_endpoint: str | None = None
    tableflow_api_key: SecretStr | None = None
    tableflow_api_secret: SecretStr | None = None
    coingecko_url: str = "https://api.coingecko.com/api/v3"
    coingecko_api_key: SecretStr | None = None
    coingecko_plan: Literal["auto", "demo", "pro"] = Field(default="auto", description="which key header to send (auto: pro for pro-api.coingecko.com, demo otherwise)")
    coingecko_calls_per_min: int = Field(default=FREE_TIER_CALLS_PER_MIN, ge=1, description="the plan's per-minute limit the polls stay under")

    @field_validator("profile")
    @classmethod
    def _registered_profile(cls, value: str) -> str:
        if value not in profiles.names():
            raise ValueError(f"perfil desconocido {value!r}: elige entre {', '.join(profiles.names())}")
        return value

    @model_validator(mode="after")
    def _profile_names(self) -> Settings:
        for name, value in (self.runs.names(self) if self.runs.names else {}).items():
            if name not in self.model_fields_set:
                setattr(self, name, value)
        return self

    @model_validator(mode="after")
    def _low_memory_sizes(self) -> Settings:
        if self.low_memory:
            for name, size in LOW_MEMORY_SIZES.items():
                if name not in self.model_fields_set:
                    setattr(self, name, size)
        return self

    @field_validator("coins", mode="before")
    @classmethod
    def _split_coins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [c.strip() for c in value.split(",") if c.strip()]
        return value

    # ---- derived paths and addresses ---------------------------------------
    @property
    def paths(self) -> StatePaths:
        """The state folder's layout (the one place that joins state paths)."""
        return StatePaths(Path(self.state_dir), self.metrics_dir)

    @property
    def runs(self) -> profiles.Profile:
        """The active :class:`~dataops.profiles.Profile`: what runs where, and which object serves each layer."""
        return profiles.get(self.profile)

    @property
    def log_max_bytes(self) -> int:
        """``log_max_mb`` in bytes: where the served log and the alert log rotate."""
        return int(self.log_max_mb * 1024 * 1024)

    @property
    def bootstrap_servers(self) -> str:
        """Kafka bootstrap servers of the active profile."""
        if self.runs.kafka_from_settings:
            self.require("kafka_bootstrap")
            return str(self.kafka_bootstrap)
        return f"{self.host}:{self.kafka_port}"

    @property
    def iceberg_sink_group(self) -> str:
        """The consumer group of the Iceberg sink (Kafka Connect names a sink's group ``connect-<name>``)."""
        return f"connect-{self.iceberg_connector_name}"

    @property
    def simulator_url(self) -> str:
        return f"http://{self.host}:{self.simulator_port}"

    @property
    def source_api_url(self) -> str:
        """Base URL of the CoinGecko API (the simulator in the local profile)."""
        if self.runs.real_api:
            return self.coingecko_url.rstrip("/")
        return f"{self.simulator_url}/api/v3"

    @property
    def source_key_plan(self) -> str:
        """The plan whose key header the clients send: ``coingecko_plan``, else the strict simulator's
        in the local profile, else ``pro`` for pro-api.coingecko.com and ``demo`` for any other URL."""
        if self.coingecko_plan != "auto":
            return self.coingecko_plan
        return plan_for_url(self.coingecko_url) if self.runs.real_api else self.simulator_plan

    @property
    def source_key_header(self) -> str:
        """The header that carries the API key (``x-cg-demo-api-key`` or ``x-cg-pro-api-key``)."""
        return KEY_HEADERS[self.source_key_plan]

    @property
    def sends_api_key(self) -> bool:
        """The clients send ``coingecko_api_key``: to the real API, or to a strict simulator."""
        return self.runs.real_api or self.simulator_strict

    @property
    def polls_per_minute(self) -> float:
        """The connector's calls per minute: ``60 / poll_interval_s × 1`` (one call per poll)."""
        return calls_per_minute(self.poll_interval_s, calls_per_poll=1)

    def check_rate_limit(self) -> None:
        """Refuse a poll interval that would go over the plan's per-minute limit.

        Raises:
            ConfigError: ``poll_interval_s`` too short for ``coingecko_calls_per_min``.
        """
        if self.sends_api_key and self.polls_per_minute > self.coingecko_calls_per_min:
            least = 60.0 / self.coingecko_calls_per_min
            raise ConfigError(f"{ENV_PREFIX}POLL_INTERVAL_S={self.poll_interval_s:g} hace {self.polls_per_minute:g} llamadas por minuto, más que las {self.coingecko_calls_per_min} del plan de CoinGecko",
                              f"pon {ENV_PREFIX}POLL_INTERVAL_S={least:g} o más (60 / intervalo × 1 llamada por sondeo)")  # fmt: skip

    @property
    def connect_url(self) -> str:
        return f"http://{self.host}:{self.connect_port}"

    @property
    def flink_url(self) -> str:
        return f"http://{self.host}:{self.flink_port}"

    def price_url(self) -> str:
        """The /simple/price request the connector polls."""
        ids = ",".join(self.coins)
        return (
            f"{self.source_api_url}/simple/price?ids={ids}&vs_currencies={self.vs_currency}"
            "&include_market_cap=true&include_24hr_vol=true"
            "&include_24hr_change=true&include_last_updated_at=true"
        )

    def kafka_config(self, **extra: Any) -> dict[str, Any]:
        """librdkafka configuration for the active profile (secrets included: never print it)."""
        conf: dict[str, Any] = {"bootstrap.servers": self.bootstrap_servers}
        if self.runs.kafka_auth != "none":
            self.require("kafka_api_key", "kafka_api_secret")
            protocol, mechanism = profiles.KAFKA_SECURITY[self.runs.kafka_auth]
            user, password = self.kafka_api_key.get_secret_value(), self.kafka_api_secret.get_secret_value()  # type: ignore[union-attr]
            conf.update({"security.protocol": protocol, "sasl.mechanisms": mechanism, "sasl.username": user, "sasl.password": password})
            if protocol == "SASL_SSL" and self.kafka_ca_file is not None:
                if not Path(self.kafka_ca_file).is_file():
                    raise ConfigError(f"{ENV_PREFIX}KAFKA_CA_FILE={self.kafka_ca_file} no es un fichero",
                                      "pon la ruta del PEM de la CA de los brokers, o bórrala para usar las CA del sistema")
                conf["ssl.ca.location"] = str(self.kafka_ca_file)
        conf.update(extra)
        return conf

    def require(self, *fields: str) -> None:
        """Raise :class:`ConfigError` naming the first unset field's variable."""
        for name in fields:
            if getattr(self, name) in (None, ""):
                raise ConfigError(
                    f"{ENV_PREFIX}{name.upper()} no está definida (perfil '{self.profile}')",
                    "añádela a .env (mira .env.example) o expórtala",
                )

    def as_env(self) -> dict[str, str]:
        """The non-secret settings as ``DATAOPS_*`` variables, for child processes."""
        env = {}
        for key, value in self:
            if value is None or isinstance(value, SecretStr):
                continue
            env[f"{ENV_PREFIX}{key.upper()}"] = ",".join(value) if isinstance(value, list) else str(value)
        return env

    def masked(self) -> dict[str, str]:
        """All settings as strings, secrets masked: safe to print or log."""
        return {k: ("**********" if isinstance(v, SecretStr) else str(v)) for k, v in self}


def check_env_file(path: Path) -> None:
    """Fail with one line per problem when ``.env`` has a line that is not ``KEY=VALUE``."""
    from dotenv.parser import parse_stream

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path.name} línea {line} no es texto UTF-8", f"guarda {path} como UTF-8 (o borra esa línea)") from None
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            line = binding.original.line
            raise ConfigError(
                f"{path.name} línea {line} no es CLAVE=VALOR: {binding.original.string.strip()[:40]!r}",
                f"corrige o borra esa línea de {path}",
            )


def env_file_path(env_file: str | Path | None = None) -> Path:
    """The dotenv file the settings are read from: ``env_file``, else ``$DATAOPS_ENV_FILE``, else ``<project>/.env``."""
    return Path(env_file or os.environ.get(f"{ENV_PREFIX}ENV_FILE") or PROJECT_ROOT / ".env")


def load_settings(env_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Build the settings from keyword args, environment, ``.env`` and defaults.

    Args:
        env_file: The dotenv file; defaults to ``$DATAOPS_ENV_FILE`` or ``<project>/.env``.
        **overrides: Field values that win over every other source.

    Raises:
        ConfigError: A malformed ``.env`` or a value of the wrong type.
    """
    path = env_file_path(env_file)
    if path.exists():
        check_env_file(path)
    try:
        return Settings(_env_file=path if path.exists() else None, **overrides)  # type: ignore[call-arg]
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise ConfigError(
            f"{ENV_PREFIX}{field.upper()} no es válida: {err['msg']}",
            "corrígela en .env o en el entorno (mira .env.example)",
        ) from None
