"""The Java Kafka clients' security settings (Connect, the Iceberg sink, Flink SQL), from the settings.

Python clients get theirs from :meth:`dataops.config.Settings.kafka_config` (librdkafka's names:
``sasl.mechanisms``, ``sasl.username``, ``ssl.ca.location``); the JVM clients name the same things
differently, and each host program wants them under its own prefix:

- **Kafka Connect**: the worker's own clients (top level), and those it makes for connectors, under
  ``producer.``, ``consumer.`` and ``admin.`` (a worker does not pass its top-level security on).
- **The Iceberg sink**: its coordinator's own clients under ``iceberg.kafka.``.
- **Flink SQL**: a table's ``properties.`` options; ``flink-sql-connector-kafka`` relocates Kafka's
  classes, so the JAAS line names the shaded login module (:data:`FLINK_PLAIN_MODULE`).

A profile without authentication (``local``) gets none of these: its broker is plaintext on loopback.
"""

from __future__ import annotations

from dataops import profiles
from dataops.config import Settings

PLAIN_MODULE = "org.apache.kafka.common.security.plain.PlainLoginModule"
SCRAM_MODULE = "org.apache.kafka.common.security.scram.ScramLoginModule"
FLINK_SHADED = "org.apache.flink.kafka.shaded."  # where flink-sql-connector-kafka relocates Kafka's classes
FLINK_PLAIN_MODULE = FLINK_SHADED + PLAIN_MODULE
CONNECT_CLIENT_PREFIXES = ("", "producer.", "consumer.", "admin.")


def _jaas_quoted(value: str) -> str:
    """``value`` inside a JAAS option's double quotes (a backslash or quote escaped)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def jaas_line(module: str, username: str, password: str, **options: str) -> str:
    """A ``sasl.jaas.config`` value: ``module`` required with the user, password and further ``options``, quoted."""
    extra = "".join(f" {k}={_jaas_quoted(v)}" for k, v in options.items())
    return f"{module} required username={_jaas_quoted(username)} password={_jaas_quoted(password)}{extra};"


def client_security(s: Settings, relocated: str = "") -> dict[str, str]:
    """A Java Kafka client's security settings for the active profile (secret included: never log them).

    Args:
        relocated: The package prefix of a relocated copy of Kafka's classes (:data:`FLINK_SHADED`),
            put before the login module's class name; "" for Kafka's own.

    Returns:
        ``{}`` for a plaintext profile; else the profile's protocol and mechanism (SASL_SSL and
        PLAIN for ``sasl_plain``, SASL_PLAINTEXT and SCRAM-SHA-512 for ``sasl_scram``), the JAAS
        line with the key (user) and secret, and, over TLS when ``DATAOPS_KAFKA_CA_FILE`` is set,
        that PEM file as trust store.

    Raises:
        ConfigError: The API key or secret is not set (one line naming the variable).
    """
    if s.runs.kafka_auth == "none":
        return {}
    s.require("kafka_api_key", "kafka_api_secret")
    protocol, mechanism = profiles.KAFKA_SECURITY[s.runs.kafka_auth]
    module = relocated + (PLAIN_MODULE if mechanism == "PLAIN" else SCRAM_MODULE)
    key = s.kafka_api_key.get_secret_value()  # type: ignore[union-attr]
    secret = s.kafka_api_secret.get_secret_value()  # type: ignore[union-attr]
    conf = {
        "security.protocol": protocol,
        "sasl.mechanism": mechanism,
        "sasl.jaas.config": jaas_line(module, key, secret),
    }
    if protocol == "SASL_SSL" and s.kafka_ca_file is not None:
        conf.update({"ssl.truststore.type": "PEM", "ssl.truststore.location": str(s.kafka_ca_file)})
    return conf


def connect_worker(s: Settings) -> dict[str, str]:
    """The Connect worker's security: its own clients and, prefixed, those of every connector."""
    own = client_security(s)
    return {f"{prefix}{k}": v for prefix in CONNECT_CLIENT_PREFIXES for k, v in own.items()}


def iceberg_sink(s: Settings) -> dict[str, str]:
    """The Iceberg sink's ``iceberg.kafka.*`` security (its coordinator's clients)."""
    return {f"iceberg.kafka.{k}": v for k, v in client_security(s).items()}


def flink_table_options(s: Settings) -> dict[str, str]:
    """A Flink SQL Kafka table's ``properties.*`` security options (the shaded login module)."""
    return {f"properties.{k}": v for k, v in client_security(s, FLINK_SHADED).items()}


def flink_with_clause(s: Settings) -> str:
    """:func:`flink_table_options` as lines of a ``WITH (...)`` clause, each ending in a comma ("" when none)."""

    def literal(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    return "".join(f"  {literal(k)} = {literal(v)},\n" for k, v in flink_table_options(s).items())
