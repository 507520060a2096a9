"""The Iceberg layer: the catalog and the table (:mod:`.layer`), its maintenance (:mod:`.maintenance`), the optional Tableflow-shaped REST catalog of the cloud fixtures (:mod:`.engine`, its front :mod:`.tableflow`)."""

from dataops.iceberg.layer import IcebergLayer
from dataops.iceberg.protocol import Iceberg

__all__ = ["Iceberg", "IcebergLayer"]
