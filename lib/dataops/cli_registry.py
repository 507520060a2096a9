"""One way for every package to add sub-commands to the ``dataops`` command.

A package that contributes commands has a ``cli`` module (``dataops/<package>/cli.py``) with one
function of one signature::

    def add_commands(sub: SubParsers) -> None:
        p = sub.add_parser("maintain", help="…")
        p.add_argument("--table", help="…")
        p.set_defaults(func=cmd_maintain)

and each command is a module-level function of one signature, :data:`Command`::

    def cmd_maintain(args: argparse.Namespace, ctx: CliContext) -> int:
        ctx.print_frame(maintain(ctx.pipeline(args).iceberg, args.table))
        return 0

:mod:`dataops.cli` lists those modules, lets each add its commands and calls the chosen one with
the parsed arguments and a :class:`CliContext`: the few things a command needs from the entry
point (the pipeline of the chosen profile, how to print a table). So no package imports
:mod:`dataops.cli` or the pipeline facade above it, and a test can hand a command a fake context.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Protocol

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CliContext", "Command", "CommandModule", "SubParsers", "non_negative_int", "non_negative_seconds", "percent", "positive",
           "positive_int", "print_frame"]

# What ``ArgumentParser.add_subparsers`` returns: the ``sub`` every ``add_commands`` receives.
if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]  # argparse's only handle on it is that return value
else:
    SubParsers = argparse._SubParsersAction


def print_frame(df: pd.DataFrame) -> None:
    """A table on the terminal: every column, 200 characters wide, no index."""
    import pandas as pd

    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.max_colwidth", 80):
        print(df.to_string(index=False))


@dataclass(frozen=True)
class CliContext:
    """What a command gets besides its arguments.

    ``connect`` is :func:`dataops.pipeline.connect` (keyword arguments ``profile``, ``env_file``);
    it is passed in because the facade sits above every package that registers commands. The
    pipeline it returns is typed ``Any`` for the same reason: no module here may name it.
    """

    connect: Callable[..., Any]
    print_frame: Callable[[pd.DataFrame], None] = print_frame

    def pipeline(self, args: argparse.Namespace, **overrides: Any) -> Any:
        """The pipeline of the profile the command line chose (``--profile``, else the settings'),
        with ``overrides`` of settings the command's own options set (``up --low-memory``)."""
        return self.connect(profile=args.profile, **overrides)


# Every command: the parsed arguments and the context in, the exit status out.
Command = Callable[[argparse.Namespace, CliContext], int]


class CommandModule(Protocol):
    """A module that contributes commands: its ``add_commands(sub)`` adds them to ``sub``, each
    parser's ``func`` default a :data:`Command`."""

    def add_commands(self, sub: SubParsers) -> None: ...


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} no es un número") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} no es un número finito (NaN, Infinity y 1e999 no lo son)")
    return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} no es un número entero") from None


def positive(text: str) -> float:
    """An argument type: a finite number greater than 0."""
    value = _number(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} debe ser mayor que 0")
    return value


def non_negative_seconds(text: str) -> float:
    """An argument type: a finite number of seconds, 0 or more."""
    value = _number(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text} debe ser un número de segundos >= 0")
    return value


def positive_int(text: str) -> int:
    """An argument type: a whole number greater than 0."""
    value = _integer(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} debe ser mayor que 0")
    return value


def non_negative_int(text: str) -> int:
    """An argument type: a whole number, 0 or more."""
    value = _integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} debe ser 0 o más")
    return value


def percent(text: str) -> float:
    """An argument type: a percentage, from 0 to 100."""
    value = _number(text)
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{text} no es un porcentaje de 0 a 100")
    return value
