"""Alert rules, evaluation, the alert manager, notifiers and backtests, on small crafted data."""

from __future__ import annotations

import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import numpy as np
import pandas as pd
import pytest

from dataops import alerts, scenarios
from dataops.alerts import AlertConfigError, AlertManager, Rule
from dataops.errors import ConfigError
from tests.ports import free_port

pytestmark = pytest.mark.unit

T0 = pd.Timestamp("2024-05-01 12:00:00", tz="UTC")


def frame(metric: str, values, step_s: float = 10.0, **labels: str) -> pd.DataFrame:
    """A long history frame of one series, one sample every ``step_s``."""
    n = len(values)
    out = pd.DataFrame({"ts": T0 + pd.to_timedelta(np.arange(n) * step_s, unit="s"), "metric": metric})
    for k, v in labels.items():
        out[k] = v
    out["value"] = np.asarray(values, dtype=float)
    return out


def history(*frames: pd.DataFrame) -> pd.DataFrame:
    out = pd.concat(frames, ignore_index=True)
    label_cols = [c for c in out.columns if c not in ("ts", "metric", "value")]
    out[label_cols] = out[label_cols].fillna("")
    return out[["ts", "metric", *label_cols, "value"]].sort_values("ts", kind="stable").reset_index(drop=True)


def one(results: pd.DataFrame, rule: str, **where: str) -> pd.Series:
    rows = results[results["rule"] == rule]
    for k, v in where.items():
        rows = rows[rows[k] == v]
    assert len(rows) == 1, rows
    return rows.iloc[0]


# ---- configuration --------------------------------------------------------------------
def test_course_files_load():
    levels = alerts.load_levels()
    assert list(levels) == ["CRITICAL", "HIGH", "MEDIUM", "LOW"]
    assert levels["CRITICAL"].condition == "Pipeline completamente caído"
    assert levels["HIGH"].escalation == "Email + Slack" and levels["MEDIUM"].response_time == "< 1 hora"
    assert levels["LOW"].channels == ("notebook", "log") and levels["CRITICAL"].response_time_s == 300
    rules = {r.name: r for r in alerts.load_rules()}
    assert {"price_anomaly", "stale_data", "processing_lag", "api_failure", "data_quality"} <= set(rules)
    assert rules["price_anomaly"].labels == {"coin": "bitcoin"} and rules["price_anomaly"].max == 150000
    assert rules["api_failure"].severity == "CRITICAL" and rules["api_failure"].condition == "rate"
    assert rules["data_quality"].metrics == ("quality_score", "data_completeness", "data_accuracy")


def test_every_rule_a_scenario_expects_exists_and_the_monitor_measures_its_metric():
    """Scenario labels name real rules, and each rule reads a metric the local monitor records."""
    from dataops.monitor import METRICS

    rules = {r.name: r for r in alerts.load_rules()}
    for name in scenarios.scenarios()["name"]:
        for inc in scenarios.load_scenario(name).incidents:
            assert set(inc.expected_rules) <= set(rules), (name, inc.expected_rules)
    for rule in rules.values():
        assert set(rule.metrics) <= set(METRICS), (rule.name, rule.metrics)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rules:\n  - name: a\n    metric: [x\n", "YAML mal formado"),
        ("rules:\n  - name: a\n    metric: x\n    value: 1\n    severity: URGENT\n", "severidad desconocida 'URGENT'"),
        ("rules:\n  - name: a\n    metric: x\n    value: lots\n    severity: LOW\n", "umbral no válido 'lots'"),
        ("rules:\n  - name: a\n    metric: x\n    condition: range\n    min: 9\n    max: 1\n    severity: LOW\n", "min 9 > max 1"),
        ("rules:\n  - name: a\n    metric: x\n    condition: median\n    severity: LOW\n", "tipo de condición desconocido 'median'"),
    ],
)
def test_bad_rules_files_give_one_line(tmp_path, text, expected):
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    with pytest.raises(AlertConfigError) as err:
        alerts.load_rules(path)
    msg = str(err.value)
    assert expected in msg and "\n" not in msg and str(path) in msg
    assert isinstance(err.value, ConfigError)


def test_malformed_yaml_names_the_line(tmp_path):
    path = tmp_path / "levels.yaml"
    path.write_text("levels:\n  LOW:\n    condition: x\n   bad: [\n")
    with pytest.raises(AlertConfigError, match=r"levels\.yaml:\d+: YAML mal formado"):
        alerts.load_levels(path)


