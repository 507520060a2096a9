"""Prometheus: the /metrics exposition (prometheus_client) and the alert rules as a rule file.

promtool (Debian's ``prometheus`` package) lints the exposition and the rule file, and runs a
rule test generated here from each rule: series a bit beyond its threshold fire, series a bit
inside stay silent. The same series go through :func:`dataops.alerts.evaluate`, so the PromQL
and the Python engine must agree on every case. Adding a rule needs no hand-written test.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import pandas as pd
import pytest
import requests
import yaml

from dataops import alerts, cli
from dataops.alerts.prometheus import alerting_rule, expression, to_prometheus_rules
from dataops.alerts.rules import Rule
from dataops.metrics import METRICS, MetricsStore, Sample
from dataops.metrics_export import PROMETHEUS, prometheus_export, prometheus_text, scaled
from dataops.monitor import serve_prometheus

pytestmark = pytest.mark.unit

LABELS = {
    "http_status_codes": {"code": "200"},
    "messages_produced": {"topic": "crypto-prices"},
    "throughput": {"topic": "crypto-prices"},
    "connector_status": {"connector": "coingecko-source", "state": "RUNNING"},
    "topic_lag": {"group": "crypto-explode", "topic": "crypto-prices"},
    "price": {"coin": "bitcoin"},
    "price_change_24h": {"coin": "bitcoin"},
    "flink_job_running": {"job": "crypto-explode"},
    "cpu_percent": {"component": "kafka"},
    "rss_mb": {"component": "kafka"},
}


def promtool(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    binary = shutil.which("promtool")
    if binary is None:
        pytest.skip("needs promtool (Debian's `prometheus` package; .ci/run installs it)")
    return subprocess.run([binary, *args], input=stdin, capture_output=True, text=True, timeout=120)


@pytest.fixture()
def store(tmp_path):
    return MetricsStore(tmp_path / "m.db")


# ---- exposition ----------------------------------------------------------------------------------
def test_every_course_metric_has_a_prometheus_name():
    assert set(METRICS) <= set(PROMETHEUS), set(METRICS) - set(PROMETHEUS)
    names = [e.name for e in PROMETHEUS.values()]
    assert len(set(names)) == len(names) and all(n.startswith("dataops_") for n in names)
    assert all(e.name.endswith("_total") == (e.type == "counter") for e in PROMETHEUS.values())


def test_the_exposition_of_every_metric_passes_promtool(store):
    store.write([Sample(m, 42.0, LABELS.get(m, {})) for m in {*METRICS, *PROMETHEUS}])
    store.write([Sample("my-metric", 1.0, {"my label": "x"})])  # a learner's own metric, odd names
    text = prometheus_text(store.latest())
    assert all(f"\n{e.name}" in text for e in PROMETHEUS.values()) and "\ndataops_my_metric{my_label=" in text
    result = promtool("check", "metrics", stdin=text)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_values_are_in_base_units_with_help_and_the_store_time(store):
    t = 1_700_000_000.5
    store.write([Sample("api_response_time", 250.0, {}, t), Sample("rss_mb", 1.5, {"component": "kafka"}, t),
                 Sample("api_error_rate", 5.0, {}, t), Sample("price_updates", 12.0, {}, t),
                 Sample("data_freshness", 7.0, {}, t), Sample("price", 9.0, {"coin": 'we"ird'}, t),
                 Sample("mine", 3.0, {}, t)])  # fmt: skip
    text = prometheus_text(store.latest())
    assert "\ndataops_api_response_time_seconds 0.25 1700000000500\n" in text
    assert '\ndataops_rss_bytes{component="kafka"} 1.572864e+06 1700000000500\n' in text
    assert "\ndataops_api_error_ratio 0.05 " in text and "\ndataops_price_updates_per_second 0.2 " in text
    assert f"# HELP dataops_data_freshness_seconds {METRICS['data_freshness']}\n" in text
    assert "# HELP dataops_api_response_time_seconds ms, mean latency" in text and "exported in seconds" in text
    assert "\ndataops_data_freshness_seconds 7.0 " in text  # no empty coin=""/component="" labels
    assert 'dataops_price_usd{coin="we\\"ird"} 9.0' in text
    assert "# TYPE dataops_mine gauge\n" in text and "# HELP dataops_mine store metric mine" in text


def test_the_monitor_serves_what_the_store_holds_at_each_scrape(store):
    server = serve_prometheus(store, "127.0.0.1", 0, max_age_s=60)  # port 0: any free port
    url = f"http://127.0.0.1:{server.server_address[1]}/metrics"
    try:
        store.write([Sample("data_freshness", 4.0), Sample("topic_lag", 9.0, {}, time.time() - 120)])
        text = requests.get(url, timeout=5).text
        assert "\ndataops_data_freshness_seconds 4.0 " in text and "dataops_topic_lag" not in text  # older than max_age_s
        store.write([Sample("data_freshness", 5.0)])
        assert "\ndataops_data_freshness_seconds 5.0 " in requests.get(url, timeout=5).text
        om = requests.get(url, headers={"Accept": "application/openmetrics-text; version=1.0.0"}, timeout=5)
        assert "# UNIT dataops_data_freshness_seconds seconds\n" in om.text and om.text.endswith("# EOF\n")
    finally:
        server.shutdown()


# ---- rules ------------------------------------------------------------------------------------------
PROJECT = alerts.load_rules()
# Conversions and condition shapes the project's rules do not use (yet).
EXTRA = [
    Rule("slow_api", "api_response_time", op=">", value=500, for_s=30, severity="MEDIUM"),
    Rule("memory_high", "rss_mb", condition="rate", agg="max", window_s=120, op=">=", value=512, severity="LOW"),
    Rule("too_many_429", "http_status_codes", labels={"code": "429"}, condition="rate", agg="sum", window_s=60, op=">",
         value=20, for_s=10, severity="HIGH"),  # fmt: skip
    Rule("updates_stall", "price_updates", condition="rate", agg="min", window_s=90, op="<", value=6, severity="HIGH"),
    Rule("coverage_low", "coin_coverage", op="<=", value=90, severity="MEDIUM"),
    Rule("eth_drop", "price", labels={"coin": "ethereum"}, condition="rate_of_change", change="absolute",
         direction="down", window_s=300, value=100, severity="LOW"),  # fmt: skip
    Rule("btc_jump", "price", labels={"coin": "bitcoin"}, condition="rate_of_change", direction="up", window_s=60,
         value=5, for_s=120, severity="LOW"),  # fmt: skip
]


def test_expressions_read_the_exported_names_in_base_units():
    by_name = {r.name: expression(r) for r in [*PROJECT, *EXTRA]}
    assert by_name["stale_data"] == "dataops_data_freshness_seconds > 600"
    assert by_name["api_failure"] == "avg_over_time(dataops_api_error_ratio[5m]) > 0.05"
    assert by_name["price_anomaly"] == 'dataops_price_usd{coin="bitcoin"} < 20000 or dataops_price_usd{coin="bitcoin"} > 150000'
    assert by_name["slow_api"] == "dataops_api_response_time_seconds > 0.5"
    assert by_name["memory_high"] == "max_over_time(dataops_rss_bytes[2m]) >= 536870912"
    assert by_name["eth_drop"] == ('(dataops_price_usd{coin="ethereum"} - dataops_price_usd{coin="ethereum"} offset 5m)'
                                   " < -100")  # fmt: skip
    assert alerting_rule(EXTRA[0])["for"] == "30s" and "for" not in alerting_rule(PROJECT[0])
    assert alerting_rule(PROJECT[0])["labels"] == {"severity": "HIGH"}


def test_the_exported_rule_file_passes_promtool(tmp_path):
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump(to_prometheus_rules([*PROJECT, *EXTRA]), allow_unicode=True))
    result = promtool("check", "rules", str(path))
    assert result.returncode == 0 and f"SUCCESS: {len(PROJECT) + len(EXTRA)} rules found" in result.stdout, result.stdout + result.stderr


def test_the_cli_prints_or_writes_the_rule_file(tmp_path, capsys):
    assert cli.main(["prometheus-rules"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed == to_prometheus_rules(PROJECT)
    out = tmp_path / "prom" / "rules.yml"
    assert cli.main(["prometheus-rules", "--out", str(out)]) == 0
    assert yaml.safe_load(out.read_text()) == printed and f"{len(PROJECT)} alerting rules in {out}" in capsys.readouterr().out


# ---- generated rule tests --------------------------------------------------------------------------
MARGIN_S = 30  # seconds the condition holds past `for` before the check
T0 = 1_700_000_000.0  # the Python engine's clock for the series promtool starts at 0


@dataclass(frozen=True)
class Case:
    name: str
    metric: str
    values: tuple[float, ...]  # store units, one per second from 0
    fires: bool
    labels: tuple[tuple[str, str], ...] = ()


def _margin(v: float) -> float:
    return abs(v) / 100 or 1.0


def _pair(op: str, v: float) -> tuple[float, float]:
    """(a bit beyond ``v``: fires, a bit inside: silent) for ``x op v``; 0 itself is inside ``> 0``."""
    d = _margin(v)
    up = op in (">", ">=")
    fire, silent = (v + d, v - d) if up else (v - d, v + d)
    return fire, (0.0 if v == 0 and op in (">", "<") else silent)


def _around(agg: str, x: float, k: float, period: int):
    """Samples whose ``agg`` over any window is ``x`` (about ``x`` for mean), the other aggregates ``k`` away."""
    if agg == "mean":
        return lambda t: x + k if t % 2 == 0 else x - k
    return lambda t: x if t % period == 0 else x - k if agg == "max" else x + k


def cases(rule: Rule) -> tuple[int, int, list[Case]]:
    """(eval time, time the firing cases start to hold, cases) for each metric of the rule."""
    w, hold = int(rule.window_s), math.ceil(rule.for_s)
    start = w if rule.condition == "rate_of_change" else MARGIN_S if rule.agg == "sum" and rule.condition == "rate" else 0
    if rule.condition == "rate" and rule.agg == "sum" and (hold >= w or (hold >= 2 and rule.op in ("<", "<="))):
        pytest.skip(f"{rule.name}: a sum with this for_s has no one-sample series: write its test by hand")
    end = start + hold + (0 if rule.condition == "rate" and rule.agg == "sum" else MARGIN_S)
    n = end + 1
    shapes: list[tuple[str, object, bool]] = []  # (name, value or function of t, fires)
    if rule.condition in ("threshold", "rate"):
        fire, silent = _pair(rule.op, rule.value)
        shapes = [("fire", fire, True), ("silent", silent, False)]
        if rule.condition == "rate" and rule.agg == "sum":  # one sample in the window: its sum
            shapes = [(name, lambda t, x=x: x if t == start else 0.0, fires) for name, x, fires in shapes]
        elif rule.condition == "rate" and w >= 4:  # series on which the other aggregates would be wrong
            shapes = [(name, _around(rule.agg, x, 2 * _margin(rule.value), max(w // 2, 1)), fires) for name, x, fires in shapes]
    elif rule.condition == "range":
        if rule.min is not None:
            low, inside = _pair("<", rule.min)
            shapes += [("below", low, True), ("inside_low", inside, False)]
        if rule.max is not None:
            high, inside = _pair(">", rule.max)
            shapes += [("above", high, True), ("inside_high", inside, False)]
    else:
        beyond, within = _pair(">", rule.value)
        within = max(within, 0.0)
        relative = rule.change == "relative"
        base = 100.0 if relative else 100.0 + 10 * rule.value

        def path(step: float) -> Callable[[int], float]:  # the change over every window is `step` (% when relative)
            return (lambda t: base * (1 + step / 100) ** (t / w)) if relative else (lambda t: base + step * t / w)

        steps = {"up_beyond": beyond, "up_within": within, "down_within": -within, "down_beyond": -beyond}
        firing = {"up_beyond": rule.direction in ("both", "up"), "down_beyond": rule.direction in ("both", "down")}
        shapes = [(name, path(step), firing.get(name, False)) for name, step in steps.items()
                  if not (relative and step <= -100)]  # nothing drops by 100 % or more
    out = []
    for metric in rule.metrics:
        for name, shape, fires in shapes:
            values = tuple(shape(t) if callable(shape) else float(shape) for t in range(n))
            out.append(Case(name, metric, values, fires, tuple(sorted({**rule.labels, "case": name}.items()))))
        if rule.labels:  # the label filter: a firing shape on another series stays silent
            fire = next(c for c in out if c.fires and c.metric == metric)
            other = tuple(sorted({**{k: f"not-{v}" for k, v in rule.labels.items()}, "case": "other"}.items()))
            out.append(replace(fire, name="other", fires=False, labels=other))
    return end, start, out


def _series(case: Case) -> dict[str, str]:
    export = prometheus_export(case.metric)
    labels = ",".join(f'{k}="{v}"' for k, v in case.labels)
    values = [f"{scaled(v, export.scale):.15g}" for v in case.values]
    text = f"{values[0]}+0x{len(values) - 1}" if len(set(values)) == 1 else " ".join(values)
    return {"series": f"{export.name}{{{labels}}}", "values": text}


def _expected(rule: Rule, case: Case) -> dict[str, object]:
    labels = {**dict(case.labels), "severity": rule.severity, **({"metric": case.metric} if len(rule.metrics) > 1 else {})}
    return {"exp_labels": labels, "exp_annotations": alerting_rule(rule)["annotations"]}


def rule_test(rule: Rule, rule_file: str) -> dict[str, object]:
    """A promtool rule-test file: at the end, the firing cases fire; before ``for`` runs out, nothing does."""
    end, start, all_cases = cases(rule)
    checks = [{"eval_time": f"{end}s", "alertname": rule.name, "exp_alerts": [_expected(rule, c) for c in all_cases if c.fires]}]
    if rule.for_s >= 2:
        checks.append({"eval_time": f"{start + int(rule.for_s // 2)}s", "alertname": rule.name, "exp_alerts": []})
    return {"rule_files": [rule_file], "evaluation_interval": "1s",
            "tests": [{"interval": "1s", "input_series": [_series(c) for c in all_cases], "alert_rule_test": checks}]}  # fmt: skip


def engine_statuses(rule: Rule, at: int) -> dict[tuple[str, str], str]:
    """The Python engine's status per (metric, case) on the same series, as of ``at`` seconds."""
    all_cases = cases(rule)[2]
    rows = [{"ts": pd.Timestamp(T0 + t, unit="s", tz="UTC"), "metric": c.metric, **dict(c.labels), "value": v}
            for c in all_cases for t, v in enumerate(c.values)]  # fmt: skip
    results = alerts.evaluate([rule], pd.DataFrame(rows), now=T0 + at)
    case_of = results["labels"].str.extract(r"case=([a-z_]+)")[0]
    return dict(zip(zip(results["metric"], case_of), results["status"]))


