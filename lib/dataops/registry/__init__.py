"""The Schema Registry layer: subjects, versions, compatibility (:mod:`.layer`)."""

from dataops.registry.layer import SchemaRegistryLayer

__all__ = ["SchemaRegistryLayer"]
