"""Helper library of the crypto DataOps workshop.

Typical use in a notebook::

    import dataops
    p = dataops.connect()      # profile from DATAOPS_PROFILE / .env, default "local"
    p.up()                     # start or attach to the local pipeline
    p.status()
"""

from dataops.config import Settings, load_settings
from dataops.profiles import classroom as _classroom, confluent as _confluent, local as _local, standin as _standin  # noqa: F401 - the registrations
from dataops.errors import (
    ConfigError,
    DataOpsError,
    HTTPError,
    PortInUseError,
    ServiceUnavailableError,
    StackError,
    ToolMissingError,
    UnknownCoinError,
    UnknownFaultError,
)

# The pipeline, the monitor and the panel load pandas, pyarrow and the layers' clients: imported on
# first use (``dataops.connect``), so a process that only needs the settings or a submodule (the
# simulator, a CLI command that reads a file) starts without them.
_LAZY = {"Pipeline": "dataops.pipeline", "connect": "dataops.pipeline", "Monitor": "dataops.monitor",
         "start_monitoring": "dataops.monitor", "fault_panel": "dataops.panel"}  # fmt: skip


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"dataops no tiene ningún nombre {name!r}: dir(dataops) los lista")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))

__all__ = [
    "ConfigError",
    "Monitor",
    "DataOpsError",
    "HTTPError",
    "Pipeline",
    "PortInUseError",
    "ServiceUnavailableError",
    "Settings",
    "StackError",
    "ToolMissingError",
    "UnknownCoinError",
    "UnknownFaultError",
    "connect",
    "fault_panel",
    "load_settings",
    "start_monitoring",
]
