"""One answer of the simulator before it is sent: status, headers, body, and what the
served log records of it. Shared by the price API (:mod:`.server`), the control API
(:mod:`.control`) and the HTTP side (:mod:`.httpd`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["JSON_TYPE", "NOT_FOUND", "Outcome", "json_outcome", "not_allowed"]

JSON_TYPE = "application/json"
NOT_FOUND = {"error": "Incorrect path. Please check the API documentation."}


@dataclass
class Outcome:
    """An answer: ``status``, ``headers`` and ``body``; with ``record`` the served log keeps it
    (``path``, ``query``, the latency fault's ``delay_s``, the active ``faults``)."""

    status: int
    headers: dict[str, str]
    body: bytes
    path: str = ""
    query: str = ""
    record: bool = False
    delay_s: float = 0.0
    faults: list[str] = field(default_factory=list)


def json_outcome(status: int, payload: Any, **extra_headers: str) -> Outcome:
    """A JSON answer (compact separators, as the real API)."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Outcome(status, {"Content-Type": JSON_TYPE, **extra_headers}, body)


def not_allowed(allow: str) -> Outcome:
    """405, with the methods the path does allow."""
    return json_outcome(405, {"error": "Method Not Allowed"}, Allow=allow)
