"""Each learner's own CoinGecko simulator on the class server: their faults hit only them.

Each learner gets a simulator on a port of their own from ``DATAOPS_CLASS_SIMULATOR_PORT`` on (8100,
8101, …; :func:`ports`: kept for as long as they are on the roster), started by ``dataops class up`` as the stack's ``simulator`` component in a state
folder of the learner's own (``<state>/class/servers/<learner>``: its served log, its pid) and in
its lean start (about 25 MB each). It answers anyone's price requests, as CoinGecko does, but
changes (faults in, faults out) only for the learner's token (``DATAOPS_SIMULATOR_TOKEN``, in their
settings file), and the instructor, who holds every learner's file (``dataops class fault``).
"""

from __future__ import annotations

import itertools
import secrets
from typing import Any, Iterable

from dataops.classroom import access
from dataops.config import ENV_PREFIX, Settings, load_settings
from dataops.engine import port_open
from dataops.errors import ConfigError

NAME = "simulator"


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


def start(s: Settings, learner: str, port: int) -> dict[str, str]:
    """Start (or keep) ``learner``'s simulator on ``port`` (:func:`ports`); returns the settings their session needs."""
    from dataops.stack import Stack

    mine = server_settings(s, learner, port, token(s, learner))
    Stack(mine).up([NAME], progress=False)
    return session_settings(mine)


def stop(s: Settings, learner: str) -> bool:
    """Stop ``learner``'s simulator (whatever its port); True when one was running."""
    from dataops.stack import Stack

    return Stack(load_settings(profile="local", state_dir=s.paths.classroom / "servers" / learner)).stop(NAME)


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