# ---- conditions -----------------------------------------------------------------------
def test_threshold_fires_and_passes():
    h = history(frame("topic_lag", [10, 500, 1500], topic="a", group="g"), frame("topic_lag", [10, 20, 30], topic="b", group="g"))
    res = alerts.evaluate([Rule("lag", "topic_lag", op=">", value=1000, severity="HIGH")], h)
    assert one(res, "lag", labels="group=g,topic=a")["firing"]
    assert one(res, "lag", labels="group=g,topic=a")["since"] == T0 + pd.Timedelta(seconds=20)
    ok = one(res, "lag", labels="group=g,topic=b")
    assert not ok["firing"] and ok["status"] == "ok" and ok["value"] == 30


def test_range_with_label_filter():
    h = history(frame("price", [60000, 160000], coin="bitcoin"), frame("price", [3000, 3100], coin="ethereum"))
    rule = Rule("price_anomaly", "price", condition="range", min=20000, max=150000, labels={"coin": "bitcoin"}, severity="HIGH")
    res = alerts.evaluate([rule], h)
    assert len(res) == 1 and res.iloc[0]["firing"] and res.iloc[0]["labels"] == "coin=bitcoin"
    res = alerts.evaluate([rule], history(frame("price", [60000, 70000], coin="bitcoin")))
    assert not res.iloc[0]["firing"]


def test_rate_over_window():
    # error % per poll: one spike is diluted by the 60 s mean, a sustained rise is not
    rule = Rule("api_failure", "api_error_rate", condition="rate", agg="mean", window_s=60, op=">", value=5, severity="CRITICAL")
    spike = alerts.evaluate([rule], history(frame("api_error_rate", [0, 0, 0, 0, 0, 20])))
    assert not spike.iloc[0]["firing"] and spike.iloc[0]["value"] == pytest.approx(20 / 6)
    sustained = alerts.evaluate([rule], history(frame("api_error_rate", [0, 0, 10, 10, 10, 10])))
    assert sustained.iloc[0]["firing"]
    total = Rule("dlq", "dlq_records", condition="rate", agg="sum", window_s=30, op=">=", value=3)
    assert alerts.evaluate([total], history(frame("dlq_records", [1, 0, 1, 1, 1]))).iloc[0]["firing"]


def test_rate_of_change_relative_and_absolute():
    rel = Rule("jump", "price", condition="rate_of_change", change="relative", window_s=20, value=10, labels={"coin": "ethereum"})
    h = history(frame("price", [100, 101, 102, 115], coin="ethereum"))
    tl = alerts.timeline(rel, h)
    assert np.isnan(tl["measure"].iloc[0]) and tl["measure"].iloc[3] == pytest.approx((115 - 101) / 101 * 100)
    assert list(tl["firing"]) == [False, False, False, True]
    assert not alerts.evaluate([rel], history(frame("price", [100, 101, 102, 105], coin="ethereum"))).iloc[0]["firing"]
    down = Rule("drop", "topic_lag", condition="rate_of_change", change="absolute", direction="down", window_s=10, value=50)
    assert alerts.evaluate([down], history(frame("topic_lag", [500, 400]))).iloc[0]["firing"]
    up = Rule("rise", "topic_lag", condition="rate_of_change", change="absolute", direction="up", window_s=10, value=50)
    assert not alerts.evaluate([up], history(frame("topic_lag", [500, 400]))).iloc[0]["firing"]


def test_for_s_holds_and_breaks():
    rule = Rule("stale", "data_freshness", op=">", value=600, for_s=30, severity="MEDIUM")
    held = history(frame("data_freshness", [700, 700, 700, 700]))  # true for 30 s
    res = alerts.evaluate([rule], held)
    assert res.iloc[0]["status"] == "firing" and res.iloc[0]["since"] == T0 + pd.Timedelta(seconds=30)
    assert list(alerts.timeline(rule, held)["firing"]) == [False, False, False, True]
    broken = history(frame("data_freshness", [700, 700, 100, 700, 700]))  # interrupted: only 10 s since
    res = alerts.evaluate([rule], broken)
    assert res.iloc[0]["status"] == "pending" and not res.iloc[0]["firing"]
    # as time passes without new samples the pending alert fires
    later = alerts.evaluate([rule], broken, now=T0 + pd.Timedelta(seconds=70))
    assert later.iloc[0]["status"] == "firing"


