"""``dataops doctor`` and ``p.doctor()``: measure this machine, judge each row
(:mod:`dataops.doctor.checks`, :mod:`dataops.doctor.ports`) and put them in one Spanish table.

The slow probes run beside the rest: Maven's ``mvn -v``, and the registries' TCP connects,
waited for :data:`CONNECT_TIMEOUT_S` at most (a name lookup that hangs with no network
included: it is left behind in a daemon thread), so the whole run stays within a few seconds.
"""

from __future__ import annotations

import locale
import os
import shutil
import socket
import sys
import threading
import time
import tomllib
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit
from urllib.request import getproxies

import pandas as pd
import psutil

from dataops import toolchain
from dataops.artifacts import artifacts_present
from dataops.config import PROJECT_ROOT, Settings, env_file_path
from dataops.doctor import checks
from dataops.stack import disk
from dataops.doctor.checks import Check
from dataops.doctor.ports import port_checks
from dataops.errors import DataOpsError
from dataops.stack import Stack

COLUMNS = ["comprobación", "estado", "encontrado", "cómo arreglarlo"]
PACK_VARIABLE = "DATAOPS_PACK"
REGISTRIES = {
    "PyPI (pypi.org:443)": ("pypi.org", 443),
    "Maven Central (repo.maven.apache.org:443)": ("repo.maven.apache.org", 443),
}
CONNECT_TIMEOUT_S = 1.5


class DoctorTable(pd.DataFrame):
    """The doctor's table: a DataFrame that shows its texts whole, in a notebook too (pandas
    would cut each at 50 characters, and a fix cut in half fixes nothing)."""

    @property
    def _constructor(self) -> type[DoctorTable]:
        return DoctorTable

    def _repr_html_(self) -> str | None:
        render: Callable[[], str | None] = getattr(super(), "_repr_html_")  # not in pandas' stubs
        with pd.option_context("display.max_colwidth", None):
            return render()

    def __repr__(self) -> str:
        with pd.option_context("display.max_colwidth", None, "display.width", 250):
            return super().__repr__()


def table(rows: list[Check]) -> DoctorTable:
    """The rows as the doctor's table; ``attrs["ok"]``: every row is ✔."""
    frame = DoctorTable([(r.name, "✔" if r.ok else "✘", r.found, r.fix) for r in rows], columns=COLUMNS)
    frame.attrs["ok"] = all(r.ok for r in rows)
    return frame


# ---- what is measured (tests replace these) ------------------------------------------
def requires_python() -> str:
    """``requires-python`` of the project's ``pyproject.toml``."""
    try:
        project: dict[str, Any] = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
        return str(project["requires-python"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return ">=3.11,<3.12"


def memory() -> tuple[int, int]:
    """Total and available memory, in bytes."""
    vm = psutil.virtual_memory()
    return int(vm.total), int(vm.available)


def disk_free(folder: Path) -> int:
    """Free bytes on the disk that holds ``folder``."""
    return int(shutil.disk_usage(folder).free)


def codeset() -> str:
    """The character set of this process's locale (Java names files by it on Linux), e.g. ``UTF-8``."""
    try:
        return locale.nl_langinfo(locale.CODESET)
    except (AttributeError, ValueError):  # no nl_langinfo (Windows)
        return "UTF-8"


def reachable(host: str, port: int, timeout: float = CONNECT_TIMEOUT_S) -> bool:
    """A TCP connection to ``host:port`` opens within ``timeout`` (through the HTTPS proxy's
    address when one is set: the proxy is then what must answer)."""
    proxy = getproxies().get("https")
    if proxy:
        parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        host, port = parts.hostname or host, parts.port or 8080
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def reach_all(addresses: dict[str, tuple[str, int]], timeout: float = CONNECT_TIMEOUT_S) -> Callable[[], dict[str, bool]]:
    """Start connecting to every address at once (daemon threads); the returned function waits
    until ``timeout`` after the start at most and says which answered (one still trying: no)."""
    results = dict.fromkeys(addresses, False)

    def probe(name: str, host: str, port: int) -> None:
        results[name] = reachable(host, port, timeout)

    threads = [threading.Thread(target=probe, args=(name, *address), daemon=True) for name, address in addresses.items()]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout + 0.2

    def collect() -> dict[str, bool]:
        for thread in threads:
            thread.join(max(deadline - time.monotonic(), 0.0))
        return dict(results)

    return collect


def _maven() -> toolchain.Maven | DataOpsError:
    try:
        return toolchain.find_maven()
    except DataOpsError as exc:
        return exc


def wrapper_fetched(maven: toolchain.Maven | DataOpsError | None) -> bool:
    """The Maven Wrapper has downloaded its Maven already (``$MAVEN_USER_HOME``, default ``~/.m2``)."""
    if not isinstance(maven, toolchain.Maven) or maven.origin == "PATH":
        return False
    home = Path(os.environ.get("MAVEN_USER_HOME") or Path.home() / ".m2")
    return (home / "wrapper" / "dists" / f"apache-maven-{maven.version}").is_dir()


def _pipeline_memory(stack: Stack | None) -> int:
    """Bytes the running pipeline's processes hold: free for the pipeline, since it has them."""
    if stack is None:
        return 0
    try:
        return int(sum(stack.rss_mb().values()) * 2**20)
    except psutil.Error:
        return 0


# ---- the table -----------------------------------------------------------------------------
def diagnose(settings: Settings | None, stack: Stack | None = None, config_error: DataOpsError | None = None) -> DoctorTable:
    """Every row the doctor checks, one table.

    Args:
        settings: The loaded settings; None when they could not be loaded (``config_error`` says why),
            then every other row is judged on the defaults.
        stack: The local stack, for the ports and what its running processes hold (None: a profile
            that runs none, and no port rows).
        config_error: Why the settings could not be loaded.
    """
    if settings is None:
        settings = Settings.model_construct()  # the defaults, without reading the environment again
        stack = stack or (Stack(settings) if settings.runs.runs_stack else None)
    paths = settings.paths
    state_dir = Path(settings.state_dir)
    pack = os.environ.get(PACK_VARIABLE, "")
    downloaded = artifacts_present(paths)
    sites = reach_all(REGISTRIES if not pack and not downloaded else {})
    java = checks.java_check(toolchain.candidates())
    maven = _maven() if java.ok else None
    total, available = memory()
    existing = checks.nearest_existing(state_dir)
    rows = [
        checks.config_check(env_file_path(), config_error),
        checks.python_check(tuple(sys.version_info[:3]), requires_python()),
        java,
        checks.maven_check(maven, wrapper_fetched(maven)),
        checks.memory_check(total, available, _pipeline_memory(stack)),
        checks.disk_check(existing, disk_free(existing)),
        checks.full_disk_check(state_dir, disk.full_line(state_dir)),
        checks.writable_check(state_dir),
        checks.paths_check(PROJECT_ROOT, state_dir, codeset()),
        checks.pack_check(pack) if pack else checks.network_check(sites(), downloaded, paths.root),
    ]
    if stack is not None:
        rows += port_checks(settings, stack)
    return table(rows)
