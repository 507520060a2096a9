"""A fresh clone of the checkout, run with the README's command as a newcomer would: used by
``test_first_make_run.py`` and ``benchmarks/first_run.py``.

The clone is the checkout's files (tracked and new, not ignored: what a commit of the working
tree would hold), in a folder of its own; its stack has every port shifted, so it runs beside
any other.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from dataops.config import PORTS, PROJECT_ROOT

UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens, a connection is refused at once


def clone_tree(dest: Path) -> Path:
    """Copy the checkout's files (no .venv, no state folder, nothing ignored) into ``dest``, a git
    repository of one commit, as a clone is."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=PROJECT_ROOT, capture_output=True, check=True).stdout  # fmt: skip
    for name in filter(None, listed.decode().split("\0")):
        src = PROJECT_ROOT / name
        target = dest / name
        if src.is_symlink():  # as git checks it out: a link (lib/dataops/data → data)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(os.readlink(src))
        elif src.is_file():  # not deleted in the working tree
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)
    # a clone is a git checkout (block 6 clones it in turn): one commit of those files
    git = ["git", "-c", "user.name=newcomer", "-c", "user.email=newcomer@example.org", "-c", "commit.gpgsign=false"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "fresh clone"]):
        subprocess.run([*git, *args], cwd=dest, check=True, capture_output=True)
    return dest


def path_without(folder: Path, *names: str) -> str:
    """A PATH of one folder linking every program on this PATH except ``names`` (and ``names``-*)."""
    folder.mkdir(parents=True, exist_ok=True)
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        if not directory or not Path(directory).is_dir():
            continue
        for program in Path(directory).iterdir():
            name = program.name
            if any(name == n or name.startswith(n + "-") for n in names) or (folder / name).exists():
                continue
            if program.is_file() and os.access(program, os.X_OK):
                (folder / name).symlink_to(program)
    return str(folder)


def newcomer_env(home: Path, shift: int, **extra: str) -> dict[str, str]:
    """A newcomer's environment: their own (empty) home, every port shifted, no state folder override."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATAOPS_", "PYTEST_", "JAVA_HOME", "VIRTUAL_ENV"))}
    env.update({"HOME": str(home), "DATAOPS_PROFILE": "local", **extra})
    env.pop("XDG_CACHE_HOME", None)
    for name, port in PORTS.items():
        env[f"DATAOPS_{name.upper()}_PORT"] = str(port + shift)
    return env


def registries_unreachable(env: dict[str, str]) -> dict[str, str]:
    """``env`` in which PyPI, npm and Maven Central (and any other HTTP) refuse connections."""
    out = dict(env)
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        out[var] = UNREACHABLE
    out["NO_PROXY"] = out["no_proxy"] = "127.0.0.1,localhost"  # the stack's own services stay reachable
    out["PIP_INDEX_URL"] = UNREACHABLE + "/simple"
    out.pop("PIP_FIND_LINKS", None)  # a machine-wide wheel folder would be a registry too
    out["npm_config_registry"] = UNREACHABLE + "/"
    proxies = "-Dhttp.proxyHost=127.0.0.1 -Dhttp.proxyPort=9 -Dhttps.proxyHost=127.0.0.1 -Dhttps.proxyPort=9"
    out["MAVEN_OPTS"] = f"{out.get('MAVEN_OPTS', '')} {proxies}".strip()
    out["MVNW_REPOURL"] = UNREACHABLE + "/maven2"
    return out


def make(clone: Path, env: dict[str, str], target: str, log: Path, timeout_s: float) -> tuple[int, float]:
    """Run ``make target`` in the clone; its exit code and seconds, output in ``log``."""
    t0 = time.monotonic()
    with log.open("a") as fh:
        fh.write(f"\n$ make {target}\n")
        fh.flush()
        try:
            rc = subprocess.run(["make", target], cwd=clone, env=env, stdout=fh, stderr=subprocess.STDOUT, timeout=timeout_s).returncode
        except subprocess.TimeoutExpired:
            rc = -1
            fh.write(f"\n(timed out after {timeout_s:.0f} s)\n")
    return rc, time.monotonic() - t0
