"""The Kafka layer: topics, records, consumer groups (:mod:`.layer`), the broker's local start (:mod:`.engine`),
the optional SASL_SSL broker of the cloud fixtures (:mod:`.sasl`), the Java clients' security settings (:mod:`.security`)."""

from dataops.kafka.layer import KafkaLayer, records_frame
from dataops.kafka.protocol import Kafka, Record

__all__ = ["Kafka", "KafkaLayer", "Record", "records_frame"]
