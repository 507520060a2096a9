"""The Flink layer: the session cluster and its jobs (:mod:`.layer`), the explode job's spec and
submission (:mod:`.job`, :mod:`.submit`, started ahead by :mod:`.prewarm`), its checkpoints (:mod:`.checkpoints`), the engine's
configuration (:mod:`.conf`) and local start (:mod:`.engine`)."""

from dataops.flink.layer import FlinkLayer
from dataops.flink.protocol import Flink

__all__ = ["Flink", "FlinkLayer"]
