"""A test of your own: its type, :class:`CustomTest`, and the decorator that makes one.

The suite holds them (:meth:`~dataops.quality.suite.Suite.with_tests`); :mod:`.custom`
runs them. Kept apart from both so that neither imports the other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

__all__ = ["CustomTest", "as_custom_test", "custom_test"]


@dataclass(frozen=True)
class CustomTest:
    """A learner's (or a team's) test: ``fn(rows) -> failing rows``."""

    name: str
    fn: Callable[[pd.DataFrame], Any]
    message: str = ""
    dataset: str = "exploded_row"

    def __call__(self, rows: pd.DataFrame) -> Any:  # still callable as the plain function it decorates
        return self.fn(rows)


def custom_test(name: str | None = None, message: str = "", dataset: str = "exploded_row") -> Callable[[Callable], CustomTest]:
    """Decorator: make a function of the rows a suite test (see the :mod:`dataops.quality.custom` docstring)."""

    def wrap(fn: Callable[[pd.DataFrame], Any]) -> CustomTest:
        test_name = name or fn.__name__
        return CustomTest(test_name, fn, message or f"Test propio {test_name}: hay filas que no lo cumplen", dataset)

    return wrap


def as_custom_test(test: CustomTest | Callable[[pd.DataFrame], Any]) -> CustomTest:
    """A bare function is registered under its own name."""
    return test if isinstance(test, CustomTest) else custom_test()(test)
