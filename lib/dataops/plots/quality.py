"""The quality suite's results as pictures: pass/fail per test, and the success rate over runs."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

from dataops.plots._style import _base_layout, _no_data

STATUS_COLORS = {"passed": "#2e7d32", "failed": "#c62828", "no_data": "#9e9e9e"}
STATUS_LABELS = {"passed": "pasa", "failed": "falla", "no_data": "sin datos"}


def quality_results(report: Any, title: str | None = None) -> go.Figure:
    """One bar per test: its failing rows (a passing test shows a thin green bar), coloured by status."""
    results: pd.DataFrame = report.results
    layer = getattr(report, "layer", "") or "datos"
    fig = go.Figure()
    _base_layout(fig, title or f"Suite de calidad · {layer}: {report.summary()['band']}", height=max(260, 34 * len(results) + 90))
    if not len(results):
        return _no_data(fig)
    for status, label in STATUS_LABELS.items():
        part = results[results["status"] == status]
        if len(part):
            fig.add_bar(y=part["check"], x=part["failing_rows"].clip(lower=0.3 if status != "failed" else 0), orientation="h",
                        name=label, marker_color=STATUS_COLORS[status], customdata=part["message"],
                        hovertemplate="%{y}: %{customdata}<extra>" + label + "</extra>")  # fmt: skip
    fig.update_layout(barmode="overlay", xaxis_title="filas que fallan", yaxis={"autorange": "reversed"})
    return fig


def success_history(history: pd.DataFrame, title: str = "Tasa de éxito por ejecución") -> go.Figure:
    """The success rate of each saved report, with the course's bands (85 excellent, 70 good)."""
    fig = go.Figure()
    _base_layout(fig, title)
    if not len(history) or history["success_rate"].isna().all():
        return _no_data(fig)
    x = pd.to_datetime(history["at"])
    for layer, part in history.assign(x=x).groupby("layer"):
        fig.add_scatter(x=part["x"], y=part["success_rate"], mode="lines+markers", name=layer or "datos")
    for level, label in ((85, "excelente"), (70, "bueno")):
        fig.add_hline(y=level, line_dash="dot", line_color="#757575", annotation_text=label, annotation_position="right")
    fig.update_yaxes(range=[0, 105], title="% de tests que pasan")
    return fig
