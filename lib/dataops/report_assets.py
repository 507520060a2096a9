"""Scripts the offline HTML reports need, fetched once from a package registry into the state folder.

nbconvert's lab template draws mermaid diagrams with mermaid.js imported from a CDN, which an offline
report cannot reach (and a page opened from ``file://`` may not ``import`` a module). The reports
get mermaid's self-contained build instead, from the npm registry, as a classic script beside them.
The build is pinned by its tarball's integrity hash, not by its version only: a tarball that does not
match it is never used.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from dataops.errors import DataOpsError
from dataops.paths import StatePaths

logger = logging.getLogger(__name__)

MERMAID = ("mermaid", "12.3.0")
MERMAID_FILE = "package/dist/mermaid.min.js"
# The npm registry's dist.integrity of exactly that version (`npm view mermaid@12.3.0 dist.integrity`):
# the tarball `npm pack` writes must hash to it before anything in it is used.
MERMAID_INTEGRITY = "sha512-4113TdXeLAsMruJ79OpFL5O8+LTFXhQqZ260rF3tgUmiNAtRm4Uume04I+65PRN6yZ69J4f8rVYWW8zRk65UYw=="
# The SHA-256 of MERMAID_FILE in that tarball: the copy kept in the state folder is used only when it matches.
MERMAID_JS_SHA256 = "336df803d87a38b70a01e736e666c8f7601d2ce42f5e47c8fafe5d721074b9a3"


def integrity(data: bytes, algorithm: str = "sha512") -> str:
    """``data``'s Subresource Integrity string, the form of npm's ``dist.integrity`` (``sha512-<base64>``)."""
    return f"{algorithm}-{base64.b64encode(hashlib.new(algorithm, data).digest()).decode()}"


def verify_tarball(path: Path, expected: str, what: str) -> None:
    """Raise unless the tarball at ``path`` has the integrity ``expected``.

    Raises:
        DataOpsError: It does not (one line: what was expected, what to do).
    """
    got = integrity(path.read_bytes(), expected.split("-", 1)[0])
    if got != expected:
        raise DataOpsError(
            f"el tarball de {what} que descargó npm no coincide con su integridad fijada ({got[:20]}…, se esperaba {expected[:20]}…)",
            "revisa el registro que usa npm (`npm config get registry`, un proxy o un mirror) y vuelve a ejecutarlo; para fijar otra "
            "versión, pon su `npm view NAME@VERSION dist.integrity` en dataops/report_assets.py",
        )


def mermaid_tarball(folder: Path) -> Path | None:
    """mermaid's npm tarball, checked against its pinned integrity: from the class pack when
    ``DATAOPS_PACK`` names one, else fetched into ``folder`` with ``npm pack``; None (with one
    logged line saying what to do) when it cannot be had.

    Raises:
        DataOpsError: The tarball is not the pinned one (one line: what to do).
    """
    name, version = MERMAID
    pack = os.environ.get("DATAOPS_PACK")
    if pack:
        packed = Path(pack) / "npm" / f"{name}-{version}.tgz"
        if not packed.is_file():
            logger.warning("%s is not in the pack %s: the HTML reports draw no mermaid diagram offline "
                           "(rebuild the pack with `dataops pack`)", packed.name, pack)  # fmt: skip
            return None
        verify_tarball(packed, MERMAID_INTEGRITY, f"{name}@{version}")
        return packed
    npm = shutil.which("npm")
    if npm is None:
        logger.warning("npm is missing: the HTML reports draw no mermaid diagram offline (install Node.js and npm)")
        return None
    done = subprocess.run([npm, "pack", f"{name}@{version}", "--silent"], cwd=folder, capture_output=True, text=True, timeout=600)
    packed_list = sorted(folder.glob(f"{name}-*.tgz"))
    if done.returncode != 0 or not packed_list:
        logger.warning("npm pack %s@%s failed (%s): the HTML reports draw no mermaid diagram offline", name, version,
                       (done.stderr or done.stdout).strip().splitlines()[-1:] or "no output")  # fmt: skip
        return None
    verify_tarball(packed_list[0], MERMAID_INTEGRITY, f"{name}@{version}")
    return packed_list[0]


def mermaid_js(paths: StatePaths) -> Path | None:
    """mermaid's browser build (``dist/mermaid.min.js``), downloaded with ``npm pack`` the first time
    and checked against its pinned integrity; None (with one logged line saying what to do) when it
    cannot be fetched.

    Raises:
        DataOpsError: The tarball npm fetched is not the pinned one (one line: what to do).
    """
    name, version = MERMAID
    target = paths.lib / f"{name}-{version}.min.js"
    if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == MERMAID_JS_SHA256:
        return target
    with tempfile.TemporaryDirectory(prefix="dataops-npm-") as tmp:
        packed = mermaid_tarball(Path(tmp))
        if packed is None:
            return None
        with tarfile.open(packed) as tar:
            data = tar.extractfile(MERMAID_FILE).read()  # type: ignore[union-attr]
    digest = hashlib.sha256(data).hexdigest()
    if digest != MERMAID_JS_SHA256:  # the pins disagree: the kept copy would never be used
        raise DataOpsError(f"{MERMAID_FILE} del {name}@{version} verificado tiene el SHA-256 {digest}",
                           "ponlo en MERMAID_JS_SHA256 de dataops/report_assets.py (fija la copia guardada en la carpeta de estado)")  # fmt: skip
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    partial.write_bytes(data)
    partial.replace(target)
    return target
