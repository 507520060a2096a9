"""The simulator over HTTP: a threaded server whose handler hands each request to the simulator.

:class:`HTTPServing` is one part of :class:`~dataops.simulator.server.Simulator` (which
inherits it): :meth:`~HTTPServing.serve` starts the server; each request is read off the
socket, answered by the simulator's pure request handling, held for an active ``latency``
fault outside the simulator's lock, written back and recorded in the served log.
"""

from __future__ import annotations

import errno
import logging
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from dataops.errors import PortInUseError
from dataops.simulator.outcome import Outcome, json_outcome

# The simulator's log lines keep the logger name they had before the HTTP side moved here.
logger = logging.getLogger("dataops.simulator.server")

__all__ = ["HTTPServing"]


class HTTPServing:
    """Serving the simulator from a daemon thread (see :meth:`serve`)."""

    # The simulator's state, set by its __init__.
    coins: list[str]
    _clock: Callable[[], float]

    def _process(self, method: str, path: str, query: str, body: bytes, headers: Mapping[str, str]) -> Outcome:
        """Answer one request (the simulator's)."""
        raise NotImplementedError

    def _record(self, outcome: Outcome, ts: float, latency_ms: float) -> None:
        """Append an answer to the served log (the simulator's)."""
        raise NotImplementedError

    # -- HTTP server ------------------------------------------------------

    def _serve_one(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        started = time.perf_counter()
        path, _, query = handler.path.partition("?")
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length > 0 else b""
        try:
            outcome = self._process(method, path, query, body, dict(handler.headers.items()))
        except Exception:  # noqa: BLE001 - a bug must not kill the server thread
            logger.exception("simulator failed on %s %s", method, path)
            outcome = json_outcome(500, {"error": "internal simulator error"})
        if outcome.delay_s > 0:
            time.sleep(outcome.delay_s)  # outside the lock: other requests keep flowing
        if outcome.record:  # before the answer leaves: a client that reads the log next finds it there
            self._record(outcome, ts=self._clock(), latency_ms=(time.perf_counter() - started) * 1000.0)
        try:
            handler.send_response(outcome.status)
            for key, value in outcome.headers.items():
                handler.send_header(key, value)
            handler.send_header("Content-Length", str(len(outcome.body)))
            handler.end_headers()
            handler.wfile.write(outcome.body)
            handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            logger.info("client went away before %s %s was answered", method, path)

    def serve(self, host: str = "127.0.0.1", port: int = 8090) -> ThreadingHTTPServer:
        """Serve over HTTP from a daemon thread.

        Args:
            host: Interface to bind.
            port: TCP port (0 picks a free one; read ``server.server_address``).

        Returns:
            The running server; call ``.shutdown()`` then ``.server_close()`` to stop it.

        Raises:
            PortInUseError: The port is taken.
        """
        handler = type("SimulatorHandler", (_Handler,), {"simulator": self})
        try:
            server = ThreadingHTTPServer((host, port), handler)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUseError("el simulador de CoinGecko", port) from None
            raise
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, name=f"simulator-{port}", daemon=True)
        thread.start()
        logger.info("simulator serving %s on http://%s:%d", ",".join(self.coins), host, server.server_address[1])
        return server


class _Handler(BaseHTTPRequestHandler):
    simulator: HTTPServing
    server_version = "dataops-simulator/1.0"

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self.simulator._serve_one(self, "GET")

    def do_POST(self) -> None:  # noqa: N802
        self.simulator._serve_one(self, "POST")

    def do_DELETE(self) -> None:  # noqa: N802
        self.simulator._serve_one(self, "DELETE")

    def do_PUT(self) -> None:  # noqa: N802
        self.simulator._serve_one(self, "PUT")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
        # Only the request line, never headers (API keys may travel in them).
        logger.debug("%s %s", self.address_string(), format % args)
