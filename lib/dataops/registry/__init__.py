"""The Schema Registry layer: subjects, versions, compatibility (:mod:`.layer`)."""

from dataops.registry.layer import SchemaRegistryLayer
from dataops.registry.protocol import SchemaRegistry

__all__ = ["SchemaRegistry", "SchemaRegistryLayer"]
