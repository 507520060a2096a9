"""The source layer: the CoinGecko API as the pipeline polls it: the simulator's client (:mod:`.layer`),
the real API's (:mod:`.api`, the ``confluent`` profile), the simulator's local start (:mod:`.engine`).
The simulator itself is :mod:`dataops.simulator`."""

from dataops.source.layer import PRICE_COLUMNS, SimulatorLayer
from dataops.source.protocol import Source

__all__ = ["PRICE_COLUMNS", "SimulatorLayer", "Source"]
