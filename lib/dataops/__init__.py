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
from dataops.monitor import Monitor, start_monitoring
from dataops.panel import fault_panel
from dataops.pipeline import Pipeline, connect

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
