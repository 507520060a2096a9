"""The cases a self-check judges on: the hidden grading cases in the instructor's edition
(:mod:`dataops.course.hidden`), the block's visible formative cases in the learner's edition,
where ``dataops release`` has left the hidden package out.

In the instructor's edition nothing changes: the self-checks, the grader and the mutation run
judge on the hidden cases. A learner's self-check judges on a few practice cases and says that
the final grade uses other ones.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any, Callable

# What a learner's self-check adds under its verdict when it judged on the formative cases.
FORMATIVE_NOTE = "(casos de práctica, a la vista: la nota final usa otros casos, que solo tiene el instructor)"


def hidden(block: str) -> ModuleType | None:
    """``dataops.course.hidden.<block>`` when this edition has it (the instructor's), else None."""
    name = f"dataops.course.hidden.{block}"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name in (name, "dataops.course.hidden"):
            return None
        raise


def pick(block: str, name: str, formative: Callable[[], Any]) -> Any:
    """The hidden cases ``hidden.<block>.<name>()`` when this edition has them, else ``formative()``."""
    module = hidden(block)
    return getattr(module, name)() if module is not None else formative()


def note(block: str) -> str:
    """:data:`FORMATIVE_NOTE` when ``block``'s self-checks judge on formative cases, else ``""``."""
    return "" if hidden(block) is not None else FORMATIVE_NOTE


def label(block: str) -> str:
    """How a self-check names the cases it runs the learner's code on."""
    return "los casos ocultos" if hidden(block) is not None else "los casos de práctica"
