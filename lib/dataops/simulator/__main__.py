"""``python -m dataops.simulator``: run the CoinGecko simulator (see ``--help``)."""

import sys

from dataops.simulator.cli import main

if __name__ == "__main__":
    sys.exit(main())
