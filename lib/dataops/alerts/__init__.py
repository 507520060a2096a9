"""Alert rules over the metric history, an alert manager and the notifiers.

The course's severity levels and rules live in ``data/alerts/levels.yaml`` and
``data/alerts/rules.yaml``. Typical use in a notebook::

    from dataops import alerts
    rules = alerts.load_rules()
    results = alerts.evaluate(rules, monitor.history(minutes=60))
    manager = alerts.AlertManager()
    manager.process(results)      # fired / resolved events, routed by severity
    manager.active()

One module per concern: :mod:`~dataops.alerts.rules` (levels and rules as data),
:mod:`~dataops.alerts.evaluation` (status, timeline, episodes), :mod:`~dataops.alerts.backtesting`,
:mod:`~dataops.alerts.notifiers`, :mod:`~dataops.alerts.manager` and :mod:`~dataops.alerts.prometheus`
(the rules as a Prometheus rule file).
"""

from dataops.alerts.backtesting import backtest
from dataops.alerts.evaluation import episodes, evaluate, timeline
from dataops.alerts.manager import AlertManager
from dataops.alerts.notifiers import (
    SEVERITY_COLORS,
    SEVERITY_ICONS,
    AlertEvent,
    ConsoleNotifier,
    EmailNotifier,
    LogFileNotifier,
    NotebookNotifier,
    Notifier,
    WebhookNotifier,
    render_card,
)
from dataops.alerts.prometheus import to_prometheus_rules, to_prometheus_yaml
from dataops.alerts.receiver import WebhookReceiver
from dataops.alerts.rules import (
    AGGS,
    ALERTS_DIR,
    CHANGES,
    CONDITIONS,
    DIRECTIONS,
    LEVELS_FILE,
    OPS,
    RULES_FILE,
    SEVERITIES,
    Level,
    Rule,
    load_levels,
    load_rules,
    parse_rules,
)
from dataops.errors import AlertConfigError, AlertDeliveryError

__all__ = [
    "AGGS",
    "ALERTS_DIR",
    "CHANGES",
    "CONDITIONS",
    "DIRECTIONS",
    "LEVELS_FILE",
    "OPS",
    "RULES_FILE",
    "SEVERITIES",
    "SEVERITY_COLORS",
    "SEVERITY_ICONS",
    "AlertConfigError",
    "AlertDeliveryError",
    "AlertEvent",
    "AlertManager",
    "ConsoleNotifier",
    "EmailNotifier",
    "Level",
    "LogFileNotifier",
    "NotebookNotifier",
    "Notifier",
    "Rule",
    "WebhookNotifier",
    "WebhookReceiver",
    "backtest",
    "episodes",
    "evaluate",
    "load_levels",
    "load_rules",
    "parse_rules",
    "render_card",
    "timeline",
    "to_prometheus_rules",
    "to_prometheus_yaml",
]