def test_a_series_that_stopped_reporting_goes_stale_and_stops_firing():
    gone = frame("topic_lag", [5000] * 3, group="deleted", topic="t")  # last sample at T0 + 20 s
    alive = frame("topic_lag", [5000] * 40, group="live", topic="t")  # last sample at T0 + 390 s
    res = alerts.evaluate([LAG], history(gone, alive))
    assert one(res, "processing_lag", labels="group=deleted,topic=t")["status"] == "stale"
    assert one(res, "processing_lag", labels="group=live,topic=t")["status"] == "firing"
    kept = alerts.evaluate([LAG], history(gone, alive), stale_after_s=None)
    assert one(kept, "processing_lag", labels="group=deleted,topic=t")["status"] == "firing"
    mgr = AlertManager(levels=alerts.load_levels(), notifiers=[Recorder("log")])
    assert len(mgr.process(kept)) == 2 and len(mgr.active()) == 2
    events = mgr.process(res)
    assert events[["kind", "labels"]].values.tolist() == [["resolved", "group=deleted,topic=t"]]


def test_unknown_metric_reported_and_others_fire():
    rules = [Rule("ghost", "no_such_metric", value=1), Rule("lag", "topic_lag", value=1000, severity="HIGH")]
    res = alerts.evaluate(rules, history(frame("topic_lag", [2000], topic="a")))
    assert one(res, "ghost")["status"] == "unknown_metric" and not one(res, "ghost")["firing"]
    assert one(res, "lag")["firing"]
    nodata = alerts.evaluate([Rule("p", "price", condition="range", min=1, labels={"coin": "x"})], history(frame("price", [5], coin="y")))
    assert nodata.iloc[0]["status"] == "no_data"


def test_rules_on_a_fresh_stack_say_no_data_not_ok_or_unknown():
    """Before the first commit there is no data_freshness sample: the rule has no verdict yet."""
    fresh = history(frame("api_error_rate", [0.0, 0.0]))
    res = alerts.evaluate(alerts.load_rules(), fresh)
    assert one(res, "api_failure")["status"] == "ok"
    for name in ("stale_data", "processing_lag", "frozen_prices", "data_quality", "price_anomaly"):
        row = one(res, name)
        assert row["status"] == "no_data" and not row["firing"], (name, row["status"])


def test_evaluate_is_fast_enough():
    rng = np.random.default_rng(1)
    n = 100_000
    frames = [frame(m, rng.normal(50, 20, n), step_s=1, topic=t) for m, t in [("topic_lag", "a"), ("topic_lag", "b"), ("api_error_rate", "")]]
    h = history(*frames)
    rules = [
        Rule("t", "topic_lag", value=90, for_s=5),
        Rule("r", "api_error_rate", condition="rate", window_s=60, value=55),
        Rule("c", "topic_lag", condition="rate_of_change", window_s=30, value=200),
        Rule("g", "topic_lag", condition="range", min=0, max=120),
    ]
    t = time.perf_counter()
    res = alerts.evaluate(rules, h)
    assert time.perf_counter() - t < 10 and len(res) == 7


# ---- manager and notifiers ------------------------------------------------------------
class Recorder:
    def __init__(self, channel: str, fail: bool = False) -> None:
        self.channel, self.fail, self.events = channel, fail, []

    def send(self, event):
        if self.fail:
            raise RuntimeError("boom\nsecond line")
        self.events.append(event)


def manager(*channels: str) -> tuple[AlertManager, dict[str, Recorder]]:
    recs = {c: Recorder(c) for c in channels}
    return AlertManager(levels=alerts.load_levels(), notifiers=list(recs.values())), recs


LAG = Rule("processing_lag", "topic_lag", value=1000, severity="HIGH", description="Lag de Kafka > 1000 mensajes")


def test_dedup_resolve_and_refire():
    mgr, recs = manager("notebook", "console", "log")
    h = history(frame("topic_lag", [2000, 2100], topic="a"))
    ev = mgr.process(alerts.evaluate([LAG], h))
    assert list(ev["kind"]) == ["fired"] and len(mgr.active()) == 1
    for _ in range(3):  # still firing: no new notification
        assert mgr.process(alerts.evaluate([LAG], h)).empty
    assert len(recs["log"].events) == 1
    ev = mgr.process(alerts.evaluate([LAG], history(frame("topic_lag", [2000, 5], topic="a"))))
    assert list(ev["kind"]) == ["resolved"] and mgr.active().empty
    ev = mgr.process(alerts.evaluate([LAG], history(frame("topic_lag", [2000, 5, 3000], topic="a"))))
    assert list(ev["kind"]) == ["fired"]
    assert list(mgr.history()["kind"]) == ["fired", "resolved", "fired"] and len(recs["log"].events) == 3


