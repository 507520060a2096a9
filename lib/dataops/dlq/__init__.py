"""The dead letters: by reason, export and replay (:mod:`.layer`), their sub-commands (:mod:`.cli`)."""

from dataops.dlq.layer import DeadLetters
from dataops.dlq.protocol import DeadLetterQueue

__all__ = ["DeadLetterQueue", "DeadLetters"]
