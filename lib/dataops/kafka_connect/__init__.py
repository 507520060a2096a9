"""The Kafka Connect layer: connectors and tasks (:mod:`.layer`), the worker's local start (:mod:`.engine`)."""

from dataops.kafka_connect.layer import ConnectLayer
from dataops.kafka_connect.protocol import Connect

__all__ = ["Connect", "ConnectLayer"]
