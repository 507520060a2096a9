"""Alerts on the live pipeline: an injected API outage fires api_failure (CRITICAL) and resolves."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dataops.alerts import AlertManager, LogFileNotifier, WebhookNotifier, evaluate, load_rules
from tests.integration.helpers import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture()
def receiver():
    """A local HTTP receiver standing in for the phone/SMS escalation webhook."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()


def test_outage_fires_api_failure_critical_within_60s_and_resolves(pipeline, receiver, tmp_path):
    url, received = receiver
    # The course's rule, with a 60-s window instead of 5 min so that recovery shows within the test.
    rule = dataclasses.replace(next(r for r in load_rules() if r.name == "api_failure"), window_s=60)
    manager = AlertManager(notifiers=[WebhookNotifier(url, name="llamada-sms"), LogFileNotifier(tmp_path / "alerts.jsonl")])

    def step():
        results = evaluate([rule], pipeline.metrics("api_error_rate", minutes=5), now=time.time())
        return manager.process(results)

    step()
    assert manager.active().empty, "api_failure already firing before the outage"
    started = time.time()
    pipeline.source.inject_fault("outage", duration_s=20)

    def fired():
        events = step()
        return events[events["kind"] == "fired"] if len(events) else None

    events = wait_for(fired, 60, "api_failure to fire")
    assert time.time() - started <= 60
    event = events.iloc[0]
    assert event["rule"] == "api_failure" and event["severity"] == "CRITICAL"
    assert any(b["alert"]["rule"] == "api_failure" for b in received), "the escalation webhook got nothing"
    assert "webhook:llamada-sms" in manager.channels("CRITICAL")

    def resolved():
        events = step()
        return events[events["kind"] == "resolved"] if len(events) else None

    wait_for(resolved, 120, "api_failure to resolve after recovery", step=2)
    assert manager.active().empty
    lines = [json.loads(line) for line in (tmp_path / "alerts.jsonl").read_text().splitlines()]
    assert [entry.get("kind") for entry in lines if entry.get("rule") == "api_failure"][:2] == ["fired", "resolved"]
