"""The stack's ports for ``dataops doctor``: one row each, free, held by the pipeline this
project started, or taken by another program (then ``up`` would refuse it, and the row names
the ``DATAOPS_<NAME>_PORT`` setting that moves it to a free one).

Whose a port is comes from the stack itself (:meth:`~dataops.stack.Stack.foreign_ports`, the
check ``up`` makes before starting a component), so the doctor and ``up`` never disagree.
"""

from __future__ import annotations

import socket
from collections import Counter

import psutil

from dataops.config import ENV_PREFIX, PORTS, Settings
from dataops.doctor.checks import Check
from dataops.stack import Stack


def variable(key: str) -> str:
    """The setting that moves the port ``key`` of :data:`dataops.config.PORTS`: ``DATAOPS_KAFKA_PORT``."""
    return f"{ENV_PREFIX}{key.upper()}_PORT"


def free_alternative(host: str, port: int, avoid: set[int]) -> int | None:
    """A port near ``port`` (100 up, 200 up, …) that binds on ``host`` now and is not in ``avoid``."""
    for step in range(1, 30):
        candidate = port + 100 * step
        if candidate > 65535:
            break
        if candidate in avoid:
            continue
        with socket.socket() as probe:
            try:
                probe.bind((host, candidate))
            except OSError:
                continue
        return candidate
    return None


def holder(port: int) -> str:
    """``pid N, name`` of the process listening on ``port`` when the system tells (it may not: another user's)."""
    try:
        for conn in psutil.net_connections("inet"):
            if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN and conn.pid:
                return f"pid {conn.pid}, {psutil.Process(conn.pid).name()}"
    except (psutil.Error, OSError):
        pass
    return ""


def port_checks(settings: Settings, stack: Stack) -> list[Check]:
    """One row per port of :data:`~dataops.config.PORTS`, at the value the settings give it."""
    ports = {key: int(getattr(settings, f"{key}_port")) for key in PORTS}
    owner = {port: name for name in [*stack.names, *stack.optional] for port in stack.component(name).ports}
    foreign = {name: stack.foreign_ports(name) for name in dict.fromkeys(owner.values())}
    running = {name: stack.pid(name) for name in foreign}
    twice = {port for port, n in Counter(ports.values()).items() if n > 1}
    rows = []
    for key, port in ports.items():
        name, comp = f"puerto {port} ({key})", owner.get(port, "")
        if not 0 < port < 65536:
            rows.append(Check(name, False, "no es un puerto (van de 1 a 65535)", f"pon {variable(key)}=<1–65535> en .env"))
        elif port in twice:
            others = [k for k, p in ports.items() if p == port and k != key]
            other = free_alternative(settings.host, port, set(ports.values()))
            rows.append(Check(name, False, f"el mismo puerto que {', '.join(others)}",
                              f"cambia uno de los dos, p. ej. {variable(key)}={other or '<otro puerto>'} en .env"))
        elif running.get(comp):
            rows.append(Check(name, True, f"en uso por el pipeline ({comp}, pid {running[comp]})"))
        elif port in foreign.get(comp, ()):
            who = holder(port)
            found = f"ocupado por otro programa{f' ({who})' if who else ''}"
            alternative = free_alternative(settings.host, port, set(ports.values()))
            move = f"{variable(key)}={alternative}" if alternative else f"{variable(key)}=<un puerto libre>"
            if stack.component(comp).optional:
                rows.append(Check(name, True, f"{found}; solo lo usa `dataops up --with {comp}`",
                                  f"si vas a usar {comp}: añade {move} a .env"))
            else:
                rows.append(Check(name, False, found, f"añade {move} a .env, o cierra ese programa"))
        else:
            rows.append(Check(name, True, "libre"))
    return rows
