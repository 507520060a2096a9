"""A local webhook receiver standing in for Slack: a real HTTP endpoint the alert manager
posts to, which keeps what it got so a notebook can show it as a card.

Typical use::

    with WebhookReceiver() as slack:
        manager.add_notifier(WebhookNotifier(slack.url, name="slack"))
        ...
        slack.messages        # the JSON bodies received, oldest first
"""

from __future__ import annotations

import html
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PATH = "/hooks/slack"


class WebhookReceiver:
    """An HTTP server on ``127.0.0.1`` (a free port) that records every JSON POST to :data:`PATH`.

    Args:
        port: The port (0: any free one).
    """

    def __init__(self, port: int = 0) -> None:
        self.messages: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    message = json.loads(body or b"{}")
                except ValueError:
                    self.send_error(400, "the body must be JSON")
                    return
                if self.path.split("?")[0] != PATH:
                    self.send_error(404, f"post to {PATH}")
                    return
                with receiver._arrived:
                    receiver.messages.append(message)
                    receiver._arrived.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="dataops-webhook", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{PATH}"

    def wait(self, count: int, timeout_s: float) -> bool:
        """Wait until at least ``count`` messages arrived; False on timeout."""
        with self._arrived:
            return self._arrived.wait_for(lambda: len(self.messages) >= count, timeout_s)

    def cards(self, last: int | None = None) -> str:
        """The received messages as Slack-like HTML cards (newest last)."""
        shown = self.messages[-last:] if last else self.messages
        return "".join(card(m) for m in shown) or "<i>el canal #alertas está vacío</i>"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> WebhookReceiver:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"WebhookReceiver({self.url!r}, {len(self.messages)} mensajes)"


def card(message: dict[str, Any]) -> str:
    """One Slack message (``text`` + ``attachments``) as the channel would show it."""
    parts = [f"<div style='font-weight:bold'>{html.escape(str(message.get('text', '')))}</div>"]
    for att in message.get("attachments") or []:
        fields = "".join(
            f"<div style='display:inline-block;min-width:45%;margin:2px 8px 2px 0'><b>{html.escape(str(f.get('title', '')))}</b>"
            f"<br>{html.escape(str(f.get('value', '')))}</div>"
            for f in att.get("fields") or []
        )
        parts.append(
            f"<div style='border-left:4px solid {html.escape(str(att.get('color', '#999')))};padding:2px 8px;margin:4px 0'>"
            f"<div style='font-weight:bold'>{html.escape(str(att.get('title', '')))}</div>"
            f"<div style='color:#555'>{html.escape(str(att.get('text', '')))}</div>{fields}</div>"
        )
    return (
        "<div class='dataops-slack' style='font-family:sans-serif;font-size:13px;border:1px solid #ddd;border-radius:6px;"
        "padding:6px 10px;margin:4px 0;max-width:640px'><div style='color:#888;font-size:11px'>#alertas · webhook local</div>"
        + "".join(parts)
        + "</div>"
    )
