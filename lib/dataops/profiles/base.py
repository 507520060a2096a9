"""What a profile is: one registered object that builds the layers and answers every question
the rest of the library would otherwise branch on.

Like pyiceberg's ``load_catalog`` picks a catalog type from configuration, :func:`get` picks the
:class:`Profile` named by ``settings.profile``. Nothing outside :mod:`dataops.profiles` compares
a profile's name: code asks the profile (``profile.runs_stack``, ``"source" in profile.sampled``).
A new way to run the pipeline is one more :func:`register` call, with no change to any layer.

Example::

    register(Profile("local", builders={"kafka": build_kafka, ...}, runs_stack=True, ...))
    get("local").build("kafka", settings, pipeline)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Mapping

from dataops.errors import ConfigError, NotOfferedError

# (settings, pipeline or None) -> the layer object. Typed loosely here: this module sits below
# the settings and the pipeline; the Pipeline's attributes carry each layer's protocol.
Builder = Callable[[Any, Any], Any]
KafkaAuth = Literal["none", "sasl_plain", "sasl_scram"]
#: (security.protocol, SASL mechanism) of each authenticated way: Confluent Cloud's API keys over TLS,
#: and a class server's learners, each a SCRAM user of the shared broker on loopback.
KAFKA_SECURITY: dict[str, tuple[str, str]] = {"sasl_plain": ("SASL_SSL", "PLAIN"), "sasl_scram": ("SASL_PLAINTEXT", "SCRAM-SHA-512")}

#: Every layer a profile may serve, in the order the Pipeline shows them.
LAYERS: tuple[str, ...] = ("source", "kafka", "connect", "flink", "iceberg", "duck", "schema_registry", "stack")
#: What the monitor can sample, one sampler per area.
SAMPLED: tuple[str, ...] = ("source", "connect", "kafka", "flink", "rows", "iceberg", "resources")
#: The resources ``plan``/``apply`` know of.
RESOURCES: tuple[str, ...] = ("topic", "connector", "job", "table", "sink")


@dataclass(frozen=True)
class Profile:
    """One way to run the pipeline.

    Attributes:
        name: What ``DATAOPS_PROFILE`` says.
        builders: Layer name -> the function building its object.
        absent: Layer name -> (what, hint) for a layer this profile does not offer.
        runs_stack: The engines run on this machine, started and stopped by ``dataops up/down``.
        kafka_auth: How clients authenticate to Kafka (``none``: the local plaintext broker;
            ``sasl_plain``: API key and secret over SASL_SSL, as Confluent Cloud; ``sasl_scram``:
            a learner's SCRAM user and password on a class server's broker).
        kafka_from_settings: The bootstrap servers come from ``DATAOPS_KAFKA_BOOTSTRAP``
            (a cluster elsewhere), not from the local broker's host and port.
        real_api: The source is the real CoinGecko API (``DATAOPS_COINGECKO_URL``, its key sent
            by the connector), not the local simulator.
        manages: The resource kinds ``plan``/``apply`` create and update; the others are managed
            elsewhere and listed with the command to run.
        sampled: The areas the monitor samples (the rest belong to a cloud service).
        required: Settings this profile cannot run without (checked by ``apply``'s environment step).
        maintains_table: The monitor runs table maintenance (a managed table maintains itself).
        names: settings -> the names this profile gives the pipeline's resources (topics,
            connectors, job, table), each used unless that setting is given explicitly; None: the
            settings' own defaults. A class server's learner gets names under their own prefix.
        sink_catalog: settings -> what the Iceberg sink's config says of its catalog and of its
            coordinator's Kafka (``iceberg.catalog.*``, ``iceberg.kafka.*``); None: whoever runs the
            sink adds them (a class server's front puts in the learner's).
    """

    name: str
    builders: Mapping[str, Builder]
    absent: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    runs_stack: bool = False
    kafka_auth: KafkaAuth = "none"
    kafka_from_settings: bool = False
    real_api: bool = False
    manages: frozenset[str] = frozenset(RESOURCES)
    sampled: tuple[str, ...] = SAMPLED
    required: tuple[str, ...] = ()
    maintains_table: bool = True
    names: Callable[[Any], Mapping[str, Any]] | None = None
    sink_catalog: Callable[[Any], Mapping[str, str]] | None = None

    @property
    def partial(self) -> bool:
        """True when part of the course is not offered here: a layer absent, or the real API, which
        has none of the simulator's faults. A notebook's cells then say so and go on (:mod:`dataops.cells`);
        in a profile offering everything, a cell meeting :class:`NotOfferedError` fails, as any error."""
        return bool(self.absent) or self.real_api

    @property
    def layers(self) -> list[str]:
        """The layers this profile serves, in :data:`LAYERS` order."""
        return [name for name in LAYERS if name in self.builders]

    def build(self, layer: str, settings: Any, pipeline: Any = None) -> Any:
        """The object serving ``layer``.

        Returns:
            The layer object, or an :class:`Unavailable` whose every use raises a one-line
            :class:`ConfigError` saying what to use instead, when the profile does not offer it.

        Raises:
            ConfigError: ``layer`` is no layer of this profile.
        """
        builder = self.builders.get(layer)
        if builder is not None:
            return builder(settings, pipeline)
        if layer in self.absent:
            return Unavailable(layer, *self.absent[layer])
        raise ConfigError(f"el perfil {self.name!r} no tiene la capa {layer!r}", f"elige entre {', '.join(self.layers)}")


class Unavailable:
    """What :meth:`Profile.build` returns for a layer the profile does not offer: any use is one clear line."""

    def __init__(self, layer: str, what: str, hint: str) -> None:
        self._layer, self._what, self._hint = layer, what, hint

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # IPython's and pickle's probes (_repr_html_, __getstate__...) are no use of the layer
            raise AttributeError(name)
        raise NotOfferedError(self._what, self._hint)

    def __repr__(self) -> str:
        return f"<{self._layer}: {self._what}>"


_REGISTRY: dict[str, Profile] = {}


def register(profile: Profile) -> Profile:
    """Add ``profile`` to the registry (a second registration of a name replaces the first)."""
    unknown = set(profile.builders) - set(LAYERS)
    if unknown:
        raise ConfigError(f"el perfil {profile.name!r} construye capas desconocidas {sorted(unknown)}", f"usa capas de {', '.join(LAYERS)}")
    _REGISTRY[profile.name] = profile
    return profile


def names() -> list[str]:
    """The registered profiles' names."""
    return list(_REGISTRY)


def get(name: str) -> Profile:
    """The registered profile called ``name``.

    Raises:
        ConfigError: No profile of that name (one line listing the registered ones).
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(f"perfil desconocido {name!r}", f"pon en DATAOPS_PROFILE uno de estos: {', '.join(_REGISTRY)}") from None