def test_a_silent_monitor_is_unknown_not_resolved():
    mgr, recs = manager("notebook", "log")
    h = history(frame("topic_lag", [2000, 2100], topic="a"), frame("topic_lag", [1, 2], topic="b"))
    assert list(mgr.process(alerts.evaluate([LAG], h))["kind"]) == ["fired"]
    later = T0 + pd.Timedelta(hours=1)  # nothing written for an hour: every series is stale
    assert mgr.process(alerts.evaluate([LAG], h, now=later)).empty
    assert mgr.unknown and list(mgr.active()["state"]) == ["firing"] and len(recs["log"].events) == 1
    # One series stopping while another still reports is that series' business: it resolves.
    alive = frame("topic_lag", [1] * 400, topic="b")
    gone = history(frame("topic_lag", [2000, 2100], topic="a"), alive)
    ev = mgr.process(alerts.evaluate([LAG], gone, now=alive["ts"].iloc[-1]))
    assert not mgr.unknown and list(ev["kind"]) == ["resolved"] and mgr.active().empty


def test_pending_then_firing_in_manager():
    mgr, _ = manager("notebook", "log")
    rule = Rule("stale", "data_freshness", value=600, for_s=60, severity="MEDIUM")
    h = history(frame("data_freshness", [700, 700]))
    assert mgr.process(alerts.evaluate([rule], h)).empty
    assert list(mgr.active()["state"]) == ["pending"]
    ev = mgr.process(alerts.evaluate([rule], h, now=T0 + pd.Timedelta(seconds=61)))
    assert list(ev["kind"]) == ["fired"] and list(mgr.active()["state"]) == ["firing"]


def test_routing_by_severity():
    mgr, recs = manager("notebook", "console", "log", "email", "webhook:slack", "webhook:llamada-sms")
    rules = [
        Rule("crit", "m", value=0, severity="CRITICAL"),
        Rule("high", "m", value=0, severity="HIGH"),
        Rule("med", "m", value=0, severity="MEDIUM"),
        Rule("low", "m", value=0, severity="LOW"),
    ]
    ev = mgr.process(alerts.evaluate(rules, history(frame("m", [1]))))
    got = {c: sorted(e.rule for e in r.events) for c, r in recs.items()}
    assert got == {
        "notebook": ["crit", "high", "low", "med"],
        "console": ["crit", "high"],
        "log": ["crit", "high", "low", "med"],
        "email": ["high"],
        "webhook:slack": ["high", "med"],
        "webhook:llamada-sms": ["crit"],
    }
    assert set(ev.set_index("rule").loc["crit", "delivered"]) == {"notebook", "console", "log", "webhook:llamada-sms"}


def test_failing_notifier_does_not_stop_others_and_is_retried():
    good, bad = Recorder("log"), Recorder("notebook", fail=True)
    mgr = AlertManager(levels=alerts.load_levels(), notifiers=[good, bad])
    ev = mgr.process(alerts.evaluate([LAG], history(frame("topic_lag", [2000], topic="a"))))
    assert ev.iloc[0]["delivered"] == ["log"] and ev.iloc[0]["failed"] == ["notebook"]
    und = mgr.undelivered()
    assert list(und["channel"]) == ["notebook"] and und.iloc[0]["error"] == "boom second line"
    bad.fail = False
    assert mgr.retry() == 1 and mgr.undelivered().empty and len(bad.events) == 1
    assert mgr.history().iloc[0]["failed"] == []


def test_console_notebook_and_logfile(tmp_path):
    stream = io.StringIO()
    nb = alerts.NotebookNotifier(display=False)
    log = alerts.LogFileNotifier(tmp_path / "a" / "alerts.jsonl")
    mgr = AlertManager(levels=alerts.load_levels(), notifiers=[nb, alerts.ConsoleNotifier(stream), log])
    mgr.process(alerts.evaluate([LAG], history(frame("topic_lag", [2000], topic="a"))))
    mgr.process(alerts.evaluate([LAG], history(frame("topic_lag", [1], topic="a"))))
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and lines[0].startswith("[HIGH] ALERTA processing_lag: topic_lag{topic=a}=2000")
    records = [json.loads(x) for x in (tmp_path / "a" / "alerts.jsonl").read_text().splitlines()]
    assert [r["kind"] for r in records] == ["fired", "resolved"] and records[0]["value"] == 2000.0
    assert records[0]["since"].startswith("2024-05-01T12:00:00")
    assert len(nb.cards) == 2 and "Alerta activa" in nb.cards[0] and "Email + Slack" in nb.cards[0]


