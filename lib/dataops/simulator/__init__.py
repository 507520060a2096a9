"""A local, CoinGecko-compatible price API with fault injection.

The simulator serves ``/api/v3/ping`` and ``/api/v3/simple/price`` like the
public API, driven by a seeded random walk per coin (:mod:`.market`), shaped
by injected faults (:mod:`.faults`), with a control API under ``/_sim/`` and a
served log, the ground truth the later layers are compared against
(:mod:`.server`, :mod:`.served`). :class:`~dataops.source.SimulatorLayer`
talks to a running one. Run it with ``python -m dataops.simulator --help``.
"""

from dataops.simulator.cli import main
from dataops.simulator.faults import FAULTS, Fault
from dataops.simulator.market import CATALOG, DEFAULT_COINS, KNOWN_COINS, RATES, CoinSpec
from dataops.simulator.server import Simulator

__all__ = [
    "CATALOG",
    "DEFAULT_COINS",
    "FAULTS",
    "KNOWN_COINS",
    "RATES",
    "CoinSpec",
    "Fault",
    "Simulator",
    "main",
]
