"""The process supervisor of the local stack: start, stop and inspect its components.

Every component is a child process detached into its own session, with a pid
file under ``<state_dir>/run``, a log under ``<state_dir>/logs`` and its data
under ``<state_dir>/data``. :meth:`Stack.up` is idempotent and starts only what
is not running; :meth:`Stack.down` stops only the processes whose pid files it
wrote (pid and start time must both match, so a recycled pid is never killed).
"""

from __future__ import annotations

import json
import logging
import ipaddress
import os
import socket
import signal
import subprocess
import time
from pathlib import Path
from typing import Iterable

import pandas as pd
import psutil

from dataops.config import PROJECT_ROOT, Settings
from dataops.errors import ConfigError, PortInUseError, StackError
from dataops.artifacts import artifacts_present, install_artifacts, require_java
from dataops.class_archive import with_archive
from dataops.engine import Component, child_env, port_open
from dataops.userfiles import read_record
from dataops.stack.engines import GROUPS, components, expand
from dataops.stack import freeze
from dataops.stack.disk import require_room
from dataops.paths import last_lines

logger = logging.getLogger(__name__)


def _fmt_uptime(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _mode_of(rec: dict | None) -> str:
    """The memory mode a pid record says its process was started in ("" without a record)."""
    return ("low" if rec.get("low_memory") else "normal") if rec else ""


def _ended(proc: psutil.Process, timeout: float) -> bool:
    """True once the process is gone, or a zombie: dead, only waiting for a parent that may
    be gone too (a killed CLI or test session) to reap it."""
    try:
        proc.wait(timeout=timeout)
        return True
    except psutil.TimeoutExpired:
        try:
            return proc.status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True


class Stack:
    """Start, stop and inspect the local stack.

    Args:
        settings: The loaded settings (profile ``local``).
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.paths = settings.paths
        self._components = {c.name: c for c in components(settings)}

    # ---- lookup ----------------------------------------------------------
    @property
    def names(self) -> list[str]:
        """The components a plain ``up`` starts (the optional ones only when asked for)."""
        return [n for n, c in self._components.items() if not c.optional]

    @property
    def optional(self) -> list[str]:
        return [n for n, c in self._components.items() if c.optional]

    def component(self, name: str) -> Component:
        try:
            return self._components[name]
        except KeyError:
            choices = [*self.names, *self.optional, *GROUPS]
            raise StackError(f"componente desconocido '{name}'", f"elige entre: {', '.join(choices)}") from None

    def _record(self, name: str) -> dict | None:
        return read_record(self.paths.pid_file(name))

    def process(self, name: str) -> psutil.Process | None:
        """The live process this stack started for ``name``, or None."""
        rec = self._record(name)
        if not rec:
            return None
        try:
            proc = psutil.Process(int(rec["pid"]))
            ticks = start_ticks(proc.pid) if rec.get("start_ticks") is not None else None
            # The start in clock ticks since boot (Linux) never moves; psutil's create_time is that plus
            # the boot time, which follows the wall clock: a clock stepped by a second would disown it.
            same = ticks == rec["start_ticks"] if ticks is not None else abs(proc.create_time() - rec["create_time"]) <= 1.0
            if not same or proc.status() == psutil.STATUS_ZOMBIE:
                return None
            return proc
        except (psutil.NoSuchProcess, psutil.AccessDenied, KeyError, TypeError, ValueError):
            return None

    def started_at(self, name: str) -> float | None:
        """UNIX time the running ``name`` was started by this stack (None when it is not running)."""
        rec = self._record(name) if self.process(name) else None
        return float(rec["started_at"]) if rec and rec.get("started_at") else None

    def mark_changed(self) -> None:
        """Record that the pipeline set-up just changed something (see :meth:`last_change`)."""
        self.paths.run.mkdir(parents=True, exist_ok=True)
        self.paths.changed_marker.write_text(f"{time.time()}\n")

    def last_change(self) -> float | None:
        """UNIX time of the newest component start or pipeline change: from then on, every
        layer should report (None when nothing runs)."""
        starts = [rec.get("started_at") for name in self.names if self.process(name) and (rec := self._record(name))]
        try:
            starts.append(float(self.paths.changed_marker.read_text()))
        except (FileNotFoundError, ValueError):
            pass
        starts = [float(t) for t in starts if t]
        return max(starts) if starts else None

    def foreign_ports(self, name: str) -> list[int]:
        """The ports of component ``name`` that something this stack did not start listens on:
        ``up`` refuses to start it on them (:class:`PortInUseError`). Empty while the component
        this stack started for ``name`` runs (the ports are its own)."""
        comp = self.component(name)
        if self.process(name):
            return []
        return [port for port in comp.ports if port_open(self.settings.host, port)]

    @property
    def _mode(self) -> str:
        return "low" if self.settings.low_memory else "normal"

    def memory_mode(self, name: str) -> str:
        """``low`` or ``normal``: the memory mode the running ``name`` was started in ("" when it is not running)."""
        return _mode_of(self._record(name) if self.process(name) else None)

    def pid(self, name: str) -> int | None:
        proc = self.process(name)
        return proc.pid if proc else None

    # ---- start -------------------------------------------------------------
    def _check_host(self) -> None:
        """The simulator, Connect and Flink have no authentication: they listen on loopback
        unless the settings say a remote address is meant."""
        host = self.settings.host
        try:
            loopback = ipaddress.ip_address(socket.gethostbyname(host)).is_loopback
        except (OSError, ValueError):
            loopback = False
        if not loopback and not self.settings.allow_remote_host:
            raise ConfigError(
                f"DATAOPS_HOST={host} no es una dirección de loopback, y el simulador, Connect y Flink no tienen autenticación",
                "usa 127.0.0.1, o pon DATAOPS_ALLOW_REMOTE_HOST=true si todas las máquinas de esa red pueden llegar a ellos",
            )

    def up(self, names: Iterable[str] | None = None, progress: bool = True) -> pd.DataFrame:
        """Start every component that is not running and wait until healthy.

        Idempotent: running components are left alone. Returns :meth:`status`.

        Raises:
            PortInUseError: A port is taken by a process this stack did not start.
            ToolMissingError: Java or Maven is missing.
            StackError: A component exited or did not become healthy in time.
            DiskFullError: A disk of the state folder is full (one line: free space, then `up`).
        """
        wanted = [self.component(n) for n in expand(names or self.names)]
        self._check_host()
        require_room(self.settings.state_dir)
        self.paths.make()
        if freeze.frozen(self.paths):  # a freeze nobody thawed (a drill stopped half-way): running, not frozen
            self.resume()
        if any(c.java for c in wanted):
            require_java()
            if not artifacts_present(self.paths):
                install_artifacts(self.paths, quiet=not progress)
        # Each component starts once those it comes after are healthy: the independent ones side by
        # side (Kafka, the simulator and Flink's jobmanager at once; Connect once Kafka answers).
        names = [c.name for c in wanted]
        pending = list(wanted)
        waiting: dict[str, tuple[Component, float, bool]] = {}  # started or found running, not yet healthy
        healthy: set[str] = set()
        while pending or waiting:
            for comp in list(pending):
                after = comp.after if comp.after is not None else names[: names.index(comp.name)]
                if not all(name in healthy for name in after if name in names):
                    continue
                pending.remove(comp)
                running = self.process(comp.name) is not None
                waiting[comp.name] = (comp, time.monotonic(), running)
                if running:
                    continue
                self.paths.pid_file(comp.name).unlink(missing_ok=True)
                taken = self.foreign_ports(comp.name)
                if taken:
                    raise PortInUseError(comp.name, taken[0])
                if progress:
                    low = " (poca memoria)" if self.settings.low_memory else ""
                    print(f"  … {comp.name:<10} arrancando en el puerto {comp.port}{low}", flush=True)
                self._start(comp)
            ready = False
            for name, (comp, t0, running) in list(waiting.items()):
                if not self._healthy_yet(comp, t0):
                    continue
                del waiting[name]
                healthy.add(name)
                ready = True
                if progress and running:
                    mode = self.memory_mode(name)
                    other = "" if mode == self._mode else f" in {mode} memory mode: `dataops down` first to restart it in {self._mode} mode"
                    print(f"  ✔ {name:<10} already running (pid {self.pid(name)}){other}", flush=True)
                elif progress:
                    print(f"  ✔ {name:<10} sano en {time.monotonic() - t0:.1f} s", flush=True)
            if waiting and not ready:
                time.sleep(0.3)
        return self.status()

    def _start(self, comp: Component) -> None:
        cmd = comp.command(self.settings, self.paths)
        log = self.paths.log_file(comp.name)
        if comp.java and self.settings.class_archives:  # recorded from its second start here on (dataops.class_archive)
            cmd = with_archive(cmd, self.paths.class_archives, comp.name, record=log.exists())
        if log.exists() and log.stat().st_size > 50 * 2**20:
            log.replace(log.with_suffix(".log.1"))
        env = {**os.environ, **self.settings.as_env(), **child_env(self.settings), **self.child_secrets()}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT / "lib"), env.get("PYTHONPATH")]))
        with log.open("a") as fh:
            fh.write(f"\n===== {time.strftime('%Y-%m-%d %H:%M:%S')} starting {comp.name} =====\n")
            fh.flush()
            proc = subprocess.Popen(
                cmd,
                stdout=fh,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.paths.root,
                env=env,
                start_new_session=True,  # survives the CLI / notebook that started it
            )
        rec = {
            "pid": proc.pid,
            "create_time": psutil.Process(proc.pid).create_time(),
            "start_ticks": start_ticks(proc.pid),
            "started_at": time.time(),
            "ports": list(comp.ports),
            "cmd": cmd,
            "low_memory": self.settings.low_memory,
        }
        self.paths.pid_file(comp.name).write_text(json.dumps(rec))

    def child_secrets(self) -> dict[str, str]:
        """Secret settings a component needs in its environment (none here: the local stack's are in its files)."""
        return {}

    def _healthy_yet(self, comp: Component, since: float) -> bool:
        """True once ``comp`` answers; raises when its process ended or ``start_timeout`` passed since ``since``."""
        if comp.healthy(self.settings):
            return True
        if not self.process(comp.name):
            self.paths.pid_file(comp.name).unlink(missing_ok=True)
            raise StackError(
                f"{comp.name} terminó durante el arranque ({last_lines(self.paths.log_file(comp.name), 1)})",
                f"mira `dataops logs {comp.name}`",
            )
        if time.monotonic() - since > comp.start_timeout:
            raise StackError(
                f"{comp.name} no estuvo listo en {comp.start_timeout:.0f} s",
                f"mira `dataops logs {comp.name}` y luego `make down && make up`",
            )
        return False

    # ---- stop --------------------------------------------------------------
    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 30.0) -> bool:
        """Stop one component this stack started. ``SIGKILL`` simulates a crash.

        Returns:
            True when a process was stopped.
        """
        self.component(name)
        proc = self.process(name)
        if proc is None:
            self.paths.pid_file(name).unlink(missing_ok=True)  # a stale file
            return False
        try:
            proc.send_signal(sig)
            if not _ended(proc, timeout):
                logger.warning("%s did not stop within %.0f s; killing it", name, timeout)
                proc.kill()
                if not _ended(proc, 10):
                    raise StackError(f"{name} (pid {proc.pid}) no terminó tras SIGKILL", f"compruébalo con `ps -p {proc.pid}`")
        except psutil.NoSuchProcess:
            pass
        self.paths.pid_file(name).unlink(missing_ok=True)
        return True

    def pause(self, names: Iterable[str] | None = None) -> list[str]:
        """Freeze components as a sleeping laptop does (:func:`dataops.stack.freeze.pause`): ``SIGSTOP``
        to each one's process group. Returns the components frozen: of ``names`` (default: every
        component, the optional ones too), those running."""
        return freeze.pause(self.paths, self._groups(names))

    def resume(self, names: Iterable[str] | None = None) -> list[str]:
        """Thaw what :meth:`pause` froze (:func:`dataops.stack.freeze.resume`): ``SIGCONT`` to each
        component's process group, and to every group :meth:`pause` wrote down."""
        return freeze.resume(self.paths, self._groups(names), names)

    def _groups(self, names: Iterable[str] | None) -> dict[str, int]:
        """Component -> its process group (its pid: started with ``start_new_session``), of the running ones."""
        return {name: proc.pid for name in (names or list(self._components)) if (proc := self.process(name))}

    def down(self, progress: bool = True) -> list[str]:
        """Stop, in reverse order, every component this stack started."""
        stopped = []
        for name in reversed(list(self._components)):
            if self.stop(name):
                stopped.append(name)
                if progress:
                    print(f"  ✔ {name:<10} stopped", flush=True)
        if progress and not stopped:
            print("  nothing to stop: no component started by this project is running", flush=True)
        return stopped

    # ---- inspect -----------------------------------------------------------
    def status(self) -> pd.DataFrame:
        """One row per component: pid, port, health, uptime, address, memory (the mode it was started in)."""
        rows = []
        for comp in self._components.values():
            proc = self.process(comp.name)
            rec = self._record(comp.name) if proc else None
            if comp.optional and not proc:
                continue  # not asked for: not part of this stack
            healthy = comp.healthy(self.settings)
            if proc and healthy:
                health = "up"
            elif proc:
                health = "starting" if time.time() - rec["started_at"] < comp.start_timeout else "unhealthy"
            elif healthy:
                health = "up (not started by this project)"
            else:
                health = "down"
            rows.append(
                {
                    "component": comp.name,
                    "pid": proc.pid if proc else None,
                    "port": comp.port,
                    "health": health,
                    "uptime": _fmt_uptime(time.time() - rec["started_at"]) if rec else "",
                    "address": comp.url,
                    "memory": _mode_of(rec),
                }
            )
        return pd.DataFrame(rows).astype({"pid": "Int64"})

    def logs(self, name: str, lines: int = 50) -> str:
        """The last ``lines`` lines of a component's log (or of ``flink-submit`` / ``mvn``)."""
        if name not in ("flink-submit", "mvn", "pip-flink", "mvn-schema-registry"):
            self.component(name)
        path = self.paths.log_file(name)
        if not path.exists():
            return f"(no log yet for {name}: it has not been started)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def rss_mb(self) -> dict[str, float]:
        """Resident memory of each running component (with its children), in MB."""
        out = {}
        for name in self._components:
            proc = self.process(name)
            if proc:
                procs = [proc, *proc.children(recursive=True)]
                out[name] = sum(p.memory_info().rss for p in procs if p.is_running()) / 2**20
        return out


def start_ticks(pid: int) -> int | None:
    """When process ``pid`` started, in clock ticks since boot (``/proc/PID/stat``'s 22nd field; None
    where there is no /proc): unlike a wall-clock time, it cannot move while the process lives."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
        return int(stat[stat.rindex(b")") + 2 :].split()[19])
    except (OSError, ValueError, IndexError):
        return None
