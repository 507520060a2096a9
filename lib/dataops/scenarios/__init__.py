"""Labelled incident scenarios: offline metric histories and live replays.

A scenario is data (``data/scenarios/<name>.yaml``): a baseline and a list of
incidents, each with a time window, the simulator fault (or caller action) that
causes it, the alert rules expected to fire, and a label. From it:

* :func:`render_history` builds, deterministically from a seed, a metric history
  in the long format of ``MetricsStore.query()`` plus the labelled incidents a
  backtest compares alerts against;
* :func:`replay` injects the faults into a live simulator at their offsets.

Incident YAML keys: ``start_s, end_s, fault`` (a simulator fault) or ``action``
(``pause_consumer``, delegated to a callable), ``params`` (sent to the fault),
``effect`` (render-only knobs, never sent), ``expected_rules``, ``label``.

Modules: ``loading`` (the model and the YAML reader), ``history`` (the offline
history), ``live`` (the live replay).
"""

from dataops.errors import ScenarioError
from dataops.scenarios.history import (
    CONNECTOR,
    DEFAULT_START,
    GROUP,
    HISTORY_COLUMNS,
    INCIDENT_COLUMNS,
    LABELS,
    TOPIC,
    render_history,
)
from dataops.scenarios.live import replay
from dataops.scenarios.loading import ACTIONS, SCENARIO_DIR, Incident, Scenario, load_scenario, scenarios

__all__ = [
    "ACTIONS",
    "Incident",
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "render_history",
    "replay",
    "scenarios",
]
