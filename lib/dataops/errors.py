"""One exception tree for the whole library.

Every message says what to do next (which variable, which command), so a
notebook can show it as one readable line instead of a traceback wall.
"""

from __future__ import annotations


class DataOpsError(Exception):
    """Base of every error raised by :mod:`dataops`.

    Attributes:
        hint: What the user should do about it (already part of ``str(err)``).
    """

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message}: {hint}" if hint else message)


class ConfigError(DataOpsError):
    """Wrong or missing configuration (a variable, a profile, the ``.env`` file)."""


class ToolMissingError(DataOpsError):
    """A program the stack needs (java, mvn) is not installed."""


class PortInUseError(DataOpsError):
    """A fixed port of the stack is taken by a process the stack did not start."""

    def __init__(self, component: str, port: int) -> None:
        self.component = component
        self.port = port
        super().__init__(
            f"port {port} needed by {component} is already in use",
            f"stop the process listening on {port} (e.g. `lsof -i :{port}`) or run `make down`",
        )


class ServiceUnavailableError(DataOpsError):
    """A layer of the pipeline cannot be reached."""

    def __init__(self, component: str, address: str, hint: str | None = None) -> None:
        self.component = component
        self.address = address
        super().__init__(
            f"{component} is not reachable at {address}",
            hint or "start the local pipeline with `make up` (or `dataops up`)",
        )


class StackError(DataOpsError):
    """A component of the local stack failed to start or to be set up."""


class UnknownFaultError(DataOpsError, ValueError):
    """A fault name the simulator does not know."""


class UnknownCoinError(DataOpsError, ValueError):
    """A coin id the simulator does not serve."""
