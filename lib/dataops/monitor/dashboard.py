"""The live dashboard of block 5 and the console view of ``dataops monitor --console``.

Both read one :class:`Snapshot` of the metrics store: per topic the messages counted since
the view started and the messages per second, consumer lag, freshness, quality score, the
health of each layer and the alerts firing. The dashboard redraws one HTML output in place
(a Jupyter display handle) from a background thread that :meth:`Dashboard.stop` ends.
"""

from __future__ import annotations

import html
import logging
import sys
import threading
import time
from dataclasses import dataclass, replace
from typing import Any, Iterable, TextIO

import pandas as pd

from dataops.monitor.layer_health import health, health_thresholds

logger = logging.getLogger(__name__)

HISTORY_MIN = 10.0  # history the alert rules are evaluated on (their longest window is 5 min)
STATE_COLOURS = {"green": "#2e7d32", "amber": "#f9a825", "red": "#c62828", "waiting": "#757575"}


@dataclass
class Snapshot:
    """What the views show at one moment."""

    at: float
    topics: pd.DataFrame  # tópico, mensajes, mensajes/s, lag
    kpis: dict[str, float | None]  # frescura (s), calidad (%), cobertura (%), latencia e2e (s)
    health: pd.DataFrame  # layer, state, detail
    firing: pd.DataFrame  # rule, severity, metric, labels, value, since


def _value(latest: pd.DataFrame, metric: str) -> float | None:
    rows = latest[latest["metric"] == metric] if len(latest) else latest
    return float(rows["value"].iloc[0]) if len(rows) else None


def take_snapshot(monitor: Any, topics: Iterable[str], since: float, rules: list | None, thresholds: Any) -> Snapshot:
    """One reading of the store: ``since`` starts the message count; ``rules`` (None: none) are evaluated."""
    from dataops import alerts

    now = time.time()
    latest = monitor.latest()
    names = list(topics)
    produced = monitor.store.query("messages_produced", since=since) if names else pd.DataFrame()
    counted = produced.groupby("topic")["value"].sum() if len(produced) else pd.Series(dtype=float)

    def per_topic(metric: str, how: str) -> pd.Series:
        rows = latest[latest["metric"] == metric] if len(latest) else latest
        return rows.groupby("topic")["value"].agg(how) if len(rows) else pd.Series(dtype=float)

    rate, lag = per_topic("throughput", "sum"), per_topic("topic_lag", "max")
    table = pd.DataFrame({
        "tópico": names,
        "mensajes": [int(counted.get(t, 0)) for t in names],
        "mensajes/s": [round(float(rate.get(t, 0.0)), 2) for t in names],
        "lag": [int(lag[t]) if t in lag else None for t in names],
    })  # fmt: skip
    kpis = {"frescura (s)": _value(latest, "data_freshness"), "calidad (%)": _value(latest, "quality_score"),
            "cobertura (%)": _value(latest, "coin_coverage"), "latencia e2e (s)": _value(latest, "e2e_latency")}  # fmt: skip
    layers = health(latest, monitor.settings, thresholds=thresholds, newest_ts=monitor.store.newest_ts())
    firing = pd.DataFrame(columns=["rule", "severity", "metric", "labels", "value", "since"])
    if rules:
        results = alerts.evaluate(rules, monitor.history(minutes=HISTORY_MIN), now=pd.Timestamp(now, unit="s", tz="UTC"))
        firing = results.loc[results["status"] == "firing", list(firing.columns)].reset_index(drop=True)
    return Snapshot(now, table, kpis, layers, firing)


def render_html(snap: Snapshot, title: str = "Monitorización en vivo") -> str:
    """The dashboard as one HTML block (Spanish)."""
    esc = html.escape
    stamp = time.strftime("%H:%M:%S", time.localtime(snap.at))
    rows = "".join(
        f"<tr><td>{esc(r['tópico'])}</td><td style='text-align:right'>{r['mensajes']:,}</td>"
        f"<td style='text-align:right'>{r['mensajes/s']:.2f}</td><td style='text-align:right'>{'—' if pd.isna(r['lag']) else int(r['lag'])}</td></tr>"
        for _, r in snap.topics.iterrows()
    )
    kpis = " · ".join(f"{esc(k)}: <b>{'—' if v is None else f'{v:.1f}'}</b>" for k, v in snap.kpis.items())
    return (
        "<div class='dataops-dashboard' style='font-family:sans-serif;font-size:13px;border:1px solid #ddd;padding:6px 10px'>"
        f"<div style='font-weight:bold'>{esc(title)} · {stamp}</div>"
        "<table style='margin:4px 0'><tr><th>tópico</th><th>mensajes</th><th>mensajes/s</th><th>lag</th></tr>"
        f"{rows}</table><div>{kpis}</div>{render_strip(snap)}</div>"
    )


