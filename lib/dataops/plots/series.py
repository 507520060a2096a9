"""Metrics over time from the long samples of ``MetricsStore.query()``: lines, lag/throughput, histogram, freshness."""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dataops.plots._style import _base_layout, _no_data

THRESHOLD_NAME = "umbral"
OUTLIER_NAME = "fuera de umbral"
_THRESHOLD_COLOR = "#c62828"

# Short Spanish axis titles (and units) of the monitor's metrics (dataops.monitor.METRICS).
_AXIS = {
    "api_response_time": ("Latencia (ms)", "ms"),
    "api_error_rate": ("Errores API (%)", "%"),
    "http_status_codes": ("Peticiones", ""),
    "messages_produced": ("Mensajes", ""),
    "connector_status": ("Conector activo", ""),
    "topic_lag": ("Lag (mensajes)", ""),
    "throughput": ("Mensajes/s", "msg/s"),
    "processing_latency": ("Latencia (s)", "s"),
    "error_rate": ("Errores (%)", "%"),
    "dlq_records": ("Registros DLQ", ""),
    "data_freshness": ("Antigüedad (s)", "s"),
    "data_completeness": ("Completitud (%)", "%"),
    "data_accuracy": ("Exactitud (%)", "%"),
    "pipeline_availability": ("Disponibilidad (%)", "%"),
    "cpu_percent": ("CPU (%)", "%"),
    "rss_mb": ("Memoria (MB)", "MB"),
    "price_change_24h": ("Cambio 24 h (%)", "%"),
    "price_updates": ("Actualizaciones/min", "/min"),
    "coin_coverage": ("Cobertura (%)", "%"),
    "e2e_latency": ("Latencia e2e (s)", "s"),
}
_TIME_AXIS = "Hora (UTC)"
_NOT_LABELS = ("ts", "metric", "value")


# ---- helpers ---------------------------------------------------------------------------
def _axis_title(metric: str) -> str:
    return _AXIS.get(metric, (metric, ""))[0]


def _unit(metric: str) -> str:
    return _AXIS.get(metric, ("", ""))[1]


def _select(df: pd.DataFrame | None, metric: str | None) -> pd.DataFrame:
    """Rows of ``metric`` (all rows when the frame has no ``metric`` column), numeric values, by time."""
    if df is None or len(df) == 0 or "value" not in df.columns:
        return pd.DataFrame(columns=["ts", "value"])
    out = df
    if metric is not None and "metric" in out.columns:
        out = out[out["metric"] == metric]
    out = out.copy()
    out["value"] = pd.to_numeric(out["value"], errors="coerce")
    if "ts" in out.columns:
        out = out.sort_values("ts", kind="stable")
    return out.reset_index(drop=True)


def _label_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if c not in _NOT_LABELS]


def _series_name(labels: dict[str, Any], fallback: str) -> str:
    parts = [f"{k}={v}" for k, v in labels.items() if isinstance(v, str) and v != ""]
    return ", ".join(parts) or fallback


def _iter_series(df: pd.DataFrame, fallback: str) -> Iterator[tuple[str, pd.DataFrame]]:
    """(trace name, rows) of each label combination, ordered by name."""
    cols = _label_columns(df)
    if not cols:
        yield fallback, df
        return
    keys = df[cols].astype(object).where(df[cols].notna(), "").astype(str)
    groups: dict[str, list[int]] = {}
    for i, row in enumerate(keys.itertuples(index=False, name=None)):
        groups.setdefault(_series_name(dict(zip(cols, row)), fallback), []).append(i)
    for name in sorted(groups):
        yield name, df.iloc[groups[name]]


def _beyond(values: pd.Series, threshold: float, above_is_bad: bool) -> pd.Series:
    return values > threshold if above_is_bad else values < threshold


# ---- one metric over time ------------------------------------------------------------
def metric_timeseries(
    df: pd.DataFrame,
    metric: str,
    threshold: float | None = None,
    above_is_bad: bool = True,
    title: str | None = None,
) -> go.Figure:
    """One metric over time: a line per series, the threshold and the points beyond it.

    Args:
        df: Long samples (``MetricsStore.query()``); rows of other metrics are ignored.
        metric: The metric to draw.
        threshold: Draws a dashed trace "umbral" and marks the points beyond it ("fuera de umbral").
        above_is_bad: True when values above the threshold are bad, False when values below are.
        title: Figure title; defaults to the metric name.

    Returns:
        The figure; with no samples, an empty one annotated "sin datos todavía".
    """
    data = _select(df, metric)
    fig = _base_layout(go.Figure(), title or metric)
    fig.update_layout(uirevision=metric, hovermode="closest")
    fig.update_xaxes(title_text=_TIME_AXIS)
    fig.update_yaxes(title_text=_axis_title(metric))
    if data.empty:
        return _no_data(fig)
    out_x: list[Any] = []
    out_y: list[float] = []
    out_name: list[str] = []
    for name, rows in _iter_series(data, metric):
        fig.add_trace(go.Scatter(x=rows["ts"], y=rows["value"], mode="lines", name=name))
        if threshold is not None:
            bad = rows[_beyond(rows["value"], threshold, above_is_bad)]
            out_x += list(bad["ts"])
            out_y += list(bad["value"])
            out_name += [name] * len(bad)
    if threshold is not None:
        fig.add_trace(
            go.Scatter(
                x=[data["ts"].min(), data["ts"].max()],
                y=[threshold, threshold],
                mode="lines",
                name=THRESHOLD_NAME,
                line={"dash": "dash", "color": _THRESHOLD_COLOR, "width": 1.5},
                hovertemplate=f"umbral: {threshold:g}<extra></extra>",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=out_x,
                y=out_y,
                mode="markers",
                name=OUTLIER_NAME,
                customdata=out_name,
                marker={"color": _THRESHOLD_COLOR, "size": 8, "symbol": "x"},
                hovertemplate="%{customdata}<br>%{x}<br>%{y}<extra>fuera de umbral</extra>",
            )
        )
    return fig


