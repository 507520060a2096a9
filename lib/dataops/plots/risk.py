"""The failure-points table as an impact × probability matrix."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dataops.plots._style import _base_layout, _no_data

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
        raise ValueError(f"risk_matrix: {column} de {component!r} es {value!r}; se esperaba uno de {LEVELS}")
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
