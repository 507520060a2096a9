"""The profile switch, in one place: which object serves each layer in each profile.

Like pyiceberg's ``load_catalog`` picks a catalog type from configuration, :func:`build`
picks the object for a layer from ``settings.profile``. Nothing else in the library
branches on the profile to build a layer; a layer a profile does not offer is one clear
line naming what to use instead.

Example::

    register("local", "source", lambda settings, p: SimulatorLayer(settings.simulator_url))
    build(settings, "source", pipeline)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from dataops.config import Settings
from dataops.errors import ConfigError

if TYPE_CHECKING:
    from dataops.pipeline import Pipeline

Builder = Callable[[Settings, "Pipeline"], Any]

PROFILES: tuple[str, ...] = ("local", "confluent")
_REGISTRY: dict[str, dict[str, Builder]] = {profile: {} for profile in PROFILES}
# Why a layer is absent from a profile, and what to do instead.
_ABSENT: dict[tuple[str, str], tuple[str, str]] = {}


def register(profile: str, layer: str, builder: Builder | None = None):
    """Register the builder of ``layer`` in ``profile`` (usable as a decorator)."""
    if profile not in _REGISTRY:
        raise ConfigError(f"unknown profile {profile!r}", f"use one of {', '.join(PROFILES)}")

    def add(fn: Builder) -> Builder:
        _REGISTRY[profile][layer] = fn
        return fn

    return add(builder) if builder is not None else add


def absent(profile: str, layer: str, what: str, hint: str) -> None:
    """Declare that ``profile`` does not offer ``layer``: using it raises ``what: hint``."""
    _ABSENT[(profile, layer)] = (what, hint)


def layers(profile: str) -> list[str]:
    """The layers a profile offers, in registration order."""
    return list(_REGISTRY.get(profile, {}))


def offers(profile: str, layer: str) -> bool:
    """True when ``profile`` has a builder for ``layer``."""
    return layer in _REGISTRY.get(profile, {})


class Unavailable:
    """What :func:`build` returns for a layer the profile does not offer: any use is one clear line."""

    def __init__(self, layer: str, what: str, hint: str) -> None:
        self._layer, self._what, self._hint = layer, what, hint

    def __getattr__(self, name: str) -> Any:
        raise ConfigError(self._what, self._hint)

    def __repr__(self) -> str:
        return f"<{self._layer}: {self._what}>"


def build(settings: Settings, layer: str, pipeline: Pipeline | None = None) -> Any:
    """The object serving ``layer`` in the settings' profile.

    Returns:
        The layer object, or an :class:`Unavailable` whose every use raises a one-line
        :class:`ConfigError` saying what to use instead, when the profile does not offer it.

    Raises:
        ConfigError: ``layer`` is no layer of any profile.
    """
    builder = _REGISTRY.get(settings.profile, {}).get(layer)
    if builder is not None:
        return builder(settings, pipeline)  # type: ignore[arg-type]
    if (settings.profile, layer) in _ABSENT:
        return Unavailable(layer, *_ABSENT[(settings.profile, layer)])
    raise ConfigError(f"the {settings.profile!r} profile has no layer {layer!r}", f"use one of {', '.join(layers(settings.profile))}")


# ---- the two profiles -------------------------------------------------------------------
def _simulator(settings: Settings, p: Pipeline) -> Any:
    from dataops.source.layer import SimulatorLayer

    return SimulatorLayer(settings.simulator_url)


def _kafka(settings: Settings, p: Pipeline) -> Any:
    from dataops.kafka.layer import KafkaLayer

    return KafkaLayer(settings)


def _connect(settings: Settings, p: Pipeline) -> Any:
    from dataops.kafka_connect.layer import ConnectLayer

    return ConnectLayer(settings.connect_url)


def _flink(settings: Settings, p: Pipeline) -> Any:
    from dataops.flink.layer import FlinkLayer

    return FlinkLayer(settings.flink_url, job_name=settings.flink_job_name)


def _iceberg_local(settings: Settings, p: Pipeline) -> Any:
    from dataops.iceberg.layer import IcebergLayer, sql_catalog

    return IcebergLayer(settings, sql_catalog)


def _iceberg_tableflow(settings: Settings, p: Pipeline) -> Any:
    from dataops.iceberg.layer import IcebergLayer, tableflow_catalog

    return IcebergLayer(settings, tableflow_catalog)


def _duck(settings: Settings, p: Pipeline | None) -> Any:
    from dataops.duck.layer import DuckLayer

    return DuckLayer(p.iceberg if p is not None else build(settings, "iceberg"))


def _schema_registry(settings: Settings, p: Pipeline) -> Any:
    from dataops.registry.layer import SchemaRegistryLayer

    return SchemaRegistryLayer(settings)


def _stack(settings: Settings, p: Pipeline) -> Any:
    from dataops.stack import Stack

    return Stack(settings)


for _layer, _builder in (
    ("source", _simulator), ("kafka", _kafka), ("connect", _connect), ("flink", _flink),
    ("iceberg", _iceberg_local), ("duck", _duck), ("stack", _stack),
):  # fmt: skip
    register("local", _layer, _builder)
for _layer, _builder in (("kafka", _kafka), ("iceberg", _iceberg_tableflow), ("schema_registry", _schema_registry)):
    register("confluent", _layer, _builder)

_CLOUD = "use the Confluent Cloud console, or DATAOPS_PROFILE=local for the local pipeline"
absent("confluent", "source", "the CoinGecko simulator is not inspected in the 'confluent' profile", _CLOUD)
absent("confluent", "connect", "Kafka Connect (managed connectors) is not inspected in the 'confluent' profile", _CLOUD)
absent("confluent", "flink", "Flink (Confluent Cloud Flink statements) is not inspected in the 'confluent' profile", _CLOUD)
absent("confluent", "duck", "DuckDB reads the local Iceberg table only",
       "in the confluent profile use p.iceberg.read(name) (pyiceberg over Tableflow's catalog)")  # fmt: skip
absent("confluent", "stack", "the local stack is not used by the 'confluent' profile",
       "set DATAOPS_PROFILE=local to run the pipeline on this machine")  # fmt: skip
absent("local", "schema_registry", "the Schema Registry is a Confluent Cloud service",
       "set DATAOPS_PROFILE=confluent and DATAOPS_SCHEMA_REGISTRY_URL/API_KEY/API_SECRET")  # fmt: skip
