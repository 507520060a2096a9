"""The Iceberg layer: the catalog and the table (:mod:`.layer`), its maintenance (:mod:`.maintenance`)."""

from dataops.iceberg.layer import IcebergLayer

__all__ = ["IcebergLayer"]
