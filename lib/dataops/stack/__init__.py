"""The local stack: real engines started as native processes, no Docker.

One module per concern: :mod:`~dataops.paths` (the state folder, shared with the rest of the library),
:mod:`~dataops.artifacts` (Java, Maven, the jars and Flink),
:mod:`~dataops.stack.engines` (the components in start order, each built by its layer's
``engine`` module on :mod:`~dataops.engine`; Flink's configuration by :mod:`~dataops.flink.conf`)
and :mod:`~dataops.stack.supervisor` (:class:`Stack`: up, down, status, logs).
"""

from dataops.artifacts import artifacts_present, install_artifacts, java_version, require_java
from dataops.engine import Component
from dataops.stack.engines import components
from dataops.flink.conf import flink_conf_dir
from dataops.paths import StatePaths
from dataops.stack.supervisor import Stack

__all__ = [
    "Component",
    "Stack",
    "StatePaths",
    "artifacts_present",
    "components",
    "flink_conf_dir",
    "install_artifacts",
    "java_version",
    "require_java",
]