class _Receiver(BaseHTTPRequestHandler):
    bodies: list[dict] = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).bodies.append(json.loads(body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


def serve(port: int = 0) -> HTTPServer:
    HTTPServer.allow_reuse_address = True
    server = HTTPServer(("127.0.0.1", port), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_webhook_delivers_slack_body():
    _Receiver.bodies = []
    server = serve()
    try:
        hook = alerts.WebhookNotifier(f"http://127.0.0.1:{server.server_port}/hook", "slack", timeout_s=2)
        mgr = AlertManager(levels=alerts.load_levels(), notifiers=[hook])
        ev = mgr.process(alerts.evaluate([LAG], history(frame("topic_lag", [2000], topic="a"))))
        assert ev.iloc[0]["delivered"] == ["webhook:slack"]
    finally:
        server.shutdown()
        server.server_close()
    body = _Receiver.bodies[0]
    assert body["text"].startswith("[HIGH] ALERTA processing_lag")
    fields = {f["title"]: f["value"] for f in body["attachments"][0]["fields"]}
    assert fields["Severidad"] == "HIGH" and fields["Regla"] == "processing_lag" and fields["Valor"] == "2000"
    assert fields["Desde"].startswith("2024-05-01T12:00:00") and body["alert"]["rule"] == "processing_lag"


def test_webhook_down_then_retried():
    _Receiver.bodies = []
    port = free_port()
    hook = alerts.WebhookNotifier(f"http://127.0.0.1:{port}/services/T0/B0/s3cr3tT0ken", "slack", timeout_s=1)
    mgr = AlertManager(levels=alerts.load_levels(), notifiers=[hook, Recorder("log")])
    ev = mgr.process(alerts.evaluate([LAG], history(frame("topic_lag", [2000], topic="a"))))
    assert ev.iloc[0]["failed"] == ["webhook:slack"] and ev.iloc[0]["delivered"] == ["log"]
    und = mgr.undelivered()
    assert len(und) == 1 and "no respondió" in und.iloc[0]["error"]
    # A webhook's path is its secret: never in errors, logs or reprs.
    assert f"127.0.0.1:{port}/…" in und.iloc[0]["error"] and "s3cr3tT0ken" not in und.iloc[0]["error"]
    assert "s3cr3tT0ken" not in repr(hook)
    assert mgr.retry() == 0 and mgr.undelivered().iloc[0]["attempts"] == 2
    server = serve(port)
    try:
        assert mgr.process(pd.DataFrame(columns=["rule", "status"])).empty  # process() retries too
    finally:
        server.shutdown()
        server.server_close()
    assert mgr.undelivered().empty and len(_Receiver.bodies) == 1
    assert mgr.history().iloc[0]["delivered"] == ["log", "webhook:slack"]


def test_email_refused_is_kept():
    mail = alerts.EmailNotifier("127.0.0.1", free_port(), "dataops@localhost", "oncall@localhost", timeout_s=1)
    mgr = AlertManager(levels=alerts.load_levels(), notifiers=[mail])
    mgr.process(alerts.evaluate([LAG], history(frame("topic_lag", [2000], topic="a"))))
    und = mgr.undelivered()
    assert list(und["channel"]) == ["email"] and "falló" in und.iloc[0]["error"]


# ---- backtest -------------------------------------------------------------------------
def test_backtest_precision_recall_delay():
    values = [0] * 6 + [2000] * 4 + [0] * 6 + [2000] * 2 + [0] * 6  # two episodes, samples every 10 s
    h = history(frame("topic_lag", values, topic="a"))
    incidents = pd.DataFrame(
        {
            "name": ["kafka-stall", "missed"],
            "rule": ["processing_lag", ""],
            "start": [T0 + pd.Timedelta(seconds=40), T0 + pd.Timedelta(seconds=200)],
            "end": [T0 + pd.Timedelta(seconds=120), T0 + pd.Timedelta(seconds=230)],
        }
    )
    out = alerts.backtest([LAG], h, incidents).set_index("rule")
    row = out.loc["processing_lag"]
    assert row["episodes"] == 2 and row["true_episodes"] == 1 and row["precision"] == 0.5
    assert row["incidents"] == ["kafka-stall", "missed"] and row["detected"] == 1 and row["recall"] == 0.5
    assert row["delays_s"][0] == 20.0 and np.isnan(row["delays_s"][1]) and row["mean_delay_s"] == 20.0
    assert row["firing"][0] == (T0 + pd.Timedelta(seconds=60), T0 + pd.Timedelta(seconds=90))
