"""Unit tests of the notebook figures (``dataops.plots``), on small in-memory frames."""

from __future__ import annotations

import importlib
import threading
import time

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from dataops import plots
from dataops.plots import _style, health, live, risk, series

pytestmark = pytest.mark.unit

T0 = 1_700_000_000.0


def samples(metric: str, values: list[float], step_s: float = 10.0, **labels: str) -> pd.DataFrame:
    """Rows in the shape of ``MetricsStore.query()`` for one series."""
    n = len(values)
    df = pd.DataFrame({"ts": pd.to_datetime(T0 + step_s * np.arange(n), unit="s", utc=True), "metric": [metric] * n})
    for name, value in labels.items():
        df[name] = [value] * n
    df["value"] = np.asarray(values, dtype=float)
    return df


def store_frame(*parts: pd.DataFrame) -> pd.DataFrame:
    """Concatenate series like the store does: every label column present, "" where missing."""
    df = pd.concat(parts, ignore_index=True)
    labels = sorted(c for c in df.columns if c not in ("ts", "metric", "value"))
    for name in labels:
        df[name] = df[name].fillna("")
    return df[["ts", "metric", *labels, "value"]].sort_values("ts", kind="stable").reset_index(drop=True)


def by_name(fig: go.Figure) -> dict[str, go.Scatter]:
    return {t.name: t for t in fig.data}


def annotation_texts(fig: go.Figure) -> list[str]:
    return [a.text for a in fig.layout.annotations]


LAG = store_frame(
    samples("topic_lag", [1, 5, 2, 8, 3], group="flink", topic="crypto-prices"),
    samples("topic_lag", [0, 0, 9, 0, 0], group="flink", topic="crypto-exploded"),
    samples("throughput", [3.5, 4.0, 4.5, 5.0], topic="crypto-prices"),
    samples("api_response_time", [120.0, 80.0, 95.0]),
)


# ---- health ------------------------------------------------------------------------------
def test_health_overview_one_colored_marker_per_layer():
    status = pd.DataFrame(
        {
            "layer": ["Fuente", "Kafka Connect", "Kafka", "Flink", "Iceberg", "DuckDB"],
            "state": ["green", "green", "amber", "red", "green", "amber"],
            "detail": ["200 OK", "RUNNING", "lag 120", "job caído", "hace 30 s", "lento"],
        }
    )
    fig = plots.health_overview(status)
    assert fig.layout.title.text == "Salud del pipeline"
    assert len(fig.data) == 1
    trace = fig.data[0]
    assert list(trace.y) == list(status["layer"])
    assert list(trace.text) == list(status["detail"])
    colors = [plots.STATE_COLORS[s] for s in status["state"]]
    assert list(trace.marker.color) == colors
    assert [c[1] for c in trace.customdata] == list(status["detail"])
    assert "customdata[1]" in trace.hovertemplate


def test_health_overview_unknown_state_is_grey_and_empty_is_annotated():
    fig = plots.health_overview(pd.DataFrame({"layer": ["Kafka"], "state": ["purple"], "detail": [""]}))
    assert fig.data[0].marker.color[0] not in plots.STATE_COLORS.values()
    empty = plots.health_overview(pd.DataFrame(columns=["layer", "state", "detail"]))
    assert len(empty.data) == 0 and plots.NO_DATA in annotation_texts(empty)


def test_health_overview_waiting_has_its_own_colour_and_label():
    from dataops.monitor import HEALTH_STATES

    assert set(HEALTH_STATES) == set(plots.STATE_COLORS)  # every state health() emits has a colour
    fig = plots.health_overview(pd.DataFrame({"layer": ["Kafka", "Flink"], "state": ["waiting", "green"], "detail": ["esperando x", ""]}))
    colour = fig.data[0].marker.color[0]
    assert colour == plots.STATE_COLORS["waiting"]
    assert colour not in (plots.STATE_COLORS["green"], plots.STATE_COLORS["red"], plots.STATE_COLORS["amber"])
    assert fig.data[0].customdata[0][0] == "esperando datos"


# ---- metric_timeseries -----------------------------------------------------------------------
def test_metric_timeseries_one_line_per_series_named_by_labels():
    fig = plots.metric_timeseries(LAG, "topic_lag")
    names = [t.name for t in fig.data]
    assert names == ["group=flink, topic=crypto-exploded", "group=flink, topic=crypto-prices"]
    for trace in fig.data:
        assert len(trace.x) == len(trace.y) == 5
    assert list(by_name(fig)["group=flink, topic=crypto-prices"].y) == [1, 5, 2, 8, 3]
    assert fig.layout.title.text == "topic_lag"
    assert plots.NO_DATA not in annotation_texts(fig)


