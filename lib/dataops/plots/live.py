"""A figure that refreshes itself in the notebook (a FigureWidget fed by a daemon thread)."""

from __future__ import annotations

import logging
import os
import sys
import threading
from typing import Any, Callable

import pandas as pd
import plotly.graph_objects as go

from dataops.plots.series import metric_timeseries

logger = logging.getLogger(__name__)

# PLOTLY_RENDERER values that cannot show a figure updating in place.
_STATIC_RENDERERS = frozenset(
    {"png", "jpeg", "jpg", "svg", "pdf", "json", "browser", "firefox", "chrome", "chromium",
     "sphinx_gallery", "sphinx_gallery_png"}
)

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
        raise ValueError(f"interval_s debe ser > 0, no {interval_s!r}")
    if iterations is not None and iterations < 0:
        raise ValueError(f"iterations debe ser >= 0, no {iterations!r}")
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
    object.__setattr__(widget, "last_error", None)

    def run() -> None:
        done = 0
        try:
            while (iterations is None or done < iterations) and not stopped.wait(interval_s):
                if getattr(widget, "comm", True) is None:  # the widget was closed
                    break
                try:
                    redraw(metric_timeseries(fetch(), metric, threshold))
                    object.__setattr__(widget, "last_error", None)
                except Exception as exc:  # noqa: BLE001 - a failed refresh must not kill the view, nor fill the notebook
                    _refresh_failed(widget, metric, exc)
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


def one_line(exc: BaseException) -> str:
    """An exception as one line: its type and the first line of its message."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0][:200]}" if text else type(exc).__name__


def _refresh_failed(widget: Any, metric: str, exc: BaseException) -> None:
    """One warning line when a refresh fails (again only when the cause changes); the traceback
    goes to the debug log, never into the notebook. ``widget.last_error`` keeps the cause."""
    line = one_line(exc)
    if getattr(widget, "last_error", None) != line:
        logger.warning("live_view(%s): refresh failed, the view goes on: %s", metric, line)
    logger.debug("live_view(%s): refresh failed", metric, exc_info=True)
    object.__setattr__(widget, "last_error", line)


def stop_live_views() -> int:
    """Stop every running :func:`live_view` (e.g. before re-running cells). Returns how many."""
    with _LIVE_LOCK:
        events = list(_LIVE.values())
        _LIVE.clear()
    for event in events:
        event.set()
    return len(events)
