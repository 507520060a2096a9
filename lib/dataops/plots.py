"""Plotly figures of the pipeline's health and metrics, for the course notebooks.

Every function takes DataFrames (the long shape of :meth:`dataops.metrics.MetricsStore.query`:
``ts``, ``metric``, one column per label, ``value``) and returns a new figure. Nothing here
changes plotly's global state (default template or renderer): styling is set per figure.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import threading
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

logger = logging.getLogger(__name__)

__all__ = [
    "NO_DATA",
    "freshness",
    "health_overview",
    "lag_throughput",
    "latency_distribution",
    "live_view",
    "metric_timeseries",
    "risk_matrix",
    "stop_live_views",
]

NO_DATA = "sin datos todavía"
THRESHOLD_NAME = "umbral"
OUTLIER_NAME = "fuera de umbral"
_GRID = "#e8e8e8"

STATE_COLORS = {"green": "#2e7d32", "amber": "#f9a825", "red": "#c62828", "waiting": "#1e88e5"}
_STATE_LABELS = {"green": "OK", "amber": "atención", "red": "fallo", "waiting": "esperando datos"}
_UNKNOWN_COLOR = "#9e9e9e"
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
}
_TIME_AXIS = "Hora (UTC)"
_NOT_LABELS = ("ts", "metric", "value")

# PLOTLY_RENDERER values that cannot show a figure updating in place.
_STATIC_RENDERERS = frozenset(
    {"png", "jpeg", "jpg", "svg", "pdf", "json", "browser", "firefox", "chrome", "chromium",
     "sphinx_gallery", "sphinx_gallery_png"}
)


# ---- helpers ---------------------------------------------------------------------------
def _axis_title(metric: str) -> str:
    return _AXIS.get(metric, (metric, ""))[0]


def _unit(metric: str) -> str:
    return _AXIS.get(metric, ("", ""))[1]


def _base_layout(fig: go.Figure, title: str, height: int = 380) -> go.Figure:
    # A light look set per figure (no template: copying one costs ~50 ms per figure).
    fig.update_xaxes(gridcolor=_GRID, linecolor=_GRID, zerolinecolor=_GRID)
    fig.update_yaxes(gridcolor=_GRID, linecolor=_GRID, zerolinecolor=_GRID)
    fig.update_layout(
        plot_bgcolor="white",
        title={"text": title, "x": 0.01, "xanchor": "left"},
        height=height,
        margin={"l": 60, "r": 20, "t": 60, "b": 40},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0},
    )
    return fig


def _no_data(fig: go.Figure, xref: str = "paper", yref: str = "paper") -> go.Figure:
    fig.add_annotation(
        text=NO_DATA, xref=xref, yref=yref, x=0.5, y=0.5, showarrow=False,
        font={"size": 16, "color": "#757575"},
    )
    return fig


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


# ---- 1. health -------------------------------------------------------------------------
def health_overview(status: pd.DataFrame) -> go.Figure:
    """Traffic light of the pipeline, one row per layer.

    Args:
        status: Columns ``layer``, ``state`` ("green", "amber", "red" or "waiting": no sample yet) and ``detail``.

    Returns:
        One marker per layer (top to bottom in input order) colored by state, the detail as text.
    """
    fig = _base_layout(go.Figure(), "Salud del pipeline", height=max(160, 70 + 42 * len(status)))
    fig.update_layout(showlegend=False, margin={"l": 110, "r": 20, "t": 50, "b": 10})
    fig.update_xaxes(visible=False, range=[-0.25, 4.0], fixedrange=True)
    fig.update_yaxes(showgrid=False, fixedrange=True, autorange="reversed")
    if len(status) == 0:
        fig.update_yaxes(visible=False)
        return _no_data(fig)
    states = [str(s).strip().lower() for s in status["state"]]
    details = ["" if pd.isna(d) else str(d) for d in status.get("detail", pd.Series([""] * len(status)))]
    layers = [str(x) for x in status["layer"]]
    fig.add_trace(
        go.Scatter(
            x=[0.0] * len(layers),
            y=layers,
            mode="markers+text",
            name="estado",
            marker={"size": 22, "color": [STATE_COLORS.get(s, _UNKNOWN_COLOR) for s in states],
                    "line": {"width": 1, "color": "#424242"}},
            text=details,
            textposition="middle right",
            customdata=[[_STATE_LABELS.get(s, s), d] for s, d in zip(states, details)],
            hovertemplate="<b>%{y}</b>: %{customdata[0]}<br>%{customdata[1]}<extra></extra>",
        )
    )
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=layers)
    return fig


# ---- 2. one metric over time -------------------------------------------------------------
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


# ---- 3. lag and throughput ------------------------------------------------------------------
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


# ---- 4. latency histogram ---------------------------------------------------------------------
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


# ---- 5. freshness ----------------------------------------------------------------------------
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


# ---- 6. live view --------------------------------------------------------------------------
_LIVE: dict[int, threading.Event] = {}
_LIVE_LOCK = threading.Lock()


def _interactive_frontend() -> bool:
    """True in a kernel with a frontend that can update a widget (JupyterLab/Notebook, VS Code, Colab)."""
    renderer = os.environ.get("PLOTLY_RENDERER", "").strip().lower()
    if renderer and all(part.strip() in _STATIC_RENDERERS for part in renderer.split("+")):
        return False
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or getattr(shell, "kernel", None) is None:
        return False
    # papermill/nbval also run a kernel, with no frontend: jupyter_server sets JPY_SESSION_NAME
    # for the kernels of JupyterLab and Notebook; VS Code and Colab are recognised by their own marks.
    return bool(os.environ.get("JPY_SESSION_NAME") or os.environ.get("VSCODE_PID") or "google.colab" in sys.modules)


def _same_structure(a: go.Figure, b: go.Figure) -> bool:
    return len(a.data) == len(b.data) and all(
        x.type == y.type and x.name == y.name for x, y in zip(a.data, b.data)
    )


def _update_widget(widget: go.Figure, new: go.Figure) -> None:
    """Copy ``new``'s data into ``widget`` in place (one batch when the traces are the same)."""
    if _same_structure(widget, new):
        with widget.batch_update():
            for old, fresh in zip(widget.data, new.data):
                old.x, old.y, old.customdata = fresh.x, fresh.y, fresh.customdata
            widget.layout.annotations = new.layout.annotations
        return
    with widget.batch_update():
        widget.layout.annotations = new.layout.annotations
    widget.data = ()
    if new.data:
        widget.add_traces([t.to_plotly_json() for t in new.data])


