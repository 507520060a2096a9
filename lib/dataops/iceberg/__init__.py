"""The Iceberg layer: the catalog and the table (:mod:`.layer`), its maintenance (:mod:`.maintenance`)."""

from dataops.iceberg.layer import IcebergLayer
from dataops.iceberg.protocol import Iceberg

__all__ = ["Iceberg", "IcebergLayer"]
