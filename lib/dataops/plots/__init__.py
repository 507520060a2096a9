"""Plotly figures of the pipeline's health and metrics, for the course notebooks.

Every function takes DataFrames (the long shape of :meth:`dataops.metrics.MetricsStore.query`:
``ts``, ``metric``, one column per label, ``value``) and returns a new figure. Nothing here
changes plotly's global state (default template or renderer): styling is set per figure.

One module per concern: :mod:`~dataops.plots.health` (the traffic light),
:mod:`~dataops.plots.series` (metrics over time, lag/throughput, latency, freshness),
:mod:`~dataops.plots.live` (the self-refreshing view), :mod:`~dataops.plots.risk` (the risk
matrix), :mod:`~dataops.plots.quality` (the quality suite's results), on the shared look of :mod:`~dataops.plots._style`.
"""

from dataops.plots._style import NO_DATA
from dataops.plots.health import STATE_COLORS, health_overview
from dataops.plots.live import live_view, stop_live_views
from dataops.plots.quality import quality_results, success_history
from dataops.plots.risk import risk_matrix
from dataops.plots.series import freshness, lag_throughput, latency_distribution, metric_timeseries

__all__ = [
    "NO_DATA",
    "STATE_COLORS",
    "freshness",
    "health_overview",
    "lag_throughput",
    "latency_distribution",
    "live_view",
    "metric_timeseries",
    "quality_results",
    "risk_matrix",
    "stop_live_views",
    "success_history",
]