def _make_widget(fig: go.Figure) -> tuple[Any, Callable[[go.Figure], None]]:
    """A displayable widget showing ``fig`` and the function that redraws it with a new figure."""
    try:
        widget = go.FigureWidget(fig)
        return widget, lambda new: _update_widget(widget, new)
    except ImportError:  # plotly's FigureWidget needs anywidget: redraw the whole figure in an Output.
        import ipywidgets
        import plotly.io as pio

        mime = pio.renderers["plotly_mimetype"]
        out = ipywidgets.Output()

        def redraw(new: go.Figure) -> None:
            bundle = mime.to_mimebundle(new.to_dict())
            bundle["text/plain"] = f"<live view: {new.layout.title.text}>"
            out.outputs = ({"output_type": "display_data", "data": bundle, "metadata": {}},)
            object.__setattr__(out, "figure", new)

        redraw(fig)
        return out, redraw


def live_view(
    fetch: Callable[[], pd.DataFrame],
    metric: str,
    interval_s: float = 5.0,
    threshold: float | None = None,
    iterations: int | None = None,
    headless: bool | None = None,
) -> Any:
    """A figure of ``metric`` that refreshes itself in the notebook every ``interval_s`` seconds.

    In JupyterLab it returns a ``go.FigureWidget`` (an ``ipywidgets.Output`` when anywidget is not
    installed) refreshed in place by a daemon thread; the returned object has ``stop()`` and
    ``live_thread``. Headless (``headless=True``, no frontend, e.g. papermill, or a static
    ``PLOTLY_RENDERER``) it draws once and returns a plain ``go.Figure``.

    Args:
        fetch: Returns the samples, e.g. ``lambda: store.query("topic_lag", since=time.time() - 600)``.
        metric: The metric drawn with :func:`metric_timeseries`.
        interval_s: Seconds between refreshes.
        threshold: Passed to :func:`metric_timeseries`.
        iterations: Stop after this many refreshes; None runs until ``stop()`` or the kernel ends.
        headless: Force (True) or refuse (False) the static figure; None detects it.
    """
    if not interval_s > 0:
        raise ValueError(f"interval_s must be > 0, got {interval_s!r}")
    if iterations is not None and iterations < 0:
        raise ValueError(f"iterations must be >= 0, got {iterations!r}")
    fig = metric_timeseries(fetch(), metric, threshold)
    if headless is None:
        headless = not _interactive_frontend()
    if headless:
        return fig
    try:
        widget, redraw = _make_widget(fig)
    except Exception as exc:  # noqa: BLE001 - no widgets available: fall back to the static figure
        logger.warning("live_view: no widget available (%s); showing a static figure", exc)
        return fig

    stopped = threading.Event()

    def run() -> None:
        done = 0
        try:
            while (iterations is None or done < iterations) and not stopped.wait(interval_s):
                if getattr(widget, "comm", True) is None:  # the widget was closed
                    break
                try:
                    redraw(metric_timeseries(fetch(), metric, threshold))
                except Exception:  # noqa: BLE001 - a failed refresh must not kill the view
                    logger.warning("live_view(%s): refresh failed", metric, exc_info=True)
                done += 1
        finally:
            stopped.set()
            with _LIVE_LOCK:
                _LIVE.pop(id(stopped), None)

    thread = threading.Thread(target=run, name=f"live_view-{metric}", daemon=True)
    object.__setattr__(widget, "stop", stopped.set)
    object.__setattr__(widget, "live_thread", thread)
    with _LIVE_LOCK:
        _LIVE[id(stopped)] = stopped
    thread.start()
    return widget