def render_strip(snap: Snapshot) -> str:
    """Health per layer as coloured badges, then the firing alerts (the instructor panel's strip too)."""
    esc = html.escape
    badges = "".join(
        f"<span title='{esc(r['detail'])}' style='display:inline-block;margin:2px 4px 2px 0;padding:1px 8px;border-radius:10px;"
        f"color:white;background:{STATE_COLOURS.get(r['state'], '#757575')}'>{esc(r['layer'])}</span>"
        for _, r in snap.health.iterrows()
    )
    alerts = "".join(f"<div>🔔 <b>[{esc(str(a['severity']))}] {esc(str(a['rule']))}</b> · {esc(str(a['metric']))}"
                     f"{' {' + esc(str(a['labels'])) + '}' if a['labels'] else ''} = {float(a['value']):.4g}</div>"
                     for _, a in snap.firing.iterrows())  # fmt: skip
    return f"<div style='margin:4px 0'>{badges}</div>" + (alerts or "<div style='color:#2e7d32'>ninguna alerta activa</div>")


class Dashboard:
    """A live dashboard of a :class:`~dataops.monitor.Monitor`, redrawn in place every ``interval_s``.

    Args:
        monitor: Where the samples come from (its store).
        topics: Topics shown (default the monitor's).
        rules: Alert rules evaluated on each refresh (default ``data/alerts/rules.yaml``).
        interval_s: Seconds between refreshes.
    """

    def __init__(self, monitor: Any, topics: Iterable[str] | None = None, rules: list | None = None, interval_s: float = 5.0) -> None:
        from dataops import alerts

        self.monitor = monitor
        self.topics = list(topics or monitor.topics)
        self.rules = alerts.load_rules() if rules is None else rules
        self.thresholds = health_thresholds(self.rules)
        self.interval_s = interval_s
        self.since = time.time()
        self.refreshes = 0
        self.errors = 0
        self.last_error: str | None = None  # why the newest refresh failed (None: it worked)
        self.last: Snapshot | None = None
        self._handle: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def refresh(self) -> str:
        """Read the store once and redraw; returns the HTML."""
        self.last = take_snapshot(self.monitor, self.topics, self.since, self.rules, self.thresholds)
        page = render_html(self.last)
        self._draw(page)
        self.refreshes += 1
        self.last_error = None
        return page

    def _draw(self, page: str) -> None:
        if self._handle is not None:
            from IPython.display import HTML

            self._handle.update(HTML(page))

    def _failed(self, exc: Exception) -> None:
        """A refresh that failed: counted, its cause kept in ``last_error``, logged once per cause
        (one line), and shown under the last drawing until a refresh works again."""
        text = str(exc).strip()
        line = f"{type(exc).__name__}: {text.splitlines()[0][:200]}" if text else type(exc).__name__
        self.errors += 1
        if line != self.last_error:
            logger.warning("dashboard: refresh failed, it goes on: %s", line)
        self.last_error = line
        banner = f"<div style='color:#c62828'>⚠ la última actualización falló: {html.escape(line)}</div>"
        try:
            self._draw((render_html(self.last) if self.last else "") + banner)
        except Exception:  # noqa: BLE001 - the display itself is gone: the next refresh tries again
            pass

    def show(self) -> Dashboard:
        """Display the dashboard once (a Jupyter output that later refreshes replace)."""
        from IPython.display import HTML, display

        self._handle = display(HTML(self.refresh()), display_id=True)
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.refresh()
            except Exception as exc:  # noqa: BLE001 - the view goes on; the cause is shown and kept
                self._failed(exc)

    def start(self, display: bool = True) -> Dashboard:
        """Show it (when ``display``) and refresh it in a background thread until :meth:`stop`."""
        if display:
            self.show()
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="dataops-dashboard", daemon=True)
            self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        """Stop refreshing (the last drawing stays)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=max(10.0, 2 * self.interval_s))

    def _repr_html_(self) -> str:
        return render_html(self.last) if self.last else self.refresh()


def console(monitor: Any, topics: Iterable[str] | None = None, interval_s: float = 5.0, iterations: int | None = None,
            stream: TextIO | None = None, log: Any = None, since: float | None = None) -> int:  # fmt: skip
    """``dataops monitor --console``: per topic, messages so far and messages/s every ``interval_s``;
    an ``ALERT`` line when a rule fires and ``RESOLVED`` when it clears (also appended to ``log``).
    Messages are counted from ``since`` (default: now)."""
    from dataops import alerts

    out = stream or sys.stdout

    class _Lines:
        channel = "console"

        def send(self, event: Any) -> str:
            line = f"{'ALERT' if event.kind == 'fired' else 'RESOLVED'} {event.headline()}"
            print(line, file=out, flush=True)
            return line

    notifiers = [_Lines()] + ([alerts.LogFileNotifier(log)] if log else [])
    levels = {name: replace(level, channels=("console", "log")) for name, level in alerts.load_levels().items()}
    manager = alerts.AlertManager(levels=levels, notifiers=notifiers)
    board = Dashboard(monitor, topics, interval_s=interval_s)
    board.since = board.since if since is None else since
    done = 0
    while iterations is None or done < iterations:
        snap = take_snapshot(monitor, board.topics, board.since, board.rules, board.thresholds)
        stamp = time.strftime("%H:%M:%S", time.localtime(snap.at))
        for _, r in snap.topics.iterrows():
            print(f"[{stamp}] {r['tópico']}: {r['mensajes']} mensajes, {r['mensajes/s']:.2f} mensajes/s", file=out, flush=True)
        manager.process(alerts.evaluate(board.rules, monitor.history(minutes=HISTORY_MIN)))
        done += 1
        if iterations is None or done < iterations:
            time.sleep(interval_s)
    return done
