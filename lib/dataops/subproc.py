"""Child processes with a bound: one that hangs is one line saying which, never a traceback."""

from __future__ import annotations

import subprocess
from typing import Any

from dataops.errors import StackError


def run(cmd: list[str], what: str, hint: str, timeout: float, **kwargs: Any) -> subprocess.CompletedProcess:
    """``subprocess.run`` that turns a time-out into a :class:`StackError` naming ``what``."""
    try:
        return subprocess.run(cmd, timeout=timeout, **kwargs)
    except subprocess.TimeoutExpired:
        raise StackError(f"{what} no terminó en {timeout:.0f} s", hint) from None
    except FileNotFoundError:
        raise StackError(f"{what} no pudo arrancar: falta {cmd[0]}", hint) from None
