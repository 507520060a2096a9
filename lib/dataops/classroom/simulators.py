"""Each learner's own CoinGecko simulator on the class server: their faults hit only them.

Each learner gets a simulator on a port of their own from ``DATAOPS_CLASS_SIMULATOR_PORT`` on (8100,
8101, …; :func:`ports`: kept for as long as they are on the roster), with a state folder of their own
(``<state>/class/servers/<learner>``: its served log, its token's file). The learners' simulators all
run in one process, the class's ``class-simulators`` component (:mod:`dataops.simulator.many`, in the
lean start): each keeps its own market, faults and served log, without an interpreter of its own
(about 25 MB a learner). ``class up`` adds a learner to the process's spec, ``class reset`` takes them
out and back with a new token, without touching the others'. A simulator answers anyone's price
requests, as CoinGecko does, but changes (faults in, faults out) only for the learner's token
(``DATAOPS_SIMULATOR_TOKEN``, in their settings file), and the instructor, who holds every learner's
file (``dataops class fault``).
"""

from __future__ import annotations

import itertools
import secrets
import sys
import time
from pathlib import Path
from typing import Any, Iterable

from dataops.classroom import access, specs
from dataops.config import ENV_PREFIX, Settings, load_settings
from dataops.engine import Component, http_ok, port_open
from dataops.errors import ConfigError, StackError
from dataops.paths import StatePaths

NAME = "class-simulators"
START_S = 20.0  # a learner's simulator answers within this after the process reads the spec


def token(s: Settings, learner: str) -> str:
    """The learner's control token: the one in their settings file, else a new one."""
    return access.saved(s.paths, learner, "SIMULATOR_TOKEN") or secrets.token_urlsafe(24)


def ports(s: Settings, learners: Iterable[str], setting: str = "SIMULATOR_PORT", base: int | None = None) -> dict[str, int]:
    """Each learner's simulator port (or ``setting``'s, from ``base`` on): the one in their settings
    file when they have one (so taking a learner off the roster, or adding one, moves nobody else's),
    else the lowest port free from ``DATAOPS_CLASS_SIMULATOR_PORT`` on (nothing listening there)."""
    learners, base = list(learners), s.class_simulator_port if base is None else base
    kept: dict[str, int] = {}
    for learner in learners:
        port = access.saved(s.paths, learner, setting)
        if port and port.isdigit() and int(port) >= base and int(port) not in kept.values():
            kept[learner] = int(port)
    free = (port for port in itertools.count(base) if port not in kept.values() and not port_open(s.host, port, 0.2))
    return {learner: kept[learner] if learner in kept else next(free) for learner in learners}


def server_settings(s: Settings, learner: str, port: int, control_token: str) -> Settings:
    """The settings of ``learner``'s simulator (the instructor's, with its own folder, port and token)."""
    return load_settings(profile="local", state_dir=s.paths.classroom / "servers" / learner, host=s.host, coins=s.coins,
                         simulator_port=port, simulator_token=control_token, low_memory=True)  # fmt: skip


def session_settings(learner_server: Settings) -> dict[str, str]:
    """What the learner's session needs to reach their simulator."""
    return {f"{ENV_PREFIX}SIMULATOR_PORT": str(learner_server.simulator_port),
            f"{ENV_PREFIX}SIMULATOR_TOKEN": learner_server.simulator_token.get_secret_value()}  # type: ignore[union-attr]  # fmt: skip


def spec_file(paths: StatePaths) -> Path:
    """Learner → their simulator's arguments: what the ``class-simulators`` process serves."""
    return specs.spec_file(paths, "simulators")


def _spec(paths: StatePaths) -> dict[str, list[str]]:
    return specs.read(paths, "simulators")


def _change(s: Settings, learner: str, argv: list[str] | None) -> bool:
    """Put ``learner``'s arguments in the spec (None: take them out); True when the learner was in it."""
    return specs.change(s, "simulators", NAME, learner, argv)


def start(s: Settings, learner: str, port: int) -> dict[str, str]:
    """Start (or keep) ``learner``'s simulator on ``port`` (:func:`ports`); returns the settings their session needs.

    Raises:
        StackError: It did not answer within :data:`START_S` (one line: read the component's log).
    """
    from dataops.source.engine import simulator_args

    mine = server_settings(s, learner, port, token(s, learner))
    _change(s, learner, simulator_args(mine, mine.paths))
    deadline = time.monotonic() + START_S
    while not http_ok(f"{mine.simulator_url}/_sim/health", timeout=1.0):
        if time.monotonic() > deadline:
            raise StackError(f"el simulador de {learner} no responde en el puerto {port} tras {START_S:.0f} s",
                             f"mira `dataops logs {NAME}`")  # fmt: skip
        time.sleep(0.2)
    return session_settings(mine)


def stop(s: Settings, learner: str) -> bool:
    """Stop ``learner``'s simulator (its faults go with it); True when one was running. The last
    learner's stop stops the process."""
    return specs.remove(s, "simulators", NAME, learner, _port(_spec(s.paths).get(learner, [])), START_S)


def _port(argv: list[str]) -> int | None:
    return int(argv[argv.index("--port") + 1]) if "--port" in argv else None


def stop_all(s: Settings) -> int:
    """Stop every learner's simulator (the process); returns how many it served."""
    return specs.stop_all(s, "simulators", NAME)


def _command(s: Settings, paths: StatePaths) -> list[str]:
    from dataops.source.engine import lean_start

    return [sys.executable, *lean_start("dataops.simulator.many"), "--spec", str(spec_file(paths))]


def _healthy(s: Settings) -> bool:
    """Every learner of the spec answers (their simulator's own health)."""
    return all(http_ok(f"http://{s.host}:{_port(argv)}/_sim/health", timeout=1.0) for argv in _spec(s.paths).values())


def components(s: Settings) -> list[Component]:
    """The learners' simulators' process, an optional component started by ``dataops class up``: its
    ports are the learners' (:func:`ports`), checked one by one as they are given."""
    return [Component(NAME, s.class_simulator_port, (), f"http://{s.host}:{s.class_simulator_port}", _command, _healthy,
                      start_timeout=START_S, optional=True, after=())]  # fmt: skip


def source(s: Settings, learner: str) -> Any:
    """The instructor's handle on ``learner``'s simulator (their port and token, from their settings file).

    Raises:
        ConfigError: The learner has no simulator yet (one line: run ``class up``).
    """
    from pydantic import SecretStr

    from dataops.source.layer import SimulatorLayer

    saved = access.saved_settings(s.paths, learner)
    port, control = saved.get("SIMULATOR_PORT"), saved.get("SIMULATOR_TOKEN")
    if not port or not control:
        raise ConfigError(f"{learner} no tiene simulador todavía", "ejecuta `dataops class up`")
    return SimulatorLayer(f"http://{s.host}:{port}", control_token=SecretStr(control))
