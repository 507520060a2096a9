"""Unit tests of the alert designer (``dataops.widgets``), on rendered scenario histories."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pytest

from dataops import alerts, scenarios, widgets

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def outage():
    return scenarios.render_history("api_outage")


def firing_shapes(fig: go.Figure) -> list:
    return [s for s in fig.layout.shapes if s.name == widgets.FIRING_SHAPE]


def test_design_alert_shades_exactly_the_firing_episodes_and_backtests(outage):
    history, incidents = outage
    rule, fig, table = widgets.design_alert(history, "api_error_rate", 5, ">", window_s=60,
                                            severity="CRITICAL", incidents=incidents)
    assert rule.condition == "rate" and rule.window_s == 60 and rule.severity == "CRITICAL"
    eps = alerts.episodes(rule, history)
    shapes = firing_shapes(fig)
    assert len(eps) >= 1 and len(shapes) == len(eps)
    for shape, ep in zip(shapes, eps.itertuples(index=False)):
        assert pd.Timestamp(shape.x0) == pd.Timestamp(ep.start) and pd.Timestamp(shape.x1) == pd.Timestamp(ep.end)
        assert shape.layer == "below"
    assert len(table) == 1
    row = table.iloc[0]
    assert row["rule"] == "mi_alerta" and row["recall"] == 1.0 and row["precision"] == 1.0


def test_design_alert_filters_labels_and_defaults_threshold():
    history, incidents = scenarios.render_history("eth_flash_crash")
    rule, fig, table = widgets.design_alert(history, "price", op="<", labels={"coin": "ethereum"})
    assert rule.labels == {"coin": "ethereum"} and rule.value is not None
    assert table.empty
    names = {t.name for t in fig.data}
    assert "ethereum" in " ".join(str(n) for n in names) and "bitcoin" not in " ".join(str(n) for n in names)


def test_design_alert_without_firing_has_no_shaded_periods(outage):
    history, _ = outage
    _, fig, _ = widgets.design_alert(history, "api_error_rate", 1000)
    assert firing_shapes(fig) == []


def test_alert_designer_builds_and_updates_on_change(outage):
    history, incidents = outage
    box = widgets.alert_designer(history, incidents, metrics=["api_error_rate", "data_freshness"])
    assert box.rule.metric == "api_error_rate"
    before = box.figure
    box.controls["threshold"].value = 5
    assert box.figure is not before and box.rule.value == 5
    assert len(firing_shapes(box.figure)) >= 1 and box.table.iloc[0]["detected"] == 1
    box.controls["metric"].value = "data_freshness"
    assert box.rule.metric == "data_freshness" and box.figure.layout.title.text.startswith("mi_alerta: data_freshness")
    box.controls["window_s"].value = 60
    assert box.rule.condition == "rate"
