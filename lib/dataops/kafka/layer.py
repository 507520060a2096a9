"""Kafka layer: topics, offsets and records, read the way downstream readers do (read_committed)."""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Callable

import pandas as pd
from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ClusterMetadata, ConfigEntry, ConfigResource, NewTopic

from dataops.classroom.namespace import own_prefix, resolve
from dataops.config import Settings
from dataops.engine import port_open
from dataops.errors import ConfigError, DataOpsError, ServiceUnavailableError
from dataops.kafka.protocol import Record
from dataops.registry import avro

logger = logging.getLogger(__name__)
# librdkafka's own log lines (a refused login repeats one per attempt): to Python's logging, silent
# unless the application configures a handler.
_LIBRDKAFKA_LOG = logging.getLogger("dataops.kafka.librdkafka")
_LIBRDKAFKA_LOG.addHandler(logging.NullHandler())

__all__ = ["KafkaLayer", "Record", "records_frame", "refusal"]


class KafkaLayer:
    """Reads the Kafka layer of the active profile.

    Args:
        settings: The loaded settings.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._avro: avro.Decoder | None = None

    def _avro_decoder(self, value: bytes) -> dict[str, Any]:
        """Decode one Avro message, its schema fetched from the settings' Schema Registry (once per id)."""
        if self._avro is None:
            from dataops.registry.layer import SchemaRegistryLayer

            self._avro = avro.Decoder(SchemaRegistryLayer(self.settings).schema)
        return self._avro(value)

    # ---- clients -------------------------------------------------------------
    def _check_reachable(self) -> None:
        """The local broker's port closed means it is down: say so at once, in one line (librdkafka
        would retry for seconds and print a line on the terminal per attempt)."""
        s = self.settings
        if not s.runs.kafka_from_settings and not port_open(s.host, s.kafka_port):
            raise ServiceUnavailableError("Kafka", s.bootstrap_servers)

    def admin(self) -> AdminClient:
        self._check_reachable()
        # log_level 4: librdkafka info lines (e.g. queue purges on close) are noise here
        return AdminClient(self.settings.kafka_config(log_level=4))

    def _metadata(self, timeout: float = 5.0) -> ClusterMetadata:
        """The cluster's metadata; a refused key or certificate is one line at once, not a wait.

        Raises:
            ConfigError: The brokers refused the API key and secret, or their certificate.
            ServiceUnavailableError: No broker answered within ``timeout``.
        """
        self._check_reachable()
        errors: list[KafkaError] = []
        admin = AdminClient(self.settings.kafka_config(log_level=4, error_cb=errors.append, logger=_LIBRDKAFKA_LOG))
        deadline = time.monotonic() + timeout
        while True:
            try:  # in slices: librdkafka reports a refusal through error_cb, served by poll between them
                md = admin.list_topics(timeout=max(min(1.0, deadline - time.monotonic()), 0.1))
                break
            except KafkaException:
                admin.poll(0)
                refusal(self.settings, errors)
                if time.monotonic() >= deadline:
                    raise self._unavailable() from None
        if not md.brokers:
            raise self._unavailable()
        return md

    def _unavailable(self) -> ServiceUnavailableError:
        s = self.settings
        if s.runs.kafka_from_settings:
            return ServiceUnavailableError("Kafka", s.bootstrap_servers, "comprueba DATAOPS_KAFKA_BOOTSTRAP y la red (el broker local "
                                           "de SASL_SSL se arranca con `dataops up --with cloud-fixtures`)")  # fmt: skip
        return ServiceUnavailableError("Kafka", s.bootstrap_servers)

    def _consumer(self, **extra: Any) -> Consumer:
        self._check_reachable()
        conf = self.settings.kafka_config(
            **{
                "group.id": f"{own_prefix(self.settings)}dataops-inspect-{uuid.uuid4().hex[:8]}",
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
                "enable.partition.eof": True,
                "auto.offset.reset": "earliest",
                # A short-lived reader closed while it still logs in to its group coordinator makes
                # librdkafka print a "SASL authentication error" to stderr (a notebook's output); a
                # real failure reaches the caller as an exception anyway.
                "log_level": 0,
                **extra,
            }
        )
        return Consumer(conf)

    def _partitions(self, topic: str) -> list[int]:
        md = self._metadata()
        if topic not in md.topics or md.topics[topic].error is not None:
            if not topic.startswith(own_prefix(self.settings)):  # a class hides other learners' topics
                raise self._denied("leer", topic)
            known = ", ".join(sorted(t for t in md.topics if not t.startswith("_")))
            raise DataOpsError(f"el topic '{topic}' no existe", f"ejecuta `make up` (pone en marcha el pipeline); topics: {known}")
        return sorted(md.topics[topic].partitions)

    # ---- inspection ---------------------------------------------------------
    def topic_names(self) -> list[str]:
        return sorted(t for t in self._metadata().topics if not t.startswith("_"))

    def end_offsets(self, topic: str) -> dict[int, int]:
        """High watermark of each partition (transaction markers included)."""
        topic = resolve(self.settings, topic)
        consumer = self._consumer()
        try:
            return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=5)[1] for p in self._partitions(topic)}
        finally:
            consumer.close()

    def read(
        self,
        topic: str,
        start: dict[int, int] | None = None,
        timeout: float = 10.0,
    ) -> list[Record]:
        """Every committed record from ``start`` offsets (default: the beginning) to the current end."""
        topic = resolve(self.settings, topic)
        partitions = self._partitions(topic)
        consumer = self._consumer()
        try:
            tps = [TopicPartition(topic, p, (start or {}).get(p, -2)) for p in partitions]  # -2 = beginning
            consumer.assign(tps)
            pending = set(partitions)
            out: list[Record] = []
            deadline = time.monotonic() + timeout
            while pending and time.monotonic() < deadline:
                msg = consumer.poll(0.5)
                if msg is None:
                    continue
                error = msg.error()
                if error:
                    if error.code() == KafkaError._PARTITION_EOF:
                        pending.discard(msg.partition())
                        continue
                    raise DataOpsError(f"falló la lectura de {topic}: {error.str()}", "revisa `dataops status`")
                out.append(_record(msg, self._avro_decoder))
            return out
        finally:
            consumer.close()

    def latest(self, topic: str, n: int = 1, wait_s: float = 0.0) -> pd.DataFrame:
        """The ``n`` most recent committed records of ``topic``, newest first.

        Args:
            topic: Topic name.
            n: How many records.
            wait_s: Wait up to this long for the topic to have at least one record.
        """
        topic = resolve(self.settings, topic)
        deadline = time.monotonic() + wait_s
        while True:
            frame = self._latest(topic, n)
            if len(frame) or time.monotonic() >= deadline:
                return frame
            time.sleep(0.5)

    def _latest(self, topic: str, n: int) -> pd.DataFrame:
        consumer = self._consumer()
        try:
            start = {}
            for p in self._partitions(topic):
                low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=5)
                # Transaction markers take offsets too, hence the margin.
                start[p] = max(low, high - 2 * n - 2)
        finally:
            consumer.close()
        records = sorted(self.read(topic, start), key=lambda r: (r.timestamp_ms, r.offset), reverse=True)[:n]
        return records_frame(records)

    def topics(self) -> pd.DataFrame:
        """Topics with partitions and offsets: one row per partition (internal topics hidden)."""
        md = self._metadata()
        consumer = self._consumer()
        rows = []
        try:
            for name in sorted(t for t in md.topics if not t.startswith("_")):
                for part in sorted(md.topics[name].partitions):
                    low, high = consumer.get_watermark_offsets(TopicPartition(name, part), timeout=5)
                    rows.append({"topic": name, "partition": part, "start_offset": low, "end_offset": high, "span": high - low})
        finally:
            consumer.close()
        return pd.DataFrame(rows, columns=["topic", "partition", "start_offset", "end_offset", "span"])

    def consumer_groups(self, group: str | None = None) -> pd.DataFrame:
        """Committed offsets and lag per partition of each consumer group (or of ``group``).

        ``lag`` is the partition's end offset minus the committed offset (transaction
        markers count as offsets, so an idle transactional topic shows a lag of at most 1).
        """
        from confluent_kafka import ConsumerGroupTopicPartitions

        admin = self.admin()
        self._metadata()
        groups = sorted(g.group_id for g in admin.list_consumer_groups(request_timeout=10).result(timeout=15).valid)
        if group is not None:
            group = resolve(self.settings, group)
            if group not in groups:
                raise DataOpsError(f"el consumer group '{group}' no existe", f"grupos: {', '.join(groups) or 'ninguno'}")
            groups = [group]
        rows = []
        consumer = self._consumer()
        try:
            for gid in groups:
                result = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(gid)])[gid].result(timeout=10)
                for tp in result.topic_partitions:
                    if tp.offset < 0:
                        continue
                    end = consumer.get_watermark_offsets(TopicPartition(tp.topic, tp.partition), timeout=5)[1]
                    rows.append(
                        {"group": gid, "topic": tp.topic, "partition": tp.partition, "committed": tp.offset,
                         "end_offset": end, "lag": max(end - tp.offset, 0)}
                    )  # fmt: skip
        finally:
            consumer.close()
        return pd.DataFrame(rows, columns=["group", "topic", "partition", "committed", "end_offset", "lag"])

    def throughput(self, window_s: float = 10.0, topics: list[str] | None = None) -> pd.DataFrame:
        """Offsets per second over a window, per topic (measured now, blocking ``window_s``)."""
        names = [resolve(self.settings, t) for t in topics] if topics else self.topic_names()
        before = {t: sum(self.end_offsets(t).values()) for t in names}
        t0 = time.monotonic()
        time.sleep(window_s)
        after = {t: sum(self.end_offsets(t).values()) for t in names}
        elapsed = time.monotonic() - t0
        rows = [{"topic": t, "offsets": after[t] - before[t], "per_second": (after[t] - before[t]) / elapsed} for t in names]
        return pd.DataFrame(rows, columns=["topic", "offsets", "per_second"])

    def messages(self, topic: str, n: int = 5) -> pd.DataFrame:
        """The last ``n`` committed messages, decoded (JSON values parsed into ``payload``)."""
        return self.latest(topic, n)

    # ---- administration -----------------------------------------------------
    def _denied(self, doing: str, topic: str) -> ConfigError:
        """The one line of a refusal by the broker's ACLs: who, what, and which names are theirs."""
        s = self.settings
        mine = own_prefix(s)
        return ConfigError(f"Kafka no deja a {s.learner or 'esta cuenta'} {doing} el topic '{topic}'",
                           f"en la clase solo son tuyos los topics que empiezan por '{mine}'" if mine
                           else "pide ese permiso (una ACL) a quien administra el clúster")  # fmt: skip

    def ensure_topic(self, name: str, partitions: int, config: dict[str, str]) -> str:
        """Create ``name`` if missing, else align its configs. Returns what was done."""
        name = resolve(self.settings, name)
        md = self._metadata()
        admin = self.admin()
        if name not in md.topics:
            fut = admin.create_topics([NewTopic(name, partitions, 1, config=config)])[name]
            try:
                fut.result(timeout=30)
                return "created"
            except KafkaException as exc:
                if exc.args[0].code() in DENIED:
                    raise self._denied("crear", name) from None
                if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                    raise DataOpsError(f"falló la creación del topic {name}: {exc.args[0].str()}", "revisa `dataops status` y `dataops logs kafka`") from None
                return "exists"
        resource = ConfigResource("TOPIC", name)
        current = admin.describe_configs([resource])[resource].result(timeout=30)
        changed = {k: v for k, v in config.items() if current.get(k) is None or current[k].value != v}
        if changed:
            entries = [ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET) for k, v in changed.items()]
            update = ConfigResource("TOPIC", name, incremental_configs=entries)
            admin.incremental_alter_configs([update])[update].result(timeout=30)
            return "updated " + ", ".join(changed)
        return "exists"

    def topic_config(self, name: str, keys: Iterable[str]) -> dict[str, str] | None:
        """``partitions`` and the given config keys of a topic as the broker reports them (None: no such topic)."""
        name = resolve(self.settings, name)
        topic = self._metadata().topics.get(name)
        if topic is None:
            return None
        admin = self.admin()  # held: a collected client ends its own pending futures
        resource = ConfigResource("TOPIC", name)
        current = admin.describe_configs([resource])[resource].result(timeout=30)
        return {"partitions": str(len(topic.partitions)), **{k: current[k].value for k in keys if k in current}}

    def delete_topic(self, name: str, wait_s: float = 15.0) -> None:
        """Delete a topic (its data is gone) and wait until the metadata no longer lists it."""
        name = resolve(self.settings, name)
        admin = self.admin()  # held: a collected client ends its own pending futures
        fut = admin.delete_topics([name], operation_timeout=30)[name]
        try:
            fut.result(timeout=30)
        except KafkaException as exc:
            if exc.args[0].code() in DENIED:
                raise self._denied("borrar", name) from None
            if exc.args[0].code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
                raise DataOpsError(f"falló el borrado del topic {name}: {exc.args[0].str()}", "revisa `dataops status` y `dataops logs kafka`") from None
        deadline = time.monotonic() + wait_s
        while name in self.topic_names() and time.monotonic() < deadline:
            time.sleep(0.2)