# ---- lag and throughput --------------------------------------------------------------
def lag_throughput(df: pd.DataFrame) -> go.Figure:
    """Kafka's ``topic_lag`` per group/topic (top) and ``throughput`` per topic (bottom), sharing x.

    Args:
        df: Long samples holding ``topic_lag`` and ``throughput`` rows.

    Returns:
        A figure of two stacked subplots; an empty subplot is annotated "sin datos todavía".
    """
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1,
        subplot_titles=("Lag por grupo/topic", "Throughput por topic"),
    )
    _base_layout(fig, "Kafka: lag y throughput", height=520)
    for row, metric, group in ((1, "topic_lag", "lag"), (2, "throughput", "throughput")):
        data = _select(df, metric)
        fig.update_yaxes(title_text=_axis_title(metric), row=row, col=1)
        if data.empty:
            suffix = "" if row == 1 else str(row)
            _no_data(fig, xref=f"x{suffix} domain", yref=f"y{suffix} domain")
            continue
        for name, rows in _iter_series(data, metric):
            fig.add_trace(
                go.Scatter(x=rows["ts"], y=rows["value"], mode="lines", name=name,
                           legendgroup=group, legendgrouptitle_text=metric),
                row=row, col=1,
            )
    fig.update_xaxes(title_text=_TIME_AXIS, row=2, col=1)
    fig.update_layout(legend={"orientation": "v", "y": 1.0, "x": 1.02, "xanchor": "left", "yanchor": "top"})
    return fig


# ---- latency histogram ---------------------------------------------------------------
def latency_distribution(
    df: pd.DataFrame, metric: str = "api_response_time", threshold: float | None = None
) -> go.Figure:
    """Histogram of a metric's values with its p50 and p95 (and the threshold) as vertical lines.

    Args:
        df: Long samples; rows of other metrics are ignored.
        metric: The metric, by default the API latency in ms.
        threshold: Adds a dashed vertical line named "umbral".

    Returns:
        The histogram; the lines are layout shapes named "p50", "p95" and "umbral".
    """
    values = _select(df, metric)["value"].dropna()
    fig = _base_layout(go.Figure(), f"Distribución de {metric}")
    fig.update_layout(bargap=0.05, showlegend=False)
    fig.update_xaxes(title_text=_axis_title(metric))
    fig.update_yaxes(title_text="Muestras")
    if values.empty:
        return _no_data(fig)
    fig.add_trace(go.Histogram(x=values.to_numpy(), name=metric, marker_color="#1f77b4", opacity=0.8))
    unit = _unit(metric)
    p50, p95 = (float(np.percentile(values.to_numpy(), q)) for q in (50, 95))
    lines = [("p50", p50, "#37474f", "dot", "top left"), ("p95", p95, "#ef6c00", "dot", "top right")]
    if threshold is not None:
        lines.append((THRESHOLD_NAME, float(threshold), _THRESHOLD_COLOR, "dash", "bottom right"))
    for name, x, color, dash, position in lines:
        fig.add_vline(
            x=x, name=name, line={"color": color, "dash": dash, "width": 2},
            annotation_text=f"{name} {x:.4g} {unit}".rstrip(), annotation_position=position,
            annotation_font_color=color,
        )
    return fig


# ---- freshness -----------------------------------------------------------------------
def freshness(df: pd.DataFrame, threshold_s: float = 600.0) -> go.Figure:
    """``data_freshness`` (seconds) over time, shaded, with the stale-data threshold (10 min).

    Args:
        df: Long samples holding ``data_freshness`` rows.
        threshold_s: The stale-data alert threshold in seconds.

    Returns:
        :func:`metric_timeseries` of ``data_freshness`` with the area under each line filled.
    """
    fig = metric_timeseries(df, "data_freshness", threshold_s, True, "Frescura de los datos")
    fig.update_traces(fill="tozeroy", selector=lambda t: t.name not in (THRESHOLD_NAME, OUTLIER_NAME))
    fig.update_yaxes(rangemode="tozero")
    return fig