def _run_promtool_test(rule: Rule, tmp_path: Path, exported: dict | None = None) -> subprocess.CompletedProcess:
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(exported or to_prometheus_rules([rule]), allow_unicode=True))
    (tmp_path / "test.yml").write_text(yaml.safe_dump(rule_test(rule, "rules.yml"), allow_unicode=True, width=10**6))
    return promtool("test", "rules", str(tmp_path / "test.yml"))


@pytest.mark.parametrize("rule", [*PROJECT, *EXTRA], ids=lambda r: f"{r.name}-{r.severity}")
def test_each_rule_fires_beyond_its_threshold_and_not_inside(rule, tmp_path):
    end, start, all_cases = cases(rule)
    assert any(c.fires for c in all_cases) and any(not c.fires for c in all_cases)
    statuses = engine_statuses(rule, end)
    assert statuses == {(c.metric, c.name): "firing" if c.fires else "ok" for c in all_cases if c.name != "other"}
    if rule.for_s >= 2:  # half-way through `for`: every firing case is still pending
        early = engine_statuses(rule, start + int(rule.for_s // 2))
        assert {early[(c.metric, c.name)] for c in all_cases if c.fires} == {"pending"}
    result = _run_promtool_test(rule, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


MUTANTS = [  # (rule, wrong PromQL): the generated test must catch each
    ("processing_lag", "dataops_topic_lag_messages > 1050"),
    ("slow_api", "dataops_api_response_time_seconds > 500"),  # ms not converted
    ("api_failure", "max_over_time(dataops_api_error_ratio[5m]) > 0.05"),
    ("memory_high", "avg_over_time(dataops_rss_bytes[2m]) >= 536870912"),
    ("updates_stall", "avg_over_time(dataops_price_updates_per_second[90s]) < 0.1"),
    ("price_spike", "abs((dataops_price_usd - dataops_price_usd offset 2m) / abs(dataops_price_usd offset 2m)) > 0.15"),
    ("eth_drop", 'abs(dataops_price_usd{coin="ethereum"} - dataops_price_usd{coin="ethereum"} offset 5m) > 100'),
    ("price_anomaly", "dataops_price_usd < 20000 or dataops_price_usd > 150000"),  # label filter lost
]


@pytest.mark.parametrize("name, wrong", MUTANTS, ids=[m[0] for m in MUTANTS])
def test_a_wrong_translation_fails_the_generated_test(name, wrong, tmp_path):
    rule = next(r for r in [*PROJECT, *EXTRA] if r.name == name)
    exported = to_prometheus_rules([rule])
    assert exported["groups"][0]["rules"][0]["expr"] != wrong
    exported["groups"][0]["rules"][0]["expr"] = wrong
    result = _run_promtool_test(rule, tmp_path, exported)
    assert result.returncode != 0 and name in result.stdout + result.stderr
