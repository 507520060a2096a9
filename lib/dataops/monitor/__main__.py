"""``python -m dataops.monitor``: the stack's monitor component."""

from dataops.monitor.service import main

raise SystemExit(main())