def test_metric_timeseries_skips_empty_labels_and_uses_metric_name_without_labels():
    assert [t.name for t in plots.metric_timeseries(LAG, "throughput").data] == ["topic=crypto-prices"]
    fig = plots.metric_timeseries(LAG, "api_response_time", title="Latencia API")
    assert [t.name for t in fig.data] == ["api_response_time"]
    assert fig.layout.title.text == "Latencia API"
    assert fig.layout.yaxis.title.text == "Latencia (ms)"


def test_metric_timeseries_threshold_and_points_beyond_it():
    fig = plots.metric_timeseries(LAG, "topic_lag", threshold=4.0)
    traces = by_name(fig)
    assert len(fig.data) == 4
    umbral = traces["umbral"]
    assert list(umbral.y) == [4.0, 4.0] and umbral.line.dash == "dash"
    assert len(umbral.x) == 2
    out = traces["fuera de umbral"]
    assert out.mode == "markers"
    assert sorted(out.y) == [5, 8, 9]
    assert sorted(out.customdata) == sorted(
        ["group=flink, topic=crypto-prices"] * 2 + ["group=flink, topic=crypto-exploded"]
    )
    # x of each outlier is the time of that sample
    expected = LAG[(LAG["metric"] == "topic_lag") & (LAG["value"] > 4.0)]
    assert sorted(pd.to_datetime(list(out.x), utc=True)) == sorted(expected["ts"])


def test_metric_timeseries_below_is_bad_and_equal_is_not_beyond():
    fig = plots.metric_timeseries(LAG, "topic_lag", threshold=1.0, above_is_bad=False)
    assert sorted(by_name(fig)["fuera de umbral"].y) == [0, 0, 0, 0]
    none_beyond = plots.metric_timeseries(LAG, "topic_lag", threshold=9.0)
    assert len(by_name(none_beyond)["fuera de umbral"].x) == 0


@pytest.mark.parametrize(
    "df",
    [
        pd.DataFrame(columns=["ts", "metric", "value"]),
        LAG.iloc[0:0],
        LAG,  # has rows, none of this metric
    ],
)
def test_metric_timeseries_without_data_is_annotated(df):
    fig = plots.metric_timeseries(df, "data_freshness", threshold=600)
    assert len(fig.data) == 0
    assert plots.NO_DATA in annotation_texts(fig)


# ---- lag_throughput -----------------------------------------------------------------------------
def test_lag_throughput_two_stacked_subplots_sharing_x():
    fig = plots.lag_throughput(LAG)
    layout = fig.layout.to_plotly_json()
    assert sorted(k for k in layout if k.startswith("yaxis")) == ["yaxis", "yaxis2"]
    assert fig.layout.xaxis.matches == "x2" or fig.layout.xaxis2.matches == "x"
    lag = [t for t in fig.data if (t.yaxis or "y") == "y"]
    tp = [t for t in fig.data if t.yaxis == "y2"]
    assert sorted(t.name for t in lag) == ["group=flink, topic=crypto-exploded", "group=flink, topic=crypto-prices"]
    assert [t.name for t in tp] == ["topic=crypto-prices"]
    assert list(tp[0].y) == [3.5, 4.0, 4.5, 5.0]
    assert all(t.mode == "lines" for t in fig.data)


def test_lag_throughput_annotates_the_empty_subplot():
    fig = plots.lag_throughput(LAG[LAG["metric"] == "topic_lag"])
    assert len(fig.data) == 2
    notes = [a for a in fig.layout.annotations if a.text == plots.NO_DATA]
    assert len(notes) == 1 and notes[0].yref == "y2 domain"


# ---- latency_distribution ---------------------------------------------------------------------
def test_latency_distribution_histogram_and_percentiles():
    values = [float(v) for v in range(10, 210, 10)]  # 20 samples
    df = store_frame(samples("api_response_time", values), samples("topic_lag", [1e6]))
    fig = plots.latency_distribution(df, threshold=150.0)
    assert len(fig.data) == 1 and fig.data[0].type == "histogram"
    assert sorted(fig.data[0].x) == values
    shapes = {s.name: s for s in fig.layout.shapes}
    assert set(shapes) == {"p50", "p95", "umbral"}
    assert shapes["p50"].x0 == pytest.approx(np.percentile(values, 50))
    assert shapes["p95"].x0 == pytest.approx(np.percentile(values, 95))
    assert shapes["umbral"].x0 == 150.0
    texts = " ".join(annotation_texts(fig))
    assert "p50" in texts and "p95" in texts and "umbral" in texts
    assert fig.layout.xaxis.title.text == "Latencia (ms)"


def test_latency_distribution_without_threshold_or_data():
    fig = plots.latency_distribution(LAG)
    assert {s.name for s in fig.layout.shapes} == {"p50", "p95"}
    empty = plots.latency_distribution(LAG, metric="processing_latency")
    assert len(empty.data) == 0 and not empty.layout.shapes
    assert plots.NO_DATA in annotation_texts(empty)


