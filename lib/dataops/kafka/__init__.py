"""The Kafka layer: topics, records, consumer groups (:mod:`.layer`), the broker's local start (:mod:`.engine`)."""

from dataops.kafka.layer import KafkaLayer, Record, records_frame

__all__ = ["KafkaLayer", "Record", "records_frame"]
