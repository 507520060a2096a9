"""Block 5's pieces that need no stack: Practice 6's self-check on its hidden histories (the right
answer passes, each known-wrong one gets ✘ where it is wrong), the local Slack webhook, the
dashboard's drawing, the console lines and the fault panel's parameters."""

from __future__ import annotations

import io
import threading
import time

import pandas as pd
import pytest

from dataops import alerts
from dataops.course import block5
from dataops.metrics import MetricsStore, Sample
from dataops.monitor import dashboard
from tests.course import answers

pytestmark = pytest.mark.unit


def test_the_right_eth_rules_pass_every_hidden_case():
    check = block5.check_eth_alerts(answers.ETH_RULES_RIGHT)
    assert check.passed, str(check)
    assert len(check.items) >= 18  # both rules on every hidden history and the clean day


def test_not_done_yet_while_the_answer_is_empty():
    check = block5.check_eth_alerts(None)
    assert not check.done and not check.passed and "sin hacer" in str(check)


@pytest.mark.parametrize("case", answers.ETH_RULES_WRONG)
def test_each_known_wrong_eth_answer_gets_a_cross_where_it_is_wrong(case):
    text, where = answers.ETH_RULES_WRONG[case]
    check = block5.check_eth_alerts(text)
    assert not check.passed
    assert any(where in failed for failed in check.failed), (case, check.failed)
    assert f"✘ {check.exercise}" in str(check)


def test_the_hidden_histories_carry_the_24h_change_the_api_reports():
    history, _ = block5._history("eth-crash")
    eth = history[(history["metric"] == "price_change_24h") & (history["coin"] == "ethereum")]
    assert eth["value"].min() == pytest.approx(-20.0) and eth["value"].iloc[0] > -5


def test_the_webhook_receiver_gets_what_the_notifier_posts():
    event = alerts.AlertEvent("fired", "ETH_CRASH", "HIGH", "price_change_24h", "coin=ethereum", -20.0,
                              pd.Timestamp.now(tz="UTC"), pd.Timestamp.now(tz="UTC"), "ETH cae", "< -15")
    with alerts.WebhookReceiver() as slack:
        assert alerts.WebhookNotifier(slack.url, name="slack").send(event) == 200
        assert slack.wait(1, 5)
        assert slack.messages[0]["alert"]["rule"] == "ETH_CRASH"
        card = slack.cards()
        assert "ETH_CRASH" in card and "HIGH" in card and "dataops-slack" in card
    assert not any(t.name == "dataops-webhook" and t.is_alive() for t in threading.enumerate())


class _FakeMonitor:
    """What the dashboard reads of a monitor: a store, settings, topics."""

    def __init__(self, store, settings):
        self.store, self.settings = store, settings
        self.topics = ["crypto-prices", "crypto-prices-exploded"]

    def latest(self):
        return self.store.latest(max_age_s=60)

    def history(self, metric=None, minutes=15.0):
        return self.store.query(metric, since=time.time() - minutes * 60)


@pytest.fixture
def fake_monitor(tmp_path):
    from dataops.config import load_settings

    store = MetricsStore(tmp_path / "m.db")
    now = time.time()
    store.write([Sample("messages_produced", 12, {"topic": "crypto-prices"}, now - 5),
                 Sample("messages_produced", 3, {"topic": "crypto-prices"}, now),
                 Sample("throughput", 0.5, {"topic": "crypto-prices"}, now),
                 Sample("topic_lag", 7, {"topic": "crypto-prices", "group": "g"}, now),
                 Sample("price", 95000.0, {"coin": "bitcoin"}, now - 10), Sample("price", 200000.0, {"coin": "bitcoin"}, now),
                 Sample("data_freshness", 12.0, {}, now), Sample("quality_score", 100.0, {}, now)])  # fmt: skip
    return _FakeMonitor(store, load_settings())


def test_the_dashboard_draws_counts_rates_lag_and_firing_alerts(fake_monitor):
    board = dashboard.Dashboard(fake_monitor, interval_s=0.05)
    board.since = time.time() - 60
    page = board.refresh()
    topics = board.last.topics.set_index("tópico")
    assert topics.loc["crypto-prices", "mensajes"] == 15 and topics.loc["crypto-prices", "mensajes/s"] == 0.5
    assert topics.loc["crypto-prices", "lag"] == 7 and pd.isna(topics.loc["crypto-prices-exploded", "lag"])
    assert "price_anomaly" in set(board.last.firing["rule"])  # bitcoin at 200k is outside its range
    assert "price_anomaly" in page and "frescura (s): <b>12.0</b>" in page


def test_the_dashboard_refreshes_in_the_background_and_stops_without_a_thread_left(fake_monitor):
    board = dashboard.Dashboard(fake_monitor, interval_s=0.05).start(display=False)
    deadline = time.monotonic() + 10
    while board.refreshes < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    board.stop()
    assert board.refreshes >= 2 and board.errors == 0
    assert not board.running and not any(t.name == "dataops-dashboard" for t in threading.enumerate())


def test_the_console_prints_topic_lines_and_an_alert_line(fake_monitor, tmp_path):
    out = io.StringIO()
    assert dashboard.console(fake_monitor, interval_s=0.01, iterations=2, stream=out, log=tmp_path / "alerts.log", since=0) == 2
    lines = out.getvalue().splitlines()
    assert sum("crypto-prices: 15 mensajes, 0.50 mensajes/s" in line for line in lines) == 2
    alert_lines = [line for line in lines if line.startswith("ALERT ")]
    assert len(alert_lines) == 1 and "price_anomaly" in alert_lines[0]  # once, not on every round
    assert "price_anomaly" in (tmp_path / "alerts.log").read_text()


def test_the_fault_panel_sends_what_its_widgets_say():
    from dataops.panel import FaultPanel

    class _Source:
        def __init__(self):
            self.sent = []

        def inject_fault(self, name, duration_s, **params):
            self.sent.append((name, duration_s, params))
            return {"params": params}

        def clear_faults(self):
            return len(self.sent)

        def faults(self):
            return pd.DataFrame({"name": [s[0] for s in self.sent]})

    class _P:
        from dataops.config import load_settings

        settings = load_settings()
        source = _Source()
        monitor = None  # the strip shows "sin lectura" instead of raising

    panel = FaultPanel(_P(), refresh_s=0)
    panel.params["spike"]["coin"].value = "ethereum"
    panel.params["spike"]["factor"].value = "1.6"
    panel.duration.value = 45
    panel.buttons["spike"].click()
    assert _P.source.sent == [("spike", 45, {"coin": "ethereum", "factor": 1.6})]  # change_24h left empty: not sent
    panel.params["spike"]["change_24h"].value = "-20"
    assert panel.values("spike")["change_24h"] == -20.0
    panel.params["latency"]["delay_s"].value = "lento"
    assert panel.inject("latency") is None and "✘ latency" in panel.message.value
    panel.buttons["clear"].click()
    assert "quitados" in panel.message.value
    assert panel.strip.value.count("sin lectura: ") == 1  # monitor None: the strip says it cannot read, the panel goes on
