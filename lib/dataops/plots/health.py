"""The pipeline's traffic light: one coloured marker per layer."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dataops.plots._style import _base_layout, _no_data

STATE_COLORS = {"green": "#2e7d32", "amber": "#f9a825", "red": "#c62828", "waiting": "#1e88e5"}
_STATE_LABELS = {"green": "OK", "amber": "atención", "red": "fallo", "waiting": "esperando datos"}
_UNKNOWN_COLOR = "#9e9e9e"


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
