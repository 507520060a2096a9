"""Running the monitor: as the course starts it from a notebook, or as the stack component
(sample forever, serve ``/metrics`` in Prometheus text format)."""

from __future__ import annotations

import argparse
import atexit
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterable

import requests

from dataops.config import Settings, load_settings
from dataops.metrics import MetricsStore, prometheus_text
from dataops.monitor.sampler import Monitor

logger = logging.getLogger(__name__)


def start_monitoring(
    topics: Iterable[str] | None = None, interval_s: float = 5.0, settings: Settings | None = None, dashboard: bool | None = None
) -> Monitor:
    """The course's ``monitor.start_monitoring([...])``: a live dashboard of these topics.

    When the stack's ``monitor`` component is already sampling, the returned monitor
    only reads its store; otherwise it samples in a background thread of this process.
    In a notebook (or with ``dashboard=True``) a live dashboard is shown under the cell and
    redrawn every ``interval_s``; ``monitor.stop()`` ends it (and the sampling), and so does
    the end of the kernel.
    """
    settings = settings or load_settings()
    monitor = Monitor(settings, topics, interval_s)
    try:
        already = requests.get(f"http://{settings.host}:{settings.monitor_port}/metrics", timeout=2).status_code == 200
    except requests.RequestException:
        already = False
    if not already:
        monitor.start()
    if dashboard is None:
        dashboard = _in_kernel()
    if dashboard:
        from dataops.monitor.dashboard import Dashboard

        monitor.dashboard = Dashboard(monitor, topics, interval_s=interval_s).start(display=_in_kernel())
    atexit.register(monitor.stop)
    return monitor


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return getattr(get_ipython(), "kernel", None) is not None


def serve_prometheus(store: MetricsStore, host: str, port: int, max_age_s: float = 60.0) -> ThreadingHTTPServer:
    """Expose the newest samples on ``/metrics`` in Prometheus text format."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server naming
            if self.path.split("?")[0] != "/metrics":
                self.send_error(404, "try /metrics")
                return
            body = prometheus_text(store.latest(max_age_s=max_age_s)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
            return

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="dataops-prometheus", daemon=True).start()
    return server


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Sample the pipeline's metrics; serve them on /metrics.")
    ap.add_argument("--interval", type=float, default=5.0, help="seconds between samples (default 5)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] %(levelname)s %(message)s")
    settings = load_settings()
    monitor = Monitor(settings, interval_s=args.interval)
    serve_prometheus(monitor.store, settings.host, settings.monitor_port)
    logger.info("monitor sampling every %.1f s into %s; Prometheus on :%d/metrics", args.interval, monitor.store.path, settings.monitor_port)
    monitor.run()
    return 0