# ---- freshness -----------------------------------------------------------------------------------
def test_freshness_area_threshold_and_stale_points():
    df = samples("data_freshness", [30, 90, 700, 1200, 40])
    fig = plots.freshness(df)
    traces = by_name(fig)
    assert traces["data_freshness"].fill == "tozeroy"
    assert list(traces["umbral"].y) == [600.0, 600.0]
    assert traces["umbral"].fill is None
    assert sorted(traces["fuera de umbral"].y) == [700, 1200]
    assert fig.layout.yaxis.title.text == "Antigüedad (s)"
    assert plots.NO_DATA in annotation_texts(plots.freshness(LAG))


# ---- live_view -----------------------------------------------------------------------------------
def test_live_view_headless_returns_a_figure_quickly_and_fetches_once():
    calls = []

    def fetch() -> pd.DataFrame:
        calls.append(1)
        return LAG

    t0 = time.monotonic()
    fig = plots.live_view(fetch, "topic_lag", interval_s=30, threshold=4.0, headless=True)
    assert time.monotonic() - t0 < 2
    assert type(fig) is go.Figure
    assert "umbral" in by_name(fig)
    assert len(calls) == 1


def test_live_view_detects_headless_outside_a_kernel(monkeypatch):
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    assert type(plots.live_view(lambda: LAG, "topic_lag", interval_s=30)) is go.Figure
    monkeypatch.setenv("PLOTLY_RENDERER", "png")
    assert live._interactive_frontend() is False


def test_live_view_rejects_bad_arguments():
    with pytest.raises(ValueError):
        plots.live_view(lambda: LAG, "topic_lag", interval_s=0, headless=True)
    with pytest.raises(ValueError):
        plots.live_view(lambda: LAG, "topic_lag", iterations=-1, headless=True)


class FakeFigureWidget(go.Figure):
    """Stands in for go.FigureWidget (needs anywidget and a frontend): same update API."""


def _growing_fetch(frames: list[pd.DataFrame]):
    calls = {"n": 0}
    lock = threading.Lock()

    def fetch() -> pd.DataFrame:
        with lock:
            frame = frames[min(calls["n"], len(frames) - 1)]
            calls["n"] += 1
        return frame

    return fetch, calls


def test_live_view_refreshes_a_figure_widget_in_place(monkeypatch):
    monkeypatch.setattr(go, "FigureWidget", FakeFigureWidget, raising=False)
    small = samples("topic_lag", [1, 2], topic="crypto-prices")
    big = samples("topic_lag", [1, 2, 7, 3], topic="crypto-prices")
    fetch, calls = _growing_fetch([small, big])
    widget = plots.live_view(fetch, "topic_lag", interval_s=0.01, threshold=5.0, iterations=3, headless=False)
    assert isinstance(widget, FakeFigureWidget) and callable(widget.stop)
    widget.live_thread.join(timeout=3)
    assert not widget.live_thread.is_alive()
    assert calls["n"] == 4  # the first draw plus 3 refreshes
    traces = by_name(widget)
    assert len(traces["topic=crypto-prices"].y) == 4
    assert list(traces["fuera de umbral"].y) == [7]


def test_live_view_widget_goes_from_no_data_to_data(monkeypatch):
    monkeypatch.setattr(go, "FigureWidget", FakeFigureWidget, raising=False)
    fetch, _ = _growing_fetch([LAG.iloc[0:0], LAG])
    widget = plots.live_view(fetch, "topic_lag", interval_s=0.01, iterations=1, headless=False)
    widget.live_thread.join(timeout=3)
    assert len(widget.data) == 2
    assert plots.NO_DATA not in annotation_texts(widget)


def test_live_view_stop_ends_the_thread_and_errors_do_not(monkeypatch):
    monkeypatch.setattr(go, "FigureWidget", FakeFigureWidget, raising=False)
    state = {"n": 0}

    def flaky() -> pd.DataFrame:
        state["n"] += 1
        if state["n"] == 2:
            raise RuntimeError("store busy")
        return LAG

    widget = plots.live_view(flaky, "topic_lag", interval_s=0.01, headless=False)
    deadline = time.monotonic() + 3
    while state["n"] < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert state["n"] >= 4  # kept refreshing after the failed fetch
    widget.stop()
    widget.live_thread.join(timeout=3)
    assert not widget.live_thread.is_alive()


def test_stop_live_views_stops_every_running_view(monkeypatch):
    monkeypatch.setattr(go, "FigureWidget", FakeFigureWidget, raising=False)
    views = [plots.live_view(lambda: LAG, "topic_lag", interval_s=0.01, headless=False) for _ in range(2)]
    assert plots.stop_live_views() >= 2
    for view in views:
        view.live_thread.join(timeout=3)
        assert not view.live_thread.is_alive()


