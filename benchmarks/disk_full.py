"""The disk fills mid-stream: a stack of its own whose data/ is a small tmpfs, filled to the last byte
for 30 s, then freed, then one `dataops up`.

The tmpfs is mounted in a mount namespace of its own (`unshare -m`, or `unshare -Urm` when not root),
so nothing is left mounted on the machine, whatever happens; the stack runs inside it.
Prints: disk_full_lost_rows, disk_full_duplicate_rows, disk_full_changed_rows, disk_full_recovery_s
(space freed -> a new row in the table, the `up` included), disk_full_up_s, disk_full_served_rows.
Usage: .venv/bin/python benchmarks/disk_full.py [--full-s 30] [--report FILE.json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from _common import dataops  # noqa: E402  (puts lib/ on the path)

from tests.integration.diskfull import drill, env, small_disk  # noqa: E402

INSIDE = "DATAOPS_DISK_FULL_NAMESPACE"


def _in_own_namespace(argv: list[str]) -> int:
    """Run this script again inside a private mount namespace; its exit code."""
    unshare = shutil.which("unshare")
    if unshare is None:
        print("error: `unshare` (util-linux) is missing: install util-linux", file=sys.stderr)
        return 2
    flags = ["-m"] if os.geteuid() == 0 else ["-Urm"]
    return subprocess.run([unshare, *flags, sys.executable, __file__, *argv], env={**os.environ, INSIDE: "1"}).returncode


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full-s", type=float, default=30.0, help="how long the disk stays full (default 30)")
    ap.add_argument("--report", type=Path, help="also write what the drill saw to this JSON file")
    args = ap.parse_args()
    if os.environ.get(INSIDE) != "1":
        return _in_own_namespace(sys.argv[1:])
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
    if args.report:
        args.report.write_text(json.dumps({**dataclasses.asdict(run), "data": str(data), "coins": len(p.settings.coins)}, default=str))
    print(f"disk_full_lost_rows={run.lost}")
    print(f"disk_full_duplicate_rows={run.duplicate}")
    print(f"disk_full_changed_rows={run.changed}")
    print(f"disk_full_recovery_s={run.recovery_s}")
    print(f"disk_full_up_s={run.up_s}")
    print(f"disk_full_served_rows={run.served}")
    print(f"# met ENOSPC in their logs: {', '.join(name for name, met in run.met_enospc.items() if met)}")
    print(f"# said while full: {run.health_line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
