"""The Jupyter kernels the course starts headless (papermill, the grader) talk over Unix sockets.

Over TCP, ipykernel warns on every start that its traffic is not encrypted: noise a learner
cannot act on in ``make run``'s log. A local IPC socket (a file only the user can open) is
both quieter and safer; on Windows, which has no IPC transport, kernels keep TCP.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from typing import Any

from jupyter_client.manager import AsyncKernelManager

IPC = os.name == "posix"


def _socket_dir() -> str:
    # Short on purpose: a Unix socket's path must stay under ~100 bytes.
    folder = os.path.join(tempfile.gettempdir(), f"dataops-kernels-{os.getuid()}")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    return folder


class IpcKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels listen on Unix sockets (TCP where there are none)."""

    def __init__(self, **kwargs: Any) -> None:
        if IPC:
            kwargs.setdefault("transport", "ipc")
            kwargs.setdefault("ip", os.path.join(_socket_dir(), uuid.uuid4().hex[:12]))
        super().__init__(**kwargs)


KERNEL_MANAGER = f"{__name__}.IpcKernelManager"  # for traitlets config (nbgrader's ExecutePreprocessor)
