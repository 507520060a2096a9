"""The simulator's strict mode: CoinGecko's key rules and its free tier's rate limit.

Off by default (the course's simulator answers anyone). With ``--strict`` every call under
``/api/v3`` must carry an accepted key, as CoinGecko documents it
(https://docs.coingecko.com/docs/errors-and-rate-limits, ``/reference/authentication``,
``/v3.0.1/reference/authentication``):

* the key travels as :mod:`dataops.coingecko` says (the plan's header or query parameter);
  the simulator plays one host, ``plan`` (``demo``: api.coingecko.com, ``pro``: pro-api);
* no key: 401, error code 10002 (API Key Missing); a key nobody issued: 401, 10002 too;
* the other plan's key: 401, 10010 (a pro key on the demo host) or 10011 (a demo key on the
  pro host), whose message names the root URL to use;
* more than ``calls_per_min`` calls of one key in a one-minute window: 429 with CoinGecko's
  body and ``Retry-After`` (seconds to the window's end).

Keys are compared, never logged; the served log drops the key parameters from its query.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlencode

from dataops.coingecko import FREE_TIER_CALLS_PER_MIN, KEY_HEADERS, KEY_PARAMS, PLANS
from dataops.simulator.faults import RATE_LIMIT_MESSAGE
from dataops.simulator.outcome import Outcome, json_outcome

__all__ = ["StrictRules", "without_keys"]

WINDOW_S = 60.0

MISSING_KEY = (
    "API Key Missing. Please make sure you're using the right authentication method. For Pro API, "
    "ensure you pass in x_cg_pro_api_key parameter with a Pro Key and for Demo API, ensure you pass "
    "in x_cg_demo_api_key parameter with a Demo Key."
)
INCORRECT_KEY = (
    "You have provided incorrect API key credentials. Please check your keys in developer dashboard "
    "and ensure that your request is authorized"
)
WRONG_HOST = {
    # the plan the simulator plays -> what a key of the other plan is told
    "demo": (10010, "If you are using Pro API key, please change your root URL from api.coingecko.com to pro-api.coingecko.com"),
    "pro": (10011, "If you are using Demo API key, please change your root URL from pro-api.coingecko.com to api.coingecko.com"),
}


def _error(status: int, code: int, message: str, now: float, **headers: str) -> Outcome:
    stamp = datetime.fromtimestamp(now, timezone.utc).isoformat(timespec="milliseconds")
    return json_outcome(status, {"status": {"timestamp": stamp, "error_code": code, "error_message": message}}, **headers)


def without_keys(query: str) -> str:
    """``query`` without CoinGecko's key parameters (what the served log may keep)."""
    if "api_key" not in query:
        return query
    pairs = [(k, v) for k, values in parse_qs(query, keep_blank_values=True).items()
             if k not in KEY_PARAMS.values() for v in values]  # fmt: skip
    return urlencode(pairs, safe=",")


@dataclass
class StrictRules:
    """CoinGecko's key and rate-limit rules, checked before the API answers.

    Args:
        keys: The accepted keys (of ``plan``).
        plan: The host the simulator plays: ``demo`` (api.coingecko.com) or ``pro``.
        calls_per_min: Calls one key may make per one-minute window.
    """

    keys: frozenset[str]
    plan: str = "demo"
    calls_per_min: int = FREE_TIER_CALLS_PER_MIN
    _windows: dict[str, tuple[float, int]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.plan not in PLANS:
            raise ValueError(f"plan debe ser demo o pro, no {self.plan!r}")
        if not self.keys or not all(isinstance(k, str) and k.strip() for k in self.keys):
            raise ValueError("el modo estricto necesita al menos una clave no vacía")
        if self.calls_per_min < 1:
            raise ValueError(f"calls_per_min debe ser >= 1, no {self.calls_per_min}")

    def describe(self) -> dict[str, object]:
        """What the health answer says of the mode (no key)."""
        return {"plan": self.plan, "header": KEY_HEADERS[self.plan], "calls_per_min": self.calls_per_min,
                "keys": len(self.keys)}  # fmt: skip

    def check(self, headers: Mapping[str, str], query: str, now: float) -> Outcome | None:
        """The error CoinGecko would answer instead of the API, or None when the call may go on.

        Args:
            headers: The request's headers (any case).
            query: The raw query string.
            now: Unix time of the call.
        """
        lowered = {k.lower(): v for k, v in headers.items()}
        params = parse_qs(query, keep_blank_values=True)
        other = "pro" if self.plan == "demo" else "demo"

        def presented(plan: str) -> str | None:
            value = lowered.get(KEY_HEADERS[plan]) or next(iter(params.get(KEY_PARAMS[plan], [])), None)
            return value.strip() if value and value.strip() else None

        key = presented(self.plan)
        if key is None:
            if presented(other) is not None:
                code, message = WRONG_HOST[self.plan]
                return _error(401, code, message, now)
            return _error(401, 10002, MISSING_KEY, now)
        if key not in self.keys:
            return _error(401, 10002, INCORRECT_KEY, now)
        return self._count(key, now)

    def _count(self, key: str, now: float) -> Outcome | None:
        start, calls = self._windows.get(key, (now, 0))
        if now - start >= WINDOW_S:
            start, calls = now, 0
        if calls >= self.calls_per_min:
            retry = max(1, math.ceil(start + WINDOW_S - now))
            payload = {"status": {"error_code": 429, "error_message": RATE_LIMIT_MESSAGE}}
            return json_outcome(429, payload, **{"Retry-After": str(retry)})
        self._windows[key] = (start, calls + 1)
        return None
