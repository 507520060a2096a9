"""The alert rules as a Prometheus rule file: one group, one alerting rule per :class:`Rule`.

The PromQL reads the names ``/metrics`` exports (:data:`dataops.metrics_export.PROMETHEUS`), so
thresholds are converted the same way as the values: a rule on ``api_response_time > 500``
(ms) becomes ``dataops_api_response_time_seconds > 0.5``, a rule on ``api_error_rate > 5`` (%)
becomes ``... > 0.05``. What differs from :func:`dataops.alerts.evaluate`: Prometheus sees the
samples it scrapes (a ``sum`` over a window depends on the scrape interval), its windows include
their start, and a series without a sample for 5 minutes is gone (the engine's ``stale``).

Typical use::

    from dataops import alerts
    from dataops.alerts.prometheus import to_prometheus_yaml
    print(to_prometheus_yaml(alerts.load_rules()))    # or: dataops prometheus-rules --out rules.yml
"""

from __future__ import annotations

from typing import Any, Iterable

import yaml

from dataops.alerts.rules import Rule
from dataops.metrics_export import prometheus_export, prometheus_label, scaled

_AGGS = {"mean": "avg", "sum": "sum", "max": "max", "min": "min"}


def duration(seconds: float) -> str:
    """A Prometheus duration: ``300`` → ``5m``, ``90`` → ``90s``, ``0.5`` → ``500ms``."""
    ms = round(seconds * 1000)
    for unit, size in (("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def _number(value: float) -> str:
    return f"{value:.15g}"


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def selector(metric: str, labels: dict[str, str] | None = None) -> str:
    """The PromQL selector of a store metric with a label filter, e.g. ``dataops_price_usd{coin="bitcoin"}``."""
    name = prometheus_export(metric).name
    pairs = ",".join(f"{prometheus_label(k)}={_quote(v)}" for k, v in sorted((labels or {}).items()))
    return f"{name}{{{pairs}}}" if pairs else name


def _condition(rule: Rule, metric: str) -> str:
    """PromQL of the rule on one metric, in the exported units."""
    sel = selector(metric, dict(rule.labels))
    scale = prometheus_export(metric).scale
    if rule.condition == "threshold":
        return f"{sel} {rule.op} {_number(scaled(rule.value, scale))}"
    if rule.condition == "range":
        sides = [f"{sel} < {_number(scaled(rule.min, scale))}" if rule.min is not None else "",
                 f"{sel} > {_number(scaled(rule.max, scale))}" if rule.max is not None else ""]  # fmt: skip
        return " or ".join(s for s in sides if s)
    window = duration(rule.window_s)
    if rule.condition == "rate":
        return f"{_AGGS[rule.agg]}_over_time({sel}[{window}]) {rule.op} {_number(scaled(rule.value, scale))}"
    before = f"{sel} offset {window}"
    if rule.change == "relative":  # a ratio of the value a window ago, as the engine's % / 100
        change, limit = f"({sel} - {before}) / abs({before})", _number(rule.value / 100)
    else:
        change, limit = f"({sel} - {before})", _number(scaled(rule.value, scale))
    return {"both": f"abs({change}) > {limit}", "up": f"{change} > {limit}", "down": f"{change} < -{limit}"}[rule.direction]


def expression(rule: Rule) -> str:
    """The rule's PromQL. A rule over several metrics is their ``or``, each alert labelled ``metric``
    (the store's name) so that each metric fires on its own, as in the engine."""
    if len(rule.metrics) == 1:
        return _condition(rule, rule.metrics[0])
    return " or ".join(f'label_replace({_condition(rule, m)}, "metric", {_quote(m)}, "", "")' for m in rule.metrics)


def alerting_rule(rule: Rule) -> dict[str, Any]:
    """One Prometheus alerting rule: ``alert``, ``expr``, ``for`` (when ``for_s``), ``labels`` and ``annotations``."""
    out: dict[str, Any] = {"alert": rule.name, "expr": expression(rule)}
    if rule.for_s:
        out["for"] = duration(rule.for_s)
    out["labels"] = {"severity": rule.severity}
    out["annotations"] = {"summary": rule.describe(), **({"description": rule.description} if rule.description else {})}
    return out


def to_prometheus_rules(rules: Iterable[Rule], group: str = "dataops") -> dict[str, Any]:
    """A Prometheus rule file (``groups:`` with one group) holding one alerting rule per rule."""
    return {"groups": [{"name": group, "rules": [alerting_rule(r) for r in rules]}]}


def to_prometheus_yaml(rules: Iterable[Rule], group: str = "dataops") -> str:
    """:func:`to_prometheus_rules` as YAML text (UTF-8, keys in rule order)."""
    return yaml.safe_dump(to_prometheus_rules(rules, group), sort_keys=False, allow_unicode=True, width=1000)
