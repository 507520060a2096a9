"""Running the monitor: as the course starts it from a notebook, or as the stack component
(sample forever, serve ``/metrics`` with prometheus_client)."""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import sys
import threading
from typing import Any, Callable, Iterable
from wsgiref.simple_server import WSGIServer

import requests
from prometheus_client import start_http_server

from dataops import subproc
from dataops.classroom.namespace import resolve
from dataops.config import Settings, load_settings
from dataops.errors import DataOpsError
from dataops.metrics import MetricsStore
from dataops.metrics_export import prometheus_registry
from dataops.monitor.scheduler import Monitor

logger = logging.getLogger(__name__)


def start_monitoring(
    topics: Iterable[str] | None = None, interval_s: float = 5.0, settings: Settings | None = None, dashboard: bool | None = None
) -> Monitor:
    """The course's call, ``monitor = dataops.start_monitoring([...])`` (the same function as
    ``dataops.monitor.start_monitoring``): a live dashboard of these topics.

    When the stack's ``monitor`` component is already sampling, the returned monitor
    only reads its store; otherwise it samples in a background thread of this process.
    In a notebook (or with ``dashboard=True``) a live dashboard is shown under the cell and
    redrawn every ``interval_s``; ``monitor.stop()`` ends it (and the sampling), and so does
    the end of the kernel.
    """
    settings = settings or load_settings()
    topics = [resolve(settings, t) for t in topics] if topics else topics  # in a class, the learner's
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


def serve_prometheus(store: MetricsStore, host: str, port: int, max_age_s: float = 60.0) -> WSGIServer:
    """Expose the newest samples (not older than ``max_age_s``) on ``/metrics``, read at each scrape.

    prometheus_client serves them as text 0.0.4, or OpenMetrics when the scraper asks for it,
    from a background thread; ``server.shutdown()`` stops it.
    """
    server, _ = start_http_server(port, addr=host, registry=prometheus_registry(lambda: store.latest(max_age_s=max_age_s)))
    return server


def maintain_forever(settings: Settings, stop: threading.Event) -> None:
    """``dataops maintain`` on the table every ``maintenance_interval_s``, beside the sampling;
    a failed pass is one logged line, and the next pass runs."""
    from dataops.iceberg import maintenance

    if not settings.runs.maintains_table:
        return  # Tableflow maintains its own tables
    layer = settings.runs.build("iceberg", settings)
    while not stop.wait(settings.maintenance_interval_s):
        try:
            if settings.low_memory:
                _maintain_in_child(settings)
            else:
                maintenance.maintain(layer)
        except Exception as exc:  # noqa: BLE001 - the table may not exist yet, or the catalog be busy
            logger.warning("table maintenance skipped: %s", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


def heal_forever(settings: Settings, stop: threading.Event, every_s: float = 5.0) -> None:
    """Restart the pipeline's connectors when a task died of a passing Kafka error (a laptop that
    slept: :mod:`dataops.kafka_connect.heal`); a look that fails is one logged line, and the next runs."""
    from dataops.kafka_connect.heal import Healer

    if "connector" not in settings.runs.manages or "connect" not in settings.runs.builders:
        return  # the connectors are managed elsewhere
    progress = {}
    if "kafka" in settings.runs.builders:
        progress[settings.iceberg_connector_name] = _sink_progress(settings.runs.build("kafka", settings), settings)
    from dataops.stack import disk

    room = (lambda: disk.full_line(settings.state_dir) is None) if settings.runs.runs_stack else None
    healer = Healer(settings.runs.build("connect", settings), [settings.connector_name, settings.iceberg_connector_name],
                    progress=progress, has_room=room)  # fmt: skip
    while not stop.wait(every_s):
        try:
            healer.check()
        except Exception as exc:  # noqa: BLE001 - Connect down or restarting: `up` and the alerts say so
            logger.info("connector check skipped: %s", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


def _sink_progress(kafka: Any, settings: Settings) -> Callable[[], tuple[int, int]]:
    """The Iceberg sink's offsets committed on the exploded topic (summed) and the records waiting
    beyond them (a partition's last offset may be a transaction marker, which is not a record)."""

    def progress() -> tuple[int, int]:
        ends = kafka.end_offsets(settings.topic_exploded)
        try:
            groups = kafka.consumer_groups(settings.iceberg_sink_group)
        except DataOpsError:  # Connect creates the group at the sink's first table commit
            groups = None
        if groups is not None:
            groups = groups[groups["topic"] == resolve(settings, settings.topic_exploded)]
        committed = {} if groups is None else dict(zip(groups["partition"], groups["committed"]))
        waiting = sum(max(end - committed.get(part, 0) - 1, 0) for part, end in ends.items())
        return int(sum(committed.values())), waiting

    return progress


def _maintain_in_child(settings: Settings) -> None:
    """One pass as ``dataops maintain`` in a child process (the low-memory mode): what compaction
    allocates (pyiceberg's manifests, Arrow's pool; 150 MB for 200,000 rows) is given back when the
    child exits, instead of staying in the monitor for the rest of the day."""
    out = subproc.run([sys.executable, "-m", "dataops.cli", "maintain"], "el mantenimiento de la tabla", "mira `dataops logs monitor`",
                      1800, capture_output=True, text=True, env={**os.environ, **settings.as_env()})  # fmt: skip
    if out.returncode != 0:
        said = (out.stderr or out.stdout).strip().splitlines()
        raise RuntimeError(said[-1] if said else f"`dataops maintain` terminó con el código {out.returncode}")
    logger.info("maintenance of the table (child process): %s", "; ".join(" ".join(line.split()) for line in out.stdout.splitlines()[1:]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Sample the pipeline's metrics; serve them on /metrics.")
    ap.add_argument("--interval", type=float, default=5.0, help="seconds between samples (default 5)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] %(levelname)s %(message)s")
    settings = load_settings()
    monitor = Monitor(settings, interval_s=args.interval)
    serve_prometheus(monitor.store, settings.host, settings.monitor_port)
    if settings.maintenance_interval_s:
        threading.Thread(target=maintain_forever, args=(settings, monitor._stop), name="dataops-maintenance", daemon=True).start()
    threading.Thread(target=heal_forever, args=(settings, monitor._stop), name="dataops-heal", daemon=True).start()
    logger.info("monitor sampling every %.1f s into %s; Prometheus on :%d/metrics", args.interval, monitor.store.path, settings.monitor_port)
    monitor.run()
    return 0
