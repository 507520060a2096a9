"""Scripts the offline HTML reports need, fetched once from a package registry into the state folder.

nbconvert's lab template draws mermaid diagrams with mermaid.js imported from a CDN, which an offline
report cannot reach (and a page opened from ``file://`` may not ``import`` a module). The reports
get mermaid's self-contained build instead, from the npm registry, as a classic script beside them.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from dataops.paths import StatePaths

logger = logging.getLogger(__name__)

MERMAID = ("mermaid", "12.3.0")
MERMAID_FILE = "package/dist/mermaid.min.js"


def mermaid_js(paths: StatePaths) -> Path | None:
    """mermaid's browser build (``dist/mermaid.min.js``), downloaded with ``npm pack`` the first time;
    None (with one logged line saying what to do) when it cannot be fetched."""
    name, version = MERMAID
    target = paths.lib / f"{name}-{version}.min.js"
    if target.exists():
        return target
    npm = shutil.which("npm")
    if npm is None:
        logger.warning("npm is missing: the HTML reports draw no mermaid diagram offline (install Node.js and npm)")
        return None
    with tempfile.TemporaryDirectory(prefix="dataops-npm-") as tmp:
        done = subprocess.run([npm, "pack", f"{name}@{version}", "--silent"], cwd=tmp, capture_output=True, text=True, timeout=600)
        packed = sorted(Path(tmp).glob("*.tgz"))
        if done.returncode != 0 or not packed:
            logger.warning("npm pack %s@%s failed (%s): the HTML reports draw no mermaid diagram offline", name, version,
                           (done.stderr or done.stdout).strip().splitlines()[-1:] or "no output")  # fmt: skip
            return None
        with tarfile.open(packed[0]) as tar:
            data = tar.extractfile(MERMAID_FILE).read()  # type: ignore[union-attr]
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    partial.write_bytes(data)
    partial.replace(target)
    return target
