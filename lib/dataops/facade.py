"""What code below the :class:`~dataops.pipeline.Pipeline` may use of it: its settings and its layers.

The pipeline as code (:mod:`dataops.automation`) and the quality runs (:mod:`dataops.quality`) sit
below the facade, so they cannot name :class:`~dataops.pipeline.Pipeline`; they take a
:class:`Layers` instead, which every ``Pipeline`` is. Code above the facade (the course, the panel)
takes the ``Pipeline`` itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from dataops.config import Settings
from dataops.profiles.base import Profile

# The layers' protocols are annotations only: importing them at run time would load pandas,
# requests and pyarrow into every process that reads the settings (the simulator's among them).
if TYPE_CHECKING:
    from dataops.duck.protocol import Duck
    from dataops.flink.protocol import Flink
    from dataops.iceberg.protocol import Iceberg
    from dataops.kafka.protocol import Kafka
    from dataops.kafka_connect.protocol import Connect
    from dataops.source.protocol import Source

__all__ = ["Layers"]


class Layers(Protocol):
    """The settings, the profile and one typed attribute per layer (a :class:`dataops.Pipeline` is one)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def profile(self) -> Profile: ...

    @property
    def source(self) -> Source: ...

    @property
    def kafka(self) -> Kafka: ...

    @property
    def connect(self) -> Connect: ...

    @property
    def flink(self) -> Flink: ...

    @property
    def iceberg(self) -> Iceberg: ...

    @property
    def duck(self) -> Duck: ...
