"""A learner at the class hub, as a browser would be: log in, wait for their JupyterLab, run a cell.

Used by the class's tests and ``benchmarks/class.py``; it speaks only HTTP and the Jupyter
kernel protocol over a websocket (Tornado's client), as JupyterLab does.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import requests

from dataops.errors import DataOpsError


class HubSession:
    """One user logged in at the hub on ``base`` (``http://host:port``)."""

    def __init__(self, base: str, user: str) -> None:
        self.base, self.user = base.rstrip("/"), user
        self.http = requests.Session()

    def login(self, password: str) -> int:
        """Log in; the HTTP status of the hub's answer (200 in, 403 refused)."""
        self.http.get(f"{self.base}/hub/login", timeout=10)
        answer = self.http.post(f"{self.base}/hub/login", data={"username": self.user, "password": password,
                                                                "_xsrf": self.http.cookies.get("_xsrf")}, timeout=120)  # fmt: skip
        return answer.status_code

    @property
    def server(self) -> str:
        return f"{self.base}/user/{self.user}"

    def wait_server(self, within: float = 120) -> list[dict[str, Any]]:
        """Wait until the user's server answers (the hub's OAuth done through ``/lab`` first); its files.

        Raises:
            DataOpsError: No answer within ``within`` seconds.
        """
        deadline = time.monotonic() + within
        status = 0
        while time.monotonic() < deadline:
            self.http.get(f"{self.server}/lab", timeout=30)
            answer = self.http.get(f"{self.server}/api/contents", timeout=30)
            status = answer.status_code
            if status == 200:
                return list(answer.json()["content"])
            time.sleep(0.5)
        raise DataOpsError(f"el servidor de {self.user} no respondió en {within:g} s (último estado {status})", "mira el log de class-hub")

    def _xsrf(self) -> dict[str, str]:
        token = next((c.value for c in self.http.cookies if c.name == "_xsrf" and f"/user/{self.user}" in (c.path or "")), None)
        return {"X-XSRFToken": token or self.http.cookies.get("_xsrf") or ""}

    def start_kernel(self) -> str:
        """A new Python kernel in the user's server; its id."""
        answer = self.http.post(f"{self.server}/api/kernels", json={"name": "python3"}, headers=self._xsrf(), timeout=60)
        if answer.status_code != 201:
            raise DataOpsError(f"no se pudo abrir un kernel en el servidor de {self.user}: {answer.status_code}",
                               "entra primero en su servidor (wait_server) o mira el log de class-hub")  # fmt: skip
        return str(answer.json()["id"])

    def execute(self, kernel: str, code: str, timeout: float = 120) -> str:
        """Run ``code`` in ``kernel``; what it printed (stdout and results).

        Raises:
            DataOpsError: The cell raised (its error name and value) or did not finish in time.
        """
        return _execute(self, kernel, code, timeout)

    def shutdown(self, kernel: str) -> None:
        self.http.delete(f"{self.server}/api/kernels/{kernel}", headers=self._xsrf(), timeout=30)

    def run(self, code: str, timeout: float = 120) -> str:
        """Run ``code`` in a new kernel, shut down after; what it printed."""
        kernel = self.start_kernel()
        try:
            return self.execute(kernel, code, timeout)
        finally:
            self.shutdown(kernel)


def _execute(session: HubSession, kernel: str, code: str, timeout: float) -> str:
    import asyncio

    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    url = session.server.replace("http://", "ws://", 1) + f"/api/kernels/{kernel}/channels"
    cookies = "; ".join(f"{c.name}={c.value}" for c in session.http.cookies)
    msg_id = uuid.uuid4().hex
    request = {"header": {"msg_id": msg_id, "username": session.user, "session": uuid.uuid4().hex, "msg_type": "execute_request",
                          "version": "5.3"},
               "parent_header": {}, "metadata": {}, "channel": "shell",
               "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {}, "allow_stdin": False}}  # fmt: skip

    async def talk() -> str:
        ws = await websocket_connect(HTTPRequest(url, headers={"Cookie": cookies, **session._xsrf()}, request_timeout=timeout))
        await ws.write_message(json.dumps(request))
        out: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            raw = await ws.read_message()
            if raw is None:
                break
            msg = json.loads(raw)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                out.append(content["text"])
            elif kind in ("execute_result", "display_data"):
                out.append(content["data"].get("text/plain", ""))
            elif kind == "error":
                ws.close()
                raise DataOpsError(f"la celda falló en el kernel de {session.user}: {content['ename']}: {content['evalue']}", "mira la celda")
            elif kind == "status" and content.get("execution_state") == "idle":
                ws.close()
                return "".join(out)
        ws.close()
        raise DataOpsError(f"la celda no terminó en {timeout:g} s en el kernel de {session.user}", "mira el log de class-hub")

    return asyncio.run(asyncio.wait_for(talk(), timeout + 10))
