"""The DuckDB layer: the Iceberg table queryable by name (:mod:`.layer`)."""

from dataops.duck.layer import DuckLayer

__all__ = ["DuckLayer"]
