"""The dead letters: by reason, export and replay (:mod:`.layer`), their sub-commands (:mod:`.cli`)."""

from dataops.dlq.layer import DeadLetters

__all__ = ["DeadLetters"]
