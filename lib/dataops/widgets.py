"""The alert designer of block 2: try a rule on a metric history and see when it would fire.

Every action of the widget is one plain call, so papermill and the tests run it headless::

    from dataops import scenarios, widgets
    history, incidents = scenarios.render_history("api_outage")
    rule, fig, table = widgets.design_alert(history, "api_error_rate", 5, window_s=60, severity="CRITICAL",
                                            incidents=incidents)
    widgets.alert_designer(history, incidents)    # the same, with dropdowns and sliders
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go

from dataops import alerts, plots

__all__ = ["FIRING_SHAPE", "INCIDENT_SHAPE", "design_alert", "alert_designer"]

FIRING_SHAPE = "disparo"
INCIDENT_SHAPE = "incidente"
BACKTEST_COLS = ["rule", "severity", "episodes", "true_episodes", "precision", "detected", "recall", "mean_delay_s"]
_BASE = ("ts", "metric", "value")


def _label_cols(history: pd.DataFrame) -> list[str]:
    return [c for c in history.columns if c not in _BASE]


def _series(history: pd.DataFrame, metric: str, labels: Mapping[str, str] | None) -> pd.DataFrame:
    rows = history[history["metric"] == metric]
    for key, val in (labels or {}).items():
        if key in rows:
            rows = rows[rows[key].astype(str) == str(val)]
    return rows


def _default_threshold(values: pd.Series, op: str) -> float:
    values = values.dropna()
    if values.empty:
        return 0.0
    return float(values.quantile(0.95 if op in (">", ">=") else 0.05))


def _incidents_for(incidents: pd.DataFrame) -> pd.DataFrame:
    """The labelled windows, once each, applying to whatever rule is being designed."""
    inc = incidents.drop_duplicates(subset=["start", "end"]).copy()
    inc["rule"] = ""
    return inc.reset_index(drop=True)


def design_alert(
    history: pd.DataFrame,
    metric: str,
    threshold: float | None = None,
    op: str = ">",
    window_s: float = 0,
    for_s: float = 0,
    severity: str = "HIGH",
    labels: Mapping[str, str] | None = None,
    incidents: pd.DataFrame | None = None,
    name: str = "mi_alerta",
) -> tuple[alerts.Rule, go.Figure, pd.DataFrame]:
    """Build a rule, draw the metric with the periods it would fire shaded, and backtest it.

    Args:
        history: Long metric frame (``p.metrics()`` or ``scenarios.render_history()[0]``).
        metric: The metric to alert on.
        threshold: Limit; default the 95th percentile (5th for ``<``/``<=``) of the series.
        op: ``>``, ``>=``, ``<`` or ``<=``.
        window_s: > 0 compares the mean over this window (a ``rate`` rule) instead of each sample.
        for_s: The condition must hold this long before firing.
        severity: CRITICAL, HIGH, MEDIUM or LOW.
        labels: Only the series with these labels, e.g. ``{"coin": "ethereum"}``.
        incidents: Labelled incidents (``start``, ``end``); each window counts for this rule.
        name: Name of the rule.

    Returns:
        ``(rule, figure, backtest)``: the backtest has one row (empty frame without incidents).
    """
    labels = {str(k): str(v) for k, v in (labels or {}).items() if v not in (None, "")}
    rows = _series(history, metric, labels)
    if threshold is None:
        threshold = _default_threshold(rows["value"], op)
    spec: dict[str, Any] = {"condition": "threshold"}
    if window_s and window_s > 0:
        spec = {"condition": "rate", "agg": "mean", "window_s": float(window_s)}
    rule = alerts.Rule(
        name=name, metric=metric, op=op, value=float(threshold), for_s=float(for_s), severity=severity,
        labels=labels, description=f"{metric} {op} {float(threshold):g}", **spec,
    )
    fig = plots.metric_timeseries(rows, metric, threshold=float(threshold), above_is_bad=op in (">", ">="),
                                  title=f"{name}: {rule.describe()} [{rule.severity}]")
    if rows.empty:
        eps = pd.DataFrame(columns=["metric", "labels", "start", "end"])
    else:
        if rule.condition == "rate":
            tl = alerts.timeline(rule, rows)
            fig.add_trace(go.Scatter(x=tl["ts"], y=tl["measure"], mode="lines", name=f"media {window_s:g}s",
                                     line={"dash": "dot"}))
        eps = alerts.episodes(rule, rows)
    color = alerts.SEVERITY_COLORS.get(rule.severity, "#e65100")
    if incidents is not None and len(incidents):
        for inc in _incidents_for(incidents).itertuples(index=False):
            fig.add_vrect(x0=inc.start, x1=inc.end, fillcolor="#9e9e9e", opacity=0.15, line_width=0, layer="below",
                          name=INCIDENT_SHAPE)
    for ep in eps.itertuples(index=False):
        fig.add_vrect(x0=ep.start, x1=ep.end, fillcolor=color, opacity=0.25, line_width=0, layer="below",
                      name=FIRING_SHAPE)
    fig.update_layout(hovermode="x")
    table = pd.DataFrame(columns=BACKTEST_COLS)
    if incidents is not None:
        table = alerts.backtest([rule], history, _incidents_for(incidents))[BACKTEST_COLS]
    return rule, fig, table


# ---- the widget ----------------------------------------------------------------------------
def _bundle(fig: go.Figure) -> dict[str, Any]:
    import plotly.io as pio

    data = pio.renderers["plotly_mimetype"].to_mimebundle(fig.to_dict())
    data["text/plain"] = f"<figura: {fig.layout.title.text}>"
    return {"output_type": "display_data", "data": data, "metadata": {}}


def _table_bundle(table: pd.DataFrame) -> dict[str, Any]:
    text = "sin incidentes etiquetados" if table.empty else table.T.to_string(header=False)
    html = "<i>sin incidentes etiquetados</i>" if table.empty else table.T.to_html(header=False)
    return {"output_type": "display_data", "data": {"text/plain": text, "text/html": html}, "metadata": {}}


def alert_designer(history: pd.DataFrame, incidents: pd.DataFrame | None = None,
                   metrics: Sequence[str] | None = None) -> Any:
    """Dropdowns and sliders over :func:`design_alert`; every change re-runs it.

    Builds without a frontend (nothing blocks): the current result is also kept on the box as
    ``box.rule``, ``box.figure`` and ``box.table``, and ``box.controls`` maps names to widgets.
    """
    import ipywidgets as w

    names = list(metrics) if metrics else sorted(history["metric"].unique())
    if not names:
        raise ValueError("alert_designer: el histórico no tiene métricas")
    label_cols = _label_cols(history)
    metric = w.Dropdown(options=names, value=names[0], description="Métrica")
    series = w.Dropdown(options=[("todas", "")], value="", description="Serie")
    severity = w.Dropdown(options=list(alerts.SEVERITIES), value="HIGH", description="Severidad")
    op = w.Dropdown(options=list(alerts.OPS), value=">", description="Operador")
    threshold = w.FloatText(value=0.0, description="Umbral")
    window = w.FloatSlider(value=0, min=0, max=900, step=15, description="Ventana (s)")
    for_s = w.FloatSlider(value=0, min=0, max=900, step=15, description="Durante (s)")
    fig_out, table_out = w.Output(), w.Output()
    box = w.VBox([w.HBox([metric, series, severity]), w.HBox([op, threshold]), w.HBox([window, for_s]),
                  w.HBox([fig_out, table_out])])
    controls = {"metric": metric, "series": series, "severity": severity, "op": op,
                "threshold": threshold, "window_s": window, "for_s": for_s}
    object.__setattr__(box, "controls", controls)
    busy = {"on": False}

    def series_options(name: str) -> list[tuple[str, str]]:
        rows = history[history["metric"] == name]
        opts = [("todas", "")]
        for col in label_cols:
            vals = sorted(v for v in rows[col].astype(str).unique() if v)
            if len(vals) > 1:
                opts += [(f"{col}={v}", f"{col}={v}") for v in vals]
        return opts

    def labels() -> dict[str, str]:
        if not series.value:
            return {}
        key, _, val = series.value.partition("=")
        return {key: val}

    def redraw(*_: Any) -> None:
        if busy["on"]:
            return
        rule, fig, table = design_alert(history, metric.value, threshold.value, op.value, window.value,
                                        for_s.value, severity.value, labels(), incidents)
        object.__setattr__(box, "rule", rule)
        object.__setattr__(box, "figure", fig)
        object.__setattr__(box, "table", table)
        fig_out.outputs = (_bundle(fig),)
        table_out.outputs = (_table_bundle(table),)

    def reset_metric(*_: Any) -> None:
        busy["on"] = True
        try:
            opts = series_options(metric.value)
            series.options = opts
            series.value = opts[1][1] if len(opts) > 1 else ""
            values = _series(history, metric.value, labels())["value"]
            threshold.value = round(_default_threshold(values, op.value), 6)
        finally:
            busy["on"] = False
        redraw()

    def reset_threshold(*_: Any) -> None:
        if busy["on"]:
            return
        busy["on"] = True
        try:
            threshold.value = round(_default_threshold(_series(history, metric.value, labels())["value"], op.value), 6)
        finally:
            busy["on"] = False
        redraw()

    metric.observe(reset_metric, names="value")
    series.observe(reset_threshold, names="value")
    for ctl in (severity, op, threshold, window, for_s):
        ctl.observe(redraw, names="value")
    reset_metric()
    return box
