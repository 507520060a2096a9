"""Block 5 against the real stack: the console view, the live dashboard, the fault panel and
`dataops fault clear` (the ETH alerts firing and resolving live run in notebook 05's master)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

import dataops
from dataops.course import block5
from tests.integration.helpers import wait_for

pytestmark = pytest.mark.integration


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dataops.cli", *args], capture_output=True, text=True, timeout=timeout)


def test_the_console_prints_a_line_per_topic_and_round(pipeline):
    out = cli("monitor", "--console", "--count", "2", "--interval", "1")
    assert out.returncode == 0, out.stderr
    lines = [line for line in out.stdout.splitlines() if "mensajes/s" in line]
    assert len(lines) == 4, out.stdout
    assert {line.split("] ")[1].split(":")[0] for line in lines} == {"crypto-prices", "crypto-prices-exploded"}


def test_the_dashboard_refreshes_live_and_leaves_no_thread(pipeline):
    monitor = dataops.start_monitoring(["crypto-prices", "crypto-prices-exploded"], interval_s=0.5, dashboard=True)
    try:
        board = monitor.dashboard
        deadline = time.monotonic() + 30
        while board.refreshes < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert board.refreshes >= 2 and board.errors == 0
        assert set(board.last.health["layer"]) >= {"Fuente", "Kafka", "Flink", "Iceberg"}
        assert board.last.kpis["cobertura (%)"] == 100.0
    finally:
        monitor.stop()
    assert not board.running and block5.threads_left() == []


def test_the_fault_panel_injects_and_clears_on_the_live_simulator(pipeline):
    p = pipeline
    panel = dataops.fault_panel(p, refresh_s=0.2)
    try:
        panel.params["latency"]["delay_s"].value = "0.1"
        panel.duration.value = 30
        panel.buttons["latency"].click()
        active = p.source.faults()
        assert list(active["name"]) == ["latency"] and active["params"].iloc[0] == {"delay_s": 0.1}
        assert "latency" in panel.strip.value
        panel.buttons["clear"].click()
        assert p.source.faults().empty and "1 fallo(s) quitados" in panel.message.value
    finally:
        panel.stop()
        p.source.clear_faults()
    assert "dataops-fault-panel" not in [t.name for t in threading.enumerate()]


def test_fault_clear_on_the_cli(pipeline):
    pipeline.source.inject_fault("latency", duration_s=60, delay_s=0.1)
    out = cli("fault", "clear")
    assert out.returncode == 0 and out.stdout.strip() == "1 fault(s) cleared", out.stdout + out.stderr
    assert pipeline.source.faults().empty


def _status(p, rule_name: str) -> str:
    from dataops import alerts

    rule = next(r for r in alerts.load_rules() if r.name == rule_name)
    return str(alerts.evaluate([rule], p.metrics(minutes=5))["status"].iloc[0])


def test_pipeline_down_is_critical_when_the_sink_stops_and_resolves_after(pipeline):
    p = pipeline
    sink = p.settings.iceberg_connector_name
    p.connect.pause(sink)
    try:
        wait_for(lambda: _status(p, "pipeline_down") == "firing", 120, "pipeline_down to fire")
    finally:
        p.connect.resume(sink)
    wait_for(lambda: _status(p, "pipeline_down") == "ok", 90, "pipeline_down to resolve")


def test_a_killed_monitor_is_reported_not_quiet(pipeline):
    p = pipeline
    p.stack.process("monitor").kill()
    try:
        row = wait_for(lambda: (lambda h: h if h.loc["Monitor", "state"] == "red" else None)(p.health(progress=False).set_index("layer")),
                       90, "the health to report the dead monitor")  # fmt: skip
        assert "dataops up" in row.loc["Monitor", "detail"]
    finally:
        p.up(progress=False)
    wait_for(lambda: p.health(progress=False).set_index("layer").loc["Monitor", "state"] == "green", 60, "the monitor back")


def test_prometheus_fires_the_exported_rule_for_the_same_incident(pipeline):
    import shutil

    from tests.course import answers

    if shutil.which("prometheus") is None:
        pytest.skip("needs the prometheus server (Debian's prometheus package; .ci/run installs it)")
    p = pipeline
    p.stack.up(["prometheus"], progress=False)
    try:
        assert "prometheus" in set(p.status()["component"])
        seen = block5.both_engines(p, answers.ETH_RULES_RIGHT).set_index("motor")["ETH_CRASH disparó tras (s)"]
        assert seen.notna().all() and seen["Prometheus"] <= 60, seen.to_dict()
    finally:
        p.stack.stop("prometheus")
    assert "prometheus" not in set(p.status()["component"])
    assert "dataops up --with prometheus" in block5.both_engines(p, answers.ETH_RULES_RIGHT)
