"""Alert events and the notifiers that deliver them: notebook card, console, log file, webhook, email.

A notifier is anything with a ``channel`` (the name the levels file routes to) and
``send(event)``; a failed delivery raises :class:`~dataops.errors.AlertDeliveryError`.
"""

from __future__ import annotations

import html
import json
import smtplib
import sys
import threading
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol, Sequence, TextIO
from urllib.parse import urlsplit

import pandas as pd
import requests

from dataops import rotation
from dataops.errors import AlertDeliveryError


SEVERITY_COLORS = {"CRITICAL": "#b00020", "HIGH": "#e65100", "MEDIUM": "#f9a825", "LOW": "#1565c0"}
SEVERITY_ICONS = {"CRITICAL": "🔴", "HIGH": "🟠", "MEDIUM": "🟡", "LOW": "🔵"}


@dataclass(frozen=True)
class AlertEvent:
    """A transition of one alert: ``fired`` or ``resolved``.

    Attributes:
        kind: fired or resolved.
        rule: Rule name.
        severity: Level name.
        metric: Metric of the series.
        labels: Series labels as ``k=v,...``.
        value: The evaluated value at the transition.
        since: When the firing started.
        ts: When the transition was processed.
        description: Rule description.
        condition: The rule's condition as text.
        response_time: Target response of the level ("< 5 minutos").
        escalation: Escalation of the level ("Llamada + SMS").
    """

    kind: str
    rule: str
    severity: str
    metric: str
    labels: str
    value: float
    since: pd.Timestamp | None
    ts: pd.Timestamp
    description: str = ""
    condition: str = ""
    response_time: str = ""
    escalation: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (timestamps as ISO text, NaN as None)."""
        d = asdict(self)
        for k in ("since", "ts"):
            d[k] = None if d[k] is None or pd.isna(d[k]) else pd.Timestamp(d[k]).isoformat()
        d["value"] = None if d["value"] is None or pd.isna(d["value"]) else float(d["value"])
        return d

    def headline(self) -> str:
        """One line in Spanish, e.g. ``[CRITICAL] ALERTA api_failure: api_error_rate=7.5 desde ...``."""
        verb = "ALERTA" if self.kind == "fired" else "RESUELTA"
        series = self.metric + (f"{{{self.labels}}}" if self.labels else "")
        value = "n/d" if pd.isna(self.value) else f"{self.value:.4g}"
        since = "" if self.since is None or pd.isna(self.since) else f" desde {pd.Timestamp(self.since):%Y-%m-%d %H:%M:%S} UTC"
        return f"[{self.severity}] {verb} {self.rule}: {series}={value}{since}"


class Notifier(Protocol):
    """Something that delivers an event; ``channel`` names it in the levels file."""

    channel: str

    def send(self, event: AlertEvent) -> Any: ...


class NotebookNotifier:
    """HTML alert cards: displayed in IPython/Jupyter, always collected in :attr:`cards`."""

    channel = "notebook"

    def __init__(self, display: bool | None = None) -> None:
        self.cards: list[str] = []
        self.display = display

    def send(self, event: AlertEvent) -> str:
        card = render_card(event)
        self.cards.append(card)
        show = self.display
        if show is None:
            try:
                from IPython import get_ipython

                show = get_ipython() is not None
            except ImportError:
                show = False
        if show:
            from IPython.display import HTML, display

            display(HTML(card))
        return card


def render_card(event: AlertEvent) -> str:
    """The HTML card of an event (Spanish text)."""
    color = SEVERITY_COLORS.get(event.severity, "#616161") if event.kind == "fired" else "#2e7d32"
    icon = SEVERITY_ICONS.get(event.severity, "⚪") if event.kind == "fired" else "✅"
    title = "Alerta activa" if event.kind == "fired" else "Alerta resuelta"
    e = {k: html.escape(str(v)) for k, v in event.to_dict().items()}
    value = "n/d" if pd.isna(event.value) else f"{event.value:.4g}"
    rows = [
        ("Serie", f"{e['metric']}{' {' + e['labels'] + '}' if event.labels else ''}"),
        ("Condición", e["condition"]),
        ("Valor", html.escape(value)),
        ("Desde", e["since"] if event.since is not None else "—"),
        ("Respuesta", e["response_time"] or "—"),
        ("Escalado", e["escalation"] or "—"),
    ]
    cells = "".join(f"<tr><td style='padding:0 8px 0 0;color:#555'>{k}</td><td>{v}</td></tr>" for k, v in rows)
    return (
        f"<div class='dataops-alert' style='border-left:6px solid {color};padding:6px 10px;margin:4px 0;"
        f"background:#fafafa;font-family:sans-serif;font-size:13px'>"
        f"<div style='font-weight:bold;color:{color}'>{icon} {title} · {e['severity']} · {e['rule']}</div>"
        f"<div style='margin:2px 0 4px'>{e['description']}</div><table>{cells}</table></div>"
    )


class ConsoleNotifier:
    """One line per event to a stream (default stderr)."""

    channel = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def send(self, event: AlertEvent) -> str:
        line = event.headline()
        print(line, file=self.stream or sys.stderr, flush=True)
        return line


class LogFileNotifier:
    """Appends each event as one JSON line to a file that rotates by size.

    Args:
        path: The log; default the state folder's alert log (then ``max_bytes`` and
            ``backups`` default to the settings' ``log_max_mb`` and ``log_backups``).
        max_bytes: Size at which the file becomes ``<path>.1`` and a new one starts.
        backups: Rotated files kept besides the current one (read them all with
            :func:`dataops.rotation.read_lines`).
    """

    channel = "log"

    def __init__(self, path: str | Path | None = None, max_bytes: int | None = None, backups: int | None = None) -> None:
        if path is None:  # the state folder's alert log (settings read now, never at import)
            from dataops.config import load_settings

            settings = load_settings()
            path = settings.paths.alert_log
            max_bytes = settings.log_max_bytes if max_bytes is None else max_bytes
            backups = settings.log_backups if backups is None else backups
        self.path = Path(path)
        self.max_bytes = rotation.DEFAULT_MAX_BYTES if max_bytes is None else int(max_bytes)
        self.backups = rotation.DEFAULT_BACKUPS if backups is None else int(backups)
        self._lock = threading.Lock()

    def send(self, event: AlertEvent) -> Path:
        line = json.dumps(event.to_dict(), ensure_ascii=False)
        with self._lock:  # other processes writing the same log: a file lock in append_line
            rotation.append_line(self.path, line, self.max_bytes, self.backups)
        return self.path


class WebhookNotifier:
    """POSTs a Slack-compatible JSON body (``text`` + ``attachments``) to a URL.

    Args:
        url: The incoming-webhook address.
        name: Channel suffix: the notifier serves ``webhook:<name>``.
        timeout_s: Connect and read timeout.
    """

    def __init__(self, url: str, name: str = "slack", timeout_s: float = 5.0) -> None:
        self.url = url
        self.name = name
        self.channel = f"webhook:{name}"
        self.timeout_s = timeout_s

    @property
    def where(self) -> str:
        """The URL without its path and query: a Slack or Teams webhook path is its secret."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}" + ("/…" if parts.path.strip("/") or parts.query else "")

    def __repr__(self) -> str:
        return f"WebhookNotifier({self.where!r}, name={self.name!r})"

    @staticmethod
    def body(event: AlertEvent) -> dict[str, Any]:
        """The JSON body sent for an event."""
        d = event.to_dict()
        color = SEVERITY_COLORS.get(event.severity, "#616161") if event.kind == "fired" else "#2e7d32"
        fields = [
            {"title": "Severidad", "value": event.severity, "short": True},
            {"title": "Regla", "value": event.rule, "short": True},
            {"title": "Valor", "value": "n/d" if d["value"] is None else f"{d['value']:.4g}", "short": True},
            {"title": "Desde", "value": d["since"] or "—", "short": True},
            {"title": "Serie", "value": event.metric + (f"{{{event.labels}}}" if event.labels else ""), "short": False},
        ]
        return {
            "text": event.headline(),
            "attachments": [{"color": color, "title": event.description or event.rule, "text": event.condition, "fields": fields}],
            "alert": d,
        }

    def send(self, event: AlertEvent) -> int:
        try:
            resp = requests.post(self.url, json=self.body(event), timeout=self.timeout_s)
        except requests.RequestException as exc:
            raise AlertDeliveryError(f"el webhook {self.name} en {self.where} no respondió", type(exc).__name__) from None
        if resp.status_code >= 300:
            raise AlertDeliveryError(f"el webhook {self.name} en {self.where} respondió {resp.status_code}", resp.text[:80].replace("\n", " "))
        return resp.status_code


class EmailNotifier:
    """Sends each event as a plain-text email over SMTP.

    Args:
        host: SMTP server.
        port: SMTP port.
        sender: From address.
        to: Recipient address(es).
        starttls: Upgrade the connection with STARTTLS.
        user: Login user (with ``password``), optional.
        password: Login password.
        timeout_s: Connection timeout.
    """

    channel = "email"

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        to: str | Sequence[str],
        starttls: bool = False,
        user: str | None = None,
        password: str | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.to = [to] if isinstance(to, str) else list(to)
        self.starttls, self.user, self.password, self.timeout_s = starttls, user, password, timeout_s

    def send(self, event: AlertEvent) -> None:
        msg = EmailMessage()
        msg["Subject"] = event.headline()
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.to)
        msg.set_content("\n".join(f"{k}: {v}" for k, v in event.to_dict().items()))
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            raise AlertDeliveryError(f"falló el envío del email por {self.host}:{self.port}", str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
