"""The source's local start: the simulator process the pipeline polls instead of CoinGecko.

The server itself is :mod:`dataops.simulator`; this module only says how the stack runs it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from dataops.config import ENV_PREFIX, Settings
from dataops.engine import Component, http_ok
from dataops.errors import ConfigError
from dataops.paths import StatePaths, write_private


# The low-memory mode's start of the simulator (and each learner's in a class): ``python -m
# dataops.simulator`` first runs the package's ``__init__``, which loads the settings' model (pydantic,
# ~35 MB resident in all; the pipeline's layers and pandas load only on first use), while the
# simulator needs only the standard library and ``dataops``' base modules. This stands an empty
# ``dataops`` package in for it (the same folder, so every submodule imports as usual) and runs the
# simulator's ``main`` (or, on a class server, :mod:`dataops.simulator.many`'s): about 22 MB.
LEAN_SIMULATOR = (
    "import sys, types; package = types.ModuleType('dataops'); package.__path__ = [{folder!r}]; "
    "sys.modules['dataops'] = package; from {module} import main; sys.exit(main())"
)


def _strict_args(s: Settings, paths: StatePaths) -> list[str]:
    """Strict mode's flags; its keys go to a file only the owner reads (never on the command line)."""
    keys_file = paths.data / "simulator" / "api_keys"
    if not s.simulator_strict:
        keys_file.unlink(missing_ok=True)
        return []
    secret = s.simulator_api_keys or s.coingecko_api_key
    keys = [k.strip() for k in (secret.get_secret_value() if secret else "").split(",") if k.strip()]
    if not keys:
        raise ConfigError(f"{ENV_PREFIX}SIMULATOR_STRICT=true y no hay ninguna clave que aceptar",
                          f"define {ENV_PREFIX}COINGECKO_API_KEY (o {ENV_PREFIX}SIMULATOR_API_KEYS) en .env")  # fmt: skip
    write_private(keys_file, "\n".join(keys) + "\n")
    return ["--strict", "--plan", s.simulator_plan, "--calls-per-min", str(s.simulator_calls_per_min),
            "--api-keys-file", str(keys_file)]  # fmt: skip


def _control_args(s: Settings, paths: StatePaths) -> list[str]:
    """With ``DATAOPS_SIMULATOR_TOKEN``, the token that changing the simulator asks for, in a file
    only the owner reads (a class server gives each learner's simulator its learner's)."""
    token_file = paths.data / "simulator" / "control_token"
    if s.simulator_token is None:
        token_file.unlink(missing_ok=True)
        return []
    write_private(token_file, s.simulator_token.get_secret_value())
    return ["--control-token-file", str(token_file)]


def lean_start(module: str) -> list[str]:
    """``python`` arguments that run ``module``'s ``main`` in the lean start (:data:`LEAN_SIMULATOR`)."""
    return ["-c", LEAN_SIMULATOR.format(folder=str(Path(__file__).resolve().parents[1]), module=module)]


def _simulator_cmd(s: Settings, paths: StatePaths) -> list[str]:
    start = lean_start("dataops.simulator.cli") if s.low_memory else ["-m", "dataops.simulator"]
    return [sys.executable, *start, *simulator_args(s, paths)]


def simulator_args(s: Settings, paths: StatePaths) -> list[str]:
    """The arguments of ``python -m dataops.simulator`` for the simulator of ``s`` (its served log, its
    token's file and its keys' under ``paths``; those files are written here)."""
    (paths.data / "simulator").mkdir(parents=True, exist_ok=True)
    return [
        "--host", s.host,
        "--port", str(s.simulator_port),
        "--seed", str(s.simulator_seed),
        "--refresh-s", str(s.simulator_refresh_s),
        "--coins", ",".join(s.coins),
        "--log", str(paths.data / "simulator" / "served.jsonl"),
        "--log-max-mb", str(s.log_max_mb),
        "--log-backups", str(s.log_backups),
        *_strict_args(s, paths),
        *_control_args(s, paths),
    ]  # fmt: skip


def _simulator_healthy(s: Settings) -> bool:
    return http_ok(f"{s.simulator_url}/_sim/health")


def components(s: Settings) -> list[Component]:
    """The simulator, as a component of the local stack."""
    return [
        Component(
            "simulator",
            s.simulator_port,
            (s.simulator_port,),
            s.simulator_url,
            _simulator_cmd,
            _simulator_healthy,
            start_timeout=20,
            after=(),
        ),
    ]
