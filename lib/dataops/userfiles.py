"""Reading a file the user named (a rules file, a suite, a declaration, a scenario, a workflow…).

Whatever is wrong with it, missing, a folder, unreadable, not UTF-8 text, empty, is one
:class:`~dataops.errors.DataOpsError` line that names the file and says what to do, never a
``UnicodeDecodeError`` without the file's name.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from dataops.errors import ConfigError, DataOpsError

__all__ = ["read_json", "read_record", "read_text"]


def read_text(
    path: str | Path,
    what: str,
    error: type[DataOpsError] = ConfigError,
    hint: str | None = None,
    empty_hint: str | None = None,
) -> str:
    """The text of ``path``, decoded as UTF-8 (newlines as ``\\n``).

    Args:
        path: The file.
        what: What the file is, for the message ("alert rules", "quality suite"…).
        error: The error class raised.
        hint: What to do when the file cannot be read (default: check the path).
        empty_hint: When given, an empty (or blank) file is refused with this hint.

    Raises:
        DataOpsError: ``error``, one line naming the file and the fix.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise error(f"{what} {path} no existe", hint or "revisa la ruta (una relativa parte de la carpeta actual)") from None
    except IsADirectoryError:
        raise error(f"{what} {path} es una carpeta, no un fichero", hint or "da la ruta del propio fichero") from None
    except OSError as exc:
        raise error(f"no se puede leer {what} {path} ({exc.strerror or type(exc).__name__})", hint or "revisa los permisos del fichero") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise error(f"{what} {path} línea {line} no es texto UTF-8", "guarda el fichero como UTF-8 (o vuelve a escribir esa línea)") from None
    if empty_hint is not None and not text.strip():
        raise error(f"{what} {path} no tiene contenido", empty_hint)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_json(path: str | Path, what: str, error: type[DataOpsError] = ConfigError, hint: str | None = None) -> Any:
    """The JSON document in ``path``: :func:`read_text`'s errors, an empty file, or JSON that does
    not parse (with its line) as one ``error`` line."""
    text = read_text(path, what, error, empty_hint=hint or "da un fichero que no esté vacío")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{what} {path} línea {exc.lineno} no es JSON válido ({exc.msg})", hint or "corrige esa línea o da otro fichero") from None


def read_record(path: str | Path) -> dict | None:
    """A small JSON object a process wrote (a pid file), read once; None unless ``path`` is a regular
    file holding one. A FIFO would block the read and a link could name anything: on a class server
    the file's owner may not be the one who reads it."""
    try:  # missing, or no folder to hold it (a state folder under a file)
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        data = os.read(fd, 1 << 16) if stat.S_ISREG(os.fstat(fd).st_mode) else b""
    except OSError:
        data = b""
    finally:
        os.close(fd)
    try:
        record = json.loads(data)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None
