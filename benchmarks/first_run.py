"""A newcomer's first `make run` on a fresh clone, timed, with and without a class pack.

Prints, one per line:
  pack_build_s              `dataops pack DIR` for this machine's platform (downloads from the registries)
  pack_mb                   the pack's size
  make_run_fresh_clone_min  `make run` on a fresh clone, package caches warm (this user's pip cache
                            and ~/.m2), Java and Maven as this machine has them
  make_run_from_pack_min    `make run` on a fresh clone from the pack: an empty home, no java or mvn on
                            PATH, every registry unreachable (as tests/first_run/test_first_make_run.py)

Each clone's stack runs with every port shifted (+600) and is stopped at the end.
Usage: .venv/bin/python benchmarks/first_run.py [--skip-warm] [--skip-pack]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))
sys.path.insert(0, str(ROOT / "tests" / "first_run"))

from clone import clone_tree, make, newcomer_env, path_without, registries_unreachable  # noqa: E402

from dataops import pack as pack_mod  # noqa: E402

SHIFT = 600


def timed_make_run(clone: Path, env: dict[str, str], log: Path) -> float:
    try:
        rc, seconds = make(clone, env, "run", log, timeout_s=3600)
    finally:
        make(clone, env, "down", log, timeout_s=300)
    if rc != 0:
        raise SystemExit(f"make run failed (exit {rc}): see {log}")
    return seconds / 60


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-warm", action="store_true", help="only the run from a pack")
    ap.add_argument("--skip-pack", action="store_true", help="only the run with warm caches")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="dataops-first-run-"))
    try:
        if not args.skip_warm:
            env = newcomer_env(Path.home(), SHIFT)
            minutes = timed_make_run(clone_tree(tmp / "warm" / "curso"), env, tmp / "warm.log")
            print(f"make_run_fresh_clone_min={minutes:.1f}", flush=True)
        if not args.skip_pack:
            t0 = time.monotonic()
            manifest = pack_mod.build(tmp / "pack", [], log=lambda line: None)
            print(f"pack_build_s={time.monotonic() - t0:.0f}", flush=True)
            print(f"pack_mb={manifest['megabytes']}", flush=True)
            home = tmp / "José Pérez"
            env = registries_unreachable(newcomer_env(home, SHIFT, DATAOPS_PACK=str(tmp / "pack")))
            env["PATH"] = path_without(tmp / "bin", "java", "javac", "mvn", "mvnw")
            minutes = timed_make_run(clone_tree(home / "curso dataops"), env, tmp / "pack.log")
            print(f"make_run_from_pack_min={minutes:.1f}", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
