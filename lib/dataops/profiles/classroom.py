"""The ``class`` profile: a learner's session on a class server, in their own namespace.

The server's spawner sets ``DATAOPS_PROFILE=class``, ``DATAOPS_LEARNER`` and the learner's Kafka
login (the file ``dataops class up`` writes), so ``dataops.connect()`` in the learner's notebook
picks their namespace by itself: every name of the pipeline under ``<learner>.``
(:func:`dataops.classroom.namespace.names`), Kafka through the class broker as the learner's own
SCRAM user, whose ACLs cover only those names; the source is the learner's own simulator
(:mod:`dataops.classroom.simulators`), whose faults only their token may change; Kafka Connect is
the class's shared worker through its front, which lets them reach their own connectors only
(:mod:`dataops.classroom.front`), with the same token; Flink is the class's cluster through the
same front, which submits their explode job for them; their Iceberg table is in a catalog of their
own, made by the front and read by them (:mod:`dataops.classroom.iceberg`), under DuckDB too; their
samples are the class's monitor service's, logged in as them (:mod:`dataops.classroom.monitors`). The layers not yet kept apart per
learner on the shared engines say so in one line rather than reach another learner's resources.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dataops.classroom.namespace import names
from dataops.config import Settings
from dataops.profiles.base import Profile, register
from dataops.profiles.local import duck, kafka, simulator

# The layers' protocols are annotations only: importing them at run time would load pandas,
# requests and pyarrow into every process that reads the settings (the simulator's among them).
if TYPE_CHECKING:
    from dataops.facade import Layers
    from dataops.flink.protocol import Flink
    from dataops.kafka_connect.protocol import Connect
    from dataops.iceberg.protocol import Iceberg

_NOT_YET = "en el servidor de la clase, {what} todavía no está separado por alumno"
_LAPTOP = "hazlo en tu portátil con el perfil local (DATAOPS_PROFILE=local y `make up`)"

def class_connect(settings: Settings, p: Layers | None) -> Connect:
    """The class's Kafka Connect through its front (:mod:`dataops.classroom.front`), as this learner."""
    from dataops.classroom.clients import ClassConnectLayer

    return ClassConnectLayer(settings)


def class_flink(settings: Settings, p: Layers | None) -> Flink:
    """The class's Flink through the front, as this learner: their own jobs; the front submits their explode job."""
    from dataops.classroom.clients import ClassFlinkLayer

    return ClassFlinkLayer(settings)


def class_iceberg(settings: Settings, p: Layers | None) -> Iceberg:
    """The learner's own catalog, read from their folder; their table made by the front."""
    from dataops.classroom.clients import ClassIcebergLayer

    return ClassIcebergLayer(settings)


def class_stack(settings: Settings, p: Layers | None) -> object:
    """The class's engines as this learner sees them, and their monitor, the class's (:mod:`dataops.classroom.session`)."""
    from dataops.classroom.session import ClassStack

    return ClassStack(settings)


CLASS = register(
    Profile(
        "class",
        builders={"source": simulator, "kafka": kafka, "connect": class_connect, "flink": class_flink, "iceberg": class_iceberg,
                  "duck": duck, "stack": class_stack},  # fmt: skip
        absent={
            "schema_registry": (_NOT_YET.format(what="el Schema Registry"), _LAPTOP),
        },
        kafka_auth="sasl_scram",
        kafka_from_settings=True,
        manages=frozenset({"topic", "connector", "job", "table", "sink"}),
        sampled=("source", "connect", "kafka", "flink", "rows", "iceberg"),  # all but this machine's resources (the server's)
        required=("learner", "kafka_bootstrap", "kafka_api_key", "kafka_api_secret"),
        maintains_table=False,
        names=names,
    )
)