def stop_live_views() -> int:
    """Stop every running :func:`live_view` (e.g. before re-running cells). Returns how many."""
    with _LIVE_LOCK:
        events = list(_LIVE.values())
        _LIVE.clear()
    for event in events:
        event.set()
    return len(events)


# ---- 7. risk matrix ---------------------------------------------------------------------------
LEVELS = ("Bajo", "Medio", "Alto")
_LEVEL_INDEX = {
    "bajo": 0, "baja": 0, "low": 0,
    "medio": 1, "media": 1, "medium": 1,
    "alto": 2, "alta": 2, "high": 2,
}
_RISK_SCALE = [[0.0, "#2e7d32"], [0.5, "#f9a825"], [1.0, "#c62828"]]


def _level(value: Any, column: str, component: Any) -> int:
    key = str(value).strip().lower()
    if key not in _LEVEL_INDEX:
        raise ValueError(f"risk_matrix: {column} of {component!r} is {value!r}, expected one of {LEVELS}")
    return _LEVEL_INDEX[key]


def _cell_offsets(n: int) -> list[tuple[float, float]]:
    """Positions of ``n`` markers inside one cell (centre 0,0, half-size 0.5), left-right then top-down."""
    if n <= 1:
        return [(0.0, 0.0)]
    cols = 1 if n <= 3 else 2
    rows = math.ceil(n / cols)
    xs = [0.0] if cols == 1 else [-0.22, 0.22]
    ys = [0.0] if rows == 1 else list(np.linspace(0.3, -0.3, rows))
    return [(xs[i % cols], float(ys[i // cols])) for i in range(n)]


def risk_matrix(df: pd.DataFrame) -> go.Figure:
    """The failure-points table as a 3×3 impact × probability grid, green to red.

    Args:
        df: Columns ``component``, ``risk``, ``impact`` and ``probability`` (levels "Bajo",
            "Medio", "Alto"; "Baja"/"Media"/"Alta" are accepted too).

    Returns:
        A heatmap background (x: probability 0-2, y: impact 0-2) and one labelled marker per
        component, spread inside its cell when several share it.

    Raises:
        ValueError: A level is not one of the three.
    """
    fig = _base_layout(go.Figure(), "Matriz de riesgos", height=520)
    fig.update_layout(showlegend=False)
    fig.add_trace(
        go.Heatmap(
            x=[0, 1, 2], y=[0, 1, 2], z=[[i + j for j in range(3)] for i in range(3)],
            colorscale=_RISK_SCALE, zmin=0, zmax=4, showscale=False, opacity=0.6,
            xgap=3, ygap=3, hoverinfo="skip", name="fondo",
        )
    )
    axis = {"tickvals": [0, 1, 2], "ticktext": list(LEVELS), "range": [-0.5, 2.5],
            "showgrid": False, "zeroline": False, "fixedrange": True}
    fig.update_xaxes(title_text="Probabilidad", **axis)
    fig.update_yaxes(title_text="Impacto", **axis)
    if len(df) == 0:
        return _no_data(fig)
    cells: dict[tuple[int, int], list[int]] = {}
    for i, row in enumerate(df.itertuples(index=False)):
        key = (_level(row.probability, "probability", row.component), _level(row.impact, "impact", row.component))
        cells.setdefault(key, []).append(i)
    x = [0.0] * len(df)
    y = [0.0] * len(df)
    for (px, iy), members in cells.items():
        for i, (dx, dy) in zip(members, _cell_offsets(len(members))):
            x[i], y[i] = px + dx, iy + dy
    risks = ["" if pd.isna(r) else str(r) for r in df["risk"]] if "risk" in df.columns else [""] * len(df)
    fig.add_trace(
        go.Scatter(
            x=x, y=y, mode="markers+text", name="componentes",
            text=[str(c) for c in df["component"]], textposition="top center",
            textfont={"size": 11, "color": "#212121"},
            marker={"size": 11, "color": "#263238", "line": {"width": 1.5, "color": "white"}},
            customdata=[[r, str(imp), str(prob)] for r, imp, prob in zip(risks, df["impact"], df["probability"])],
            hovertemplate="<b>%{text}</b><br>%{customdata[0]}<br>Impacto %{customdata[1]}, "
            "probabilidad %{customdata[2]}<extra></extra>",
        )
    )
    return fig