#: The broker's refusals by ACL (a class server's learner outside their own names).
DENIED = (KafkaError.TOPIC_AUTHORIZATION_FAILED, KafkaError.GROUP_AUTHORIZATION_FAILED, KafkaError.CLUSTER_AUTHORIZATION_FAILED,
          KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)  # fmt: skip


def refusal(settings: Settings, errors: Iterable[KafkaError]) -> None:
    """Raise the one line for a refusal among a client's ``errors`` (from its ``error_cb``); nothing otherwise.

    Raises:
        ConfigError: SASL refused the API key and secret (``_AUTHENTICATION``), or TLS the broker's
            certificate (``_SSL``): which setting to check, never the secret.
    """
    codes = {e.code() for e in errors}
    where = settings.bootstrap_servers
    if KafkaError._AUTHENTICATION in codes:
        raise ConfigError(f"Kafka ({where}) rechazó la API key de Kafka: la clave o su secreto no son válidos",
                          "revisa DATAOPS_KAFKA_API_KEY y DATAOPS_KAFKA_API_SECRET (una API key del clúster, no la de otro servicio)")  # fmt: skip
    if KafkaError._SSL in codes:
        raise ConfigError(f"Kafka ({where}): el certificado del broker no es de una CA de confianza",
                          "pon en DATAOPS_KAFKA_CA_FILE el PEM de la CA de los brokers (con las cloud-fixtures, "
                          ".stack/kafka-sasl/ca.pem), o bórrala para Confluent Cloud")  # fmt: skip


