"""The disk fills mid-stream: a stack of its own whose data/ is a small tmpfs (root needed), filled to
the last byte for 30 s, then freed, then one `dataops up`.

Prints: disk_full_lost_rows, disk_full_duplicate_rows, disk_full_changed_rows, disk_full_recovery_s
(space freed -> a new row in the table, the `up` included), disk_full_served_rows, disk_full_up_s.
Usage: .venv/bin/python benchmarks/disk_full.py [--full-s 30]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import dataops  # noqa: E402  (puts lib/ on the path)

from tests.integration.diskfull import drill, env, small_disk  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full-s", type=float, default=30.0, help="how long the disk stays full (default 30)")
    args = ap.parse_args()
    from dataops.config import PROJECT_ROOT

    root = PROJECT_ROOT / ".stack" / "disk"
    os.environ.update(env(root))
    with small_disk(root) as data:
        p = dataops.connect(profile="local")
        try:
            p.up(progress=False)
            run = drill(p, data, full_s=args.full_s)
        finally:
            p.stack.down(progress=False)
    print(f"disk_full_lost_rows={run.lost}")
    print(f"disk_full_duplicate_rows={run.duplicate}")
    print(f"disk_full_changed_rows={run.changed}")
    print(f"disk_full_recovery_s={run.recovery_s}")
    print(f"disk_full_served_rows={run.served}")
    print(f"disk_full_up_s={run.up_s}")
    print(f"# met ENOSPC in their logs: {', '.join(name for name, met in run.met_enospc.items() if met)}")
    print(f"# said while full: {run.health_line}")


if __name__ == "__main__":
    main()
