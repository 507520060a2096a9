"""The instructor's fault panel (ipywidgets): one button per simulator fault with its
parameters, "clear all", and beside it a strip with the health of each layer and the
alerts firing, refreshed live. One line in any notebook::

    dataops.fault_panel()
"""

from __future__ import annotations

from typing import Any

from dataops.live import Refreshing
from dataops.simulator.faults import FAULTS, fault_params
from dataops.pipeline import Pipeline

CHOICES = {"mode": ["rename", "retype"]}
WHAT = {
    "rate_limit": "429: límite de peticiones", "outage": "la API no responde (5xx)", "latency": "respuestas lentas",
    "malformed": "JSON cortado", "schema_drift": "cambia el esquema", "freeze": "precios congelados",
    "missing_coin": "falta una moneda", "spike": "pico de precio (y cambio 24h)",
}  # fmt: skip


class FaultPanel(Refreshing):
    """The panel's widgets and its refresh thread (``stop()`` ends it).

    Args:
        p: The pipeline (default: a new :class:`~dataops.Pipeline`).
        refresh_s: Seconds between refreshes of the strip (0: never by itself).
    """

    def __init__(self, p: Pipeline | None = None, refresh_s: float = 5.0) -> None:
        import ipywidgets as w

        from dataops import alerts
        from dataops.monitor.layer_health import health_thresholds

        if p is None:
            from dataops.pipeline import Pipeline

            p = Pipeline()
        self.p = p
        self.rules = alerts.load_rules()
        self.thresholds = health_thresholds(self.rules)
        coins = list(p.settings.coins)
        self.duration = w.BoundedIntText(value=60, min=1, max=3600, description="duración (s)", layout=w.Layout(width="170px"))
        self.message = w.HTML()
        self.strip = w.HTML()
        self.buttons: dict[str, Any] = {}
        self.params: dict[str, dict[str, Any]] = {}
        rows = []
        for name in FAULTS:
            inputs = {}
            for key, (kind, default) in fault_params(name).items():
                label = dict(description=key, layout=w.Layout(width="170px"), style={"description_width": "70px"})
                if key == "coin":
                    inputs[key] = w.Dropdown(options=coins, value=default if default in coins else coins[0], **label)
                elif key in CHOICES:
                    inputs[key] = w.Dropdown(options=CHOICES[key], value=default, **label)
                elif kind is bool:
                    inputs[key] = w.Checkbox(value=bool(default), **label)
                else:  # numbers; an optional one left empty is not sent
                    inputs[key] = w.Text(value="" if default is None else str(default), placeholder="(opcional)", **label)
            button = w.Button(description=name, tooltip=WHAT.get(name, name), button_style="warning", layout=w.Layout(width="130px"))
            button.on_click(lambda _, n=name: self.inject(n))
            self.buttons[name], self.params[name] = button, inputs
            rows.append(w.HBox([button, *inputs.values()]))
        clear = w.Button(description="limpiar todo", button_style="success", layout=w.Layout(width="130px"))
        clear.on_click(lambda _: self.clear())
        self.buttons["clear"] = clear
        left = w.VBox([w.HBox([clear, self.duration]), *rows, self.message])
        self.widget = w.HBox([left, w.VBox([w.HTML("<b>estado del pipeline</b>"), self.strip], layout=w.Layout(margin="0 0 0 16px"))])
        self.refresh()
        self._start(refresh_s, "dataops-fault-panel")

    def values(self, name: str) -> dict[str, Any]:
        """The parameters the panel would send for ``name`` (empty optional ones left out)."""
        out: dict[str, Any] = {}
        for key, widget in self.params[name].items():
            kind = fault_params(name)[key][0]
            value = widget.value
            if isinstance(value, str):
                if not value.strip():
                    continue
                value = kind(float(value)) if kind in (int, float) else value
            out[key] = value
        return out

    def inject(self, name: str) -> dict | None:
        """Inject ``name`` with the panel's parameters; the outcome is shown under the buttons."""
        from dataops.errors import DataOpsError

        try:
            fault = self.p.source.inject_fault(name, duration_s=self.duration.value, **self.values(name))
        except (DataOpsError, ValueError) as exc:
            self.message.value = f"<span style='color:#c62828'>✘ {name}: {exc}</span>"
            return None
        self.message.value = f"✔ {name} {fault['params']} durante {self.duration.value} s"
        self.refresh()
        return fault

    def clear(self) -> int:
        cleared = self.p.source.clear_faults()
        self.message.value = f"✔ {cleared} fallo(s) quitados"
        self.refresh()
        return cleared

    def refresh(self) -> None:
        """Redraw the strip: active faults, health per layer, firing alerts."""
        from dataops.monitor.dashboard import render_strip, take_snapshot

        try:
            snap = take_snapshot(self.p.monitor, [], 0.0, self.rules, self.thresholds)
            active = self.p.source.faults()
            faults = ", ".join(active["name"]) if len(active) else "ninguno"
            self.strip.value = f"<div>fallos activos: <b>{faults}</b></div>" + render_strip(snap)
        except Exception as exc:  # noqa: BLE001 - a layer down is shown, not raised from a thread
            self.strip.value = f"<span style='color:#c62828'>sin lectura: {type(exc).__name__}: {str(exc)[:120]}</span>"


def fault_panel(p: Pipeline | None = None, refresh_s: float = 5.0) -> FaultPanel:
    """The instructor's fault panel (display it by leaving it last in a cell)."""
    return FaultPanel(p, refresh_s)
