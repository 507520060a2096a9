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


class NotOfferedError(ConfigError):
    """A layer or call the profile does not offer (the cloud runs it for you, or only the local stack
    has it). In a notebook, the cell that meets one says so in one line and the notebook goes on
    (:mod:`dataops.cells`); elsewhere it is an error like any other."""


class UsageError(ConfigError):
    """A command line the ``dataops`` parser refuses (an unknown option, a value of the wrong kind)."""


class ToolMissingError(DataOpsError):
    """A program the stack needs (java, mvn) is not installed."""


class PortInUseError(DataOpsError):
    """A fixed port of the stack is taken by a process the stack did not start."""

    def __init__(self, component: str, port: int) -> None:
        self.component = component
        self.port = port
        super().__init__(
            f"el puerto {port} que necesita {component} ya está en uso",
            f"para el proceso que escucha en {port} (p. ej. `lsof -i :{port}`) o ejecuta `make down`",
        )


class ServiceUnavailableError(DataOpsError):
    """A layer of the pipeline cannot be reached."""

    def __init__(self, component: str, address: str, hint: str | None = None) -> None:
        self.component = component
        self.address = address
        super().__init__(
            f"{component} no responde en {address}",
            hint or "arranca el pipeline local con `make up` (o `dataops up`)",
        )


class HTTPError(DataOpsError):
    """A layer's REST API answered with an error status.

    Attributes:
        component: Who answered ("Kafka Connect", "Flink", …).
        status: The HTTP status code.
        method: The request's method.
        path: The request's path.
    """

    def __init__(self, component: str, status: int, method: str, path: str, detail: str = "", hint: str | None = None) -> None:
        self.component = component
        self.status = status
        self.method = method
        self.path = path
        super().__init__(f"{component} respondió {status} a {method} {path}" + (f": {detail}" if detail else ""), hint)


class RefusedError(DataOpsError):
    """A class server's front refused a learner's request (one line; ``status``: the HTTP status it answers)."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


class StackError(DataOpsError):
    """A component of the local stack failed to start or to be set up."""


class DiskFullError(StackError):
    """A disk of the state folder is full: the engines cannot write until space is freed."""


class CheckpointError(StackError):
    """The Flink job cannot resume from its newest checkpoint, and no older position is exact.

    Attributes:
        checkpoint: The ``chk-N`` folder that could not be used.
    """

    def __init__(self, message: str, hint: str | None = None, checkpoint: str = "") -> None:
        self.checkpoint = checkpoint
        super().__init__(message, hint)


class TableNotFoundError(DataOpsError, LookupError):
    """An Iceberg table (or its catalog) that does not exist yet."""


class UnknownFaultError(DataOpsError, ValueError):
    """A fault name the simulator does not know."""


class UnknownCoinError(DataOpsError, ValueError):
    """A coin id the simulator does not serve."""


class SuiteError(ConfigError):
    """A quality suite (YAML) or one of its schemas is malformed."""


class SchemaError(DataOpsError):
    """A JSON schema uses a keyword the small validator does not implement."""


class AlertConfigError(ConfigError):
    """A rules or levels file (or a :class:`~dataops.alerts.Rule`) is invalid."""


class AlertDeliveryError(DataOpsError):
    """A notifier could not deliver an alert."""


class ScenarioError(ConfigError):
    """A scenario file is missing or malformed, or a replay cannot run."""


class BadRequestError(DataOpsError):
    """A control-API request the simulator refuses; it answers 400 with ``message`` and ``kind``."""

    def __init__(self, message: str, kind: str = "invalid_request") -> None:
        self.kind = kind
        super().__init__(message)


class DeclarationError(ConfigError):
    """The pipeline declaration (``data/pipeline/pipeline.yaml`` or an extension) is invalid."""


class UndecodableError(DataOpsError):
    """One message in the Avro wire format that cannot be read: its schema id is not in the registry, or
    its body does not decode with that schema. A reader of a topic shows it and goes on (the explode job
    sends it to the dead letters as ``undecodable_avro``) rather than stopping at it."""


class SchemaRejectedError(DataOpsError):
    """A Schema Registry refused a schema: incompatible with the subject's rule, or invalid.

    Attributes:
        subject: The subject it was registered under.
        verdict: The registry's own reason, as it gave it.
        status: The HTTP status (409 incompatible, 422 invalid).
    """

    def __init__(self, subject: str, verdict: str, status: int, hint: str | None = None) -> None:
        self.subject = subject
        self.verdict = verdict
        self.status = status
        kind = "incompatible" if status == 409 else "no válido"
        super().__init__(f"el Schema Registry rechazó el esquema de {subject} ({kind}): {verdict}", hint)
