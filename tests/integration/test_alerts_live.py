"""Alerts on the live pipeline: an injected API outage fires api_failure (CRITICAL) and resolves;
a frozen API fails the frozen_prices quality check and fires stale_data and frozen_prices."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dataops import quality
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


def test_freeze_fails_frozen_prices_and_fires_stale_data(pipeline, tmp_path):
    rules = {r.name: r for r in load_rules()}
    # stale_data waits 45 s instead of the course's 10 min; frozen_prices is the course file's rule.
    watched = [dataclasses.replace(rules["stale_data"], value=45), rules["frozen_prices"]]
    manager = AlertManager(notifiers=[LogFileNotifier(tmp_path / "alerts.jsonl")])
    fired: dict[str, float] = {}

    def step():
        history = pipeline.metrics(["data_freshness", "frozen_coins"], minutes=3)
        events = manager.process(evaluate(watched, history, now=time.time()))
        for rule in events[events["kind"] == "fired"]["rule"] if len(events) else []:
            fired.setdefault(rule, time.time())
        return fired

    wait_for(lambda: pipeline.metrics("frozen_coins", minutes=1).query("value == 0"), 60, "a frozen_coins sample of 0")
    step()
    assert not fired, f"already firing before the freeze: {fired}"
    started = time.time()
    pipeline.source.inject_fault("freeze", duration_s=180)  # every coin, prices and timestamps
    try:
        wait_for(lambda: {"stale_data", "frozen_prices"} <= set(step()), 170, "stale_data and frozen_prices to fire", step=3)
        # The suite sees it too, on the raw topic: the same snapshot for more than max_static_s.
        report = quality.run_on_topic(pipeline.kafka, pipeline.settings.topic_raw, quality.load_suite(), n=40)
        frozen = report.results.set_index("check").loc["raw_frozen_prices"]
        assert not frozen["passed"] and "bitcoin=" in frozen["sample"], report.results.to_dict("records")
        score = pipeline.metrics("quality_score", minutes=1)
        assert len(score) and score["value"].iloc[-1] < 80, "the score did not fall below the HIGH level's 80 %"
    finally:
        pipeline.source.clear_faults()
    assert fired["stale_data"] - started < 120 and fired["frozen_prices"] - started < 150
    logged = {json.loads(line)["rule"] for line in (tmp_path / "alerts.jsonl").read_text().splitlines()}
    assert {"stale_data", "frozen_prices"} <= logged