def _record(msg: Message, avro_decoder: Callable[[bytes], dict[str, Any]] | None = None) -> Record:
    """One consumed message as a :class:`Record`; a value in the Avro wire format (the ``confluent``
    profile's) becomes the JSON text of its record, decoded with ``avro_decoder`` (its schema from the registry);
    one that does not decode, its bytes in base64 with the header ``avro.UNDECODABLE_HEADER`` saying why."""
    value = msg.value()
    size, schema_id = len(value or b""), None
    headers = dict(msg.headers() or [])
    if avro_decoder is not None and avro.is_wire_format(value):
        assert value is not None
        schema_id = avro.schema_id(value)
        try:
            value = json.dumps(avro_decoder(value)).encode("utf-8")
        except avro.UndecodableError as exc:  # one bad message: shown as the job keeps it (base64), not a stop
            value = base64.b64encode(value)
            headers[avro.UNDECODABLE_HEADER] = str(exc).encode("utf-8")
    key = msg.key()
    topic, partition, offset = msg.topic(), msg.partition(), msg.offset()
    if topic is None or partition is None or offset is None:  # only an error event lacks them
        raise DataOpsError(f"Kafka devolvió un registro sin su topic, partición u offset ({msg.error()})", "vuelve a intentarlo; si se repite, mira `dataops logs kafka`")
    return Record(
        topic=topic,
        partition=partition,
        offset=offset,
        timestamp_ms=msg.timestamp()[1],
        key=key.decode("utf-8", "replace") if key is not None else None,
        value=value.decode("utf-8", "replace") if value is not None else None,
        headers=headers,
        size_bytes=size,
        schema_id=schema_id,
    )


def records_frame(records: list[Record]) -> pd.DataFrame:
    """Records as a table; a JSON value is also parsed into ``payload``."""
    rows = []
    for r in records:
        try:
            payload = json.loads(r.value) if r.value else None
        except json.JSONDecodeError:
            payload = None
        rows.append(
            {
                "partition": r.partition,
                "offset": r.offset,
                "timestamp": pd.to_datetime(r.timestamp_ms, unit="ms", utc=True),
                "value": r.value,
                "payload": payload,
            }
        )
    return pd.DataFrame(rows, columns=["partition", "offset", "timestamp", "value", "payload"])


if TYPE_CHECKING:  # mypy checks the class against the protocol the Pipeline returns it as
    from dataops.kafka.protocol import Kafka

    _CHECKED: type[Kafka] = KafkaLayer
