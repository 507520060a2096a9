"""The class's roster: the instructor's YAML file of learners.

Example (``class.yaml``)::

    learners: [ana, bruno, carla]

Each name is a learner's user name on the server (:data:`~dataops.config.LEARNER_PATTERN`: lower
case, digits and ``_``, no dot, since ``<learner>.`` prefixes everything of theirs). Names that a
server keeps for itself (``admin``) are refused, and so is a name given twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from dataops.config import LEARNER_PATTERN
from dataops.errors import ConfigError
from dataops.userfiles import read_text

RESERVED = frozenset({"admin", "root", "instructor", "dataops"})


@dataclass(frozen=True)
class Roster:
    """The learners of one class, in the roster's order."""

    learners: tuple[str, ...]

    def __contains__(self, learner: object) -> bool:
        return learner in self.learners

    def require(self, learner: str) -> str:
        """``learner``, when on the roster.

        Raises:
            ConfigError: Not on it (one line listing who is).
        """
        if learner not in self.learners:
            raise ConfigError(f"'{learner}' no está en la lista de la clase", f"alumnos: {', '.join(self.learners)}")
        return learner


def parse(data: object, where: str) -> Roster:
    """The roster in ``data`` (a YAML document already read; ``where`` names it in errors).

    Raises:
        ConfigError: Not a mapping with a ``learners`` list, or a name that is not a user name,
            reserved or given twice (one line naming it).
    """
    hint = f"escribe en {where} `learners: [ana, bruno]` (usuarios en minúscula, sin puntos)"
    if not isinstance(data, dict) or not isinstance(data.get("learners"), list) or not data["learners"]:
        raise ConfigError(f"{where} no tiene una lista `learners` con algún alumno", hint)
    seen: list[str] = []
    for i, name in enumerate(data["learners"], 1):
        if not isinstance(name, str) or not re.fullmatch(LEARNER_PATTERN, name):
            raise ConfigError(f"{where}: el alumno {i} ({name!r}) no es un nombre de usuario válido", hint)
        if name in RESERVED:
            raise ConfigError(f"{where}: '{name}' es un nombre reservado del servidor", "elige otro usuario para ese alumno")
        if name in seen:
            raise ConfigError(f"{where}: '{name}' aparece dos veces", "deja una sola entrada por alumno")
        seen.append(name)
    return Roster(tuple(seen))


def load(path: Path) -> Roster:
    """The roster in the YAML file ``path``.

    Raises:
        ConfigError: Missing, unreadable or invalid (one line, see :func:`parse`).
    """
    import yaml

    text = read_text(path, "la lista de la clase", empty_hint="escribe en ella `learners: [ana, bruno]`")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", -1) + 1
        raise ConfigError(f"la lista de la clase {path} línea {line} no es YAML válido", "corrige esa línea") from None
    return parse(data, str(path))