def test_live_view_without_anywidget_falls_back_to_an_output_widget(monkeypatch):
    import ipywidgets  # a dependency of the project: missing, the test fails

    class NoAnywidget:
        def __init__(self, *args, **kwargs):
            raise ImportError("Please install anywidget to use the FigureWidget class")

    monkeypatch.setattr(go, "FigureWidget", NoAnywidget, raising=False)
    fetch, calls = _growing_fetch([samples("topic_lag", [1, 2]), samples("topic_lag", [1, 2, 3])])
    view = plots.live_view(fetch, "topic_lag", interval_s=0.01, iterations=2, headless=False)
    assert isinstance(view, ipywidgets.Output)
    view.live_thread.join(timeout=3)
    assert calls["n"] == 3
    (output,) = view.outputs
    bundle = output["data"]["application/vnd.plotly.v1+json"]
    assert len(bundle["data"]) == 1
    assert len(view.figure.data[0].y) == 3


# ---- risk_matrix --------------------------------------------------------------------------------
RISKS = pd.DataFrame(
    {
        "component": ["API CoinGecko", "Kafka Connect", "Kafka", "Flink", "Iceberg", "DuckDB"],
        "risk": ["rate limit", "tarea caída", "disco lleno", "checkpoint falla", "commit", "lectura"],
        "impact": ["Alto", "Alto", "Alto", "Medio", "Bajo", "Bajo"],
        "probability": ["Alto", "Medio", "Medio", "Medio", "Bajo", "Alta"],
    }
)


def test_risk_matrix_grid_background_and_positions():
    fig = plots.risk_matrix(RISKS)
    background, markers = fig.data
    assert background.type == "heatmap"
    z = np.asarray(background.z)
    assert z.shape == (3, 3) and z[0][0] == z.min() and z[2][2] == z.max()
    assert list(fig.layout.xaxis.ticktext) == ["Bajo", "Medio", "Alto"]
    assert fig.layout.xaxis.title.text == "Probabilidad" and fig.layout.yaxis.title.text == "Impacto"
    assert list(markers.text) == list(RISKS["component"])
    pos = dict(zip(markers.text, zip(markers.x, markers.y)))
    # alone in their cell: at the centre (x = probability, y = impact)
    assert pos["API CoinGecko"] == (2, 2)
    assert pos["Flink"] == (1, 1)
    assert pos["Iceberg"] == (0, 0)
    assert pos["DuckDB"] == (2, 0)  # "Alta" is accepted
    # Kafka Connect and Kafka share (Medio, Alto): both inside that cell, apart
    a, b = pos["Kafka Connect"], pos["Kafka"]
    assert a != b
    for x, y in (a, b):
        assert abs(x - 1) < 0.5 and abs(y - 2) < 0.5


def test_risk_matrix_spreads_a_crowded_cell_without_overlap():
    crowded = pd.DataFrame(
        {"component": list("ABCDE"), "risk": [""] * 5, "impact": ["Medio"] * 5, "probability": ["Bajo"] * 5}
    )
    markers = plots.risk_matrix(crowded).data[1]
    points = list(zip(markers.x, markers.y))
    assert len(set(points)) == 5
    assert all(abs(x - 0) < 0.5 and abs(y - 1) < 0.5 for x, y in points)


def test_risk_matrix_rejects_unknown_levels_and_annotates_empty():
    bad = RISKS.assign(impact=["Altísimo"] + list(RISKS["impact"][1:]))
    with pytest.raises(ValueError, match="API CoinGecko"):
        plots.risk_matrix(bad)
    empty = plots.risk_matrix(RISKS.iloc[0:0])
    assert len(empty.data) == 1 and plots.NO_DATA in annotation_texts(empty)


# ---- global plotly state ----------------------------------------------------------------------------
def test_module_leaves_plotly_defaults_unchanged(monkeypatch):
    monkeypatch.setattr(go, "FigureWidget", FakeFigureWidget, raising=False)
    template, renderer = pio.templates.default, pio.renderers.default
    for module in (_style, series, health, live, risk, plots):  # each submodule after those it imports
        importlib.reload(module)
    status = pd.DataFrame({"layer": ["Kafka"], "state": ["green"], "detail": ["ok"]})
    plots.health_overview(status)
    plots.metric_timeseries(LAG, "topic_lag", threshold=4)
    plots.lag_throughput(LAG)
    plots.latency_distribution(LAG, threshold=100)
    plots.freshness(LAG)
    plots.risk_matrix(RISKS)
    plots.live_view(lambda: LAG, "topic_lag", headless=True)
    view = plots.live_view(lambda: LAG, "topic_lag", interval_s=0.01, iterations=1, headless=False)
    view.live_thread.join(timeout=3)
    assert pio.templates.default == template
    assert pio.renderers.default == renderer
