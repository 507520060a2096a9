"""Faults the simulator can inject: their names, parameters and limits, the
active set, and what each does to an answer of the price API.

A fault is created from the JSON body of ``POST /_sim/faults`` by
:func:`parse_fault`, lives in a :class:`FaultState` until its ``ends_at``, and
shapes the answers through :func:`refusal`, :func:`latency_s`,
:func:`frozen_quotes`, :func:`truncate` and :func:`drift`.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from dataops.errors import BadRequestError
from dataops.simulator.market import Quote

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_FAULT_DURATION_S",
    "FAULTS",
    "MAX_DELAY_S",
    "Fault",
    "FaultState",
    "check_fault",
    "drift",
    "fault_params",
    "frozen_quotes",
    "latency_s",
    "parse_fault",
    "refusal",
    "truncate",
]

FAULTS: tuple[str, ...] = (
    "rate_limit",
    "outage",
    "latency",
    "malformed",
    "schema_drift",
    "freeze",
    "missing_coin",
    "spike",
)

DEFAULT_FAULT_DURATION_S = 30.0
MAX_DELAY_S = 300.0
RATE_LIMIT_MESSAGE = (
    "You've exceeded the Rate Limit. Please visit https://www.coingecko.com/en/api/pricing "
    "to subscribe to our API plans for higher rate limits."
)

_MISSING = object()

# name -> {param: (type, default)}; a default of _MISSING means "absent unless given".
_FAULT_PARAMS: dict[str, dict[str, tuple[type, Any]]] = {
    "rate_limit": {"retry_after_s": (int, _MISSING)},
    "outage": {"status": (int, 503)},
    "latency": {"delay_s": (float, 3.0)},
    "malformed": {},
    "schema_drift": {"mode": (str, "rename")},
    "freeze": {"keep_timestamps": (bool, False), "coin": (str, _MISSING)},
    "missing_coin": {"coin": (str, "cardano")},
    # change_24h: the 24h change (%) the API reports for that coin while the fault lasts
    "spike": {"coin": (str, "bitcoin"), "factor": (float, 1.5), "change_24h": (float, _MISSING)},
}
_DRIFT_MODES = ("rename", "retype")


@dataclass
class Fault:
    """An injected, time-bounded fault.

    Attributes:
        id: Identifier used by ``DELETE /_sim/faults/<id>``.
        name: One of :data:`FAULTS`.
        params: Effective parameters (defaults filled in).
        started_at: Unix time the fault was injected.
        ends_at: Unix time the fault expires.
    """

    id: str
    name: str
    params: dict[str, Any]
    started_at: float
    ends_at: float
    snapshot: dict[str, Quote] | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON form served by the control API."""
        return {
            "id": self.id,
            "name": self.name,
            "params": dict(self.params),
            "started_at": self.started_at,
            "ends_at": self.ends_at,
        }


# -- definition and validation ------------------------------------------------


def fault_params(name: str) -> dict[str, tuple[type, Any]]:
    """A fault's parameters: ``{param: (type, default)}``; a default of None means "absent unless given"."""
    return {key: (kind, None if default is _MISSING else default) for key, (kind, default) in _FAULT_PARAMS[name].items()}


def _typed(name: str, value: Any, expected: type) -> Any:
    """Check a JSON value against ``expected`` (bool is never a number here)."""
    if expected is bool:
        ok = isinstance(value, bool)
    elif expected is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif expected is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        value = float(value) if ok else value
    else:
        ok = isinstance(value, expected)
    if not ok and expected is float and isinstance(value, float):
        raise BadRequestError(f"el parámetro {name!r} debe ser un número finito, no {value!r}")
    if not ok:
        raise BadRequestError(f"el parámetro {name!r} debe ser de tipo {expected.__name__}, no {value!r}")
    return value


def parse_fault(body: bytes, coins: list[str]) -> tuple[str, float, dict[str, Any]]:
    """Read and check the JSON body of ``POST /_sim/faults``.

    Args:
        body: ``{"name": ..., "duration_s": ..., "params": {...}}``.
        coins: The coins the simulator serves (a ``coin`` parameter must be one).

    Returns:
        ``(name, duration_s, params)`` with the defaults filled in.

    Raises:
        BadRequestError: The body is not a valid fault.
    """
    try:
        spec = json.loads(body or b"{}")
    except ValueError:
        raise BadRequestError("el cuerpo de la petición debe ser un objeto JSON") from None
    if not isinstance(spec, dict):
        raise BadRequestError("el cuerpo de la petición debe ser un objeto JSON")
    return check_fault(spec, coins)


def check_fault(spec: dict[str, Any], coins: list[str] | tuple[str, ...]) -> tuple[str, float, dict[str, Any]]:
    """Check a fault (``{"name": ..., "duration_s": ..., "params": {...}}``) against ``coins``.

    The simulator checks each request with it; :class:`~dataops.source.SimulatorLayer` checks a
    fault with it before sending it, so a wrong one is refused even when the simulator is down.

    Raises:
        BadRequestError: The fault is not valid (its ``kind`` says which way).
    """
    name = spec.get("name")
    if name not in FAULTS:
        raise BadRequestError(f"fallo desconocido {name!r}; elige entre {', '.join(FAULTS)}", "unknown_fault")
    extra = set(spec) - {"name", "duration_s", "params"}
    if extra:
        raise BadRequestError(f"campos desconocidos: {', '.join(sorted(extra))}; usa name, duration_s y params")
    duration = _typed("duration_s", spec.get("duration_s", DEFAULT_FAULT_DURATION_S), float)
    if duration <= 0:
        raise BadRequestError(f"duration_s debe ser > 0, no {duration}")
    given = spec.get("params") or {}
    if not isinstance(given, dict):
        raise BadRequestError("params debe ser un objeto JSON")
    allowed = _FAULT_PARAMS[name]
    unknown = set(given) - set(allowed)
    if unknown:
        choices = ", ".join(allowed) or "ninguno"
        raise BadRequestError(f"parámetros desconocidos para {name}: {', '.join(sorted(unknown))}; admitidos: {choices}")
    params: dict[str, Any] = {}
    for key, (kind, default) in allowed.items():
        if key in given:
            params[key] = _typed(key, given[key], kind)
        elif default is not _MISSING:
            params[key] = default
    _validate(name, params, coins)
    return name, duration, params


def _validate(name: str, params: dict[str, Any], coins: list[str]) -> None:
    if "coin" in params and params["coin"] not in coins:
        raise BadRequestError(
            f"la moneda {params['coin']!r} no se sirve; elige entre {', '.join(coins)}", "unknown_coin"
        )
    if name == "rate_limit" and params.get("retry_after_s", 1) < 0:
        raise BadRequestError("retry_after_s debe ser >= 0")
    if name == "outage" and not 500 <= params["status"] <= 599:
        raise BadRequestError(f"status debe estar entre 500 y 599, no {params['status']}")
    if name == "latency" and not 0 <= params["delay_s"] <= MAX_DELAY_S:
        raise BadRequestError(f"delay_s debe estar entre 0 y {MAX_DELAY_S:g}, no {params['delay_s']}")
    if name == "schema_drift" and params["mode"] not in _DRIFT_MODES:
        raise BadRequestError(f"modo desconocido {params['mode']!r}; elige entre {', '.join(_DRIFT_MODES)}")
    if name == "spike" and params["factor"] <= 0:
        raise BadRequestError(f"factor debe ser > 0, no {params['factor']}")
    if name == "spike" and params.get("change_24h", 0.0) <= -100:
        raise BadRequestError(f"change_24h debe ser > -100 (%), no {params['change_24h']}")


# -- the active faults -------------------------------------------------------


class FaultState:
    """The faults injected so far; each one drops out once its ``ends_at`` has passed."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._counter = 0

    def active(self, now: float) -> list[Fault]:
        """The faults still active at ``now``, oldest first (expired ones are forgotten)."""
        self._faults = [f for f in self._faults if f.ends_at > now]
        return list(self._faults)

    def add(
        self, name: str, params: dict[str, Any], now: float, duration_s: float, snapshot: dict[str, Quote] | None = None
    ) -> Fault:
        """Activate a checked fault (see :func:`parse_fault`) from ``now`` for ``duration_s``."""
        self._counter += 1
        fault = Fault(f"{name}-{self._counter}", name, params, now, now + duration_s, snapshot)
        self._faults.append(fault)
        logger.info("fault %s injected for %.1fs with %s", fault.id, duration_s, params)
        return fault

    def clear(self, now: float) -> int:
        """Clear every fault; returns how many were active."""
        cleared = len(self.active(now))
        self._faults = []
        return cleared

    def remove(self, fault_id: str, now: float) -> bool:
        """Clear one active fault; False when no active fault has that id."""
        active = self.active(now)
        kept = [f for f in active if f.id != fault_id]
        if len(kept) == len(active):
            return False
        self._faults = kept
        return True


# -- effects on an answer ----------------------------------------------------


def refusal(faults: list[Fault], now: float) -> tuple[int, dict[str, Any], dict[str, str]] | None:
    """The error a rate limit or an outage answers instead of the API, if one is active.

    The rate limiter sits in front of the service, so it answers first.

    Returns:
        ``(status, payload, extra_headers)``, or None when the API answers normally.
    """
    rate_limits = [f for f in faults if f.name == "rate_limit"]
    if rate_limits:
        retry = max(
            int(f.params["retry_after_s"]) if "retry_after_s" in f.params else max(1, math.ceil(f.ends_at - now))
            for f in rate_limits
        )
        return 429, {"status": {"error_code": 429, "error_message": RATE_LIMIT_MESSAGE}}, {"Retry-After": str(retry)}
    outages = [f for f in faults if f.name == "outage"]
    if outages:
        status = outages[0].params["status"]
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Server Error"
        return status, {"status": {"error_code": status, "error_message": phrase}}, {}
    return None


def latency_s(faults: list[Fault]) -> float:
    """Seconds the answer is delayed by (the longest active ``latency`` fault)."""
    return max((f.params["delay_s"] for f in faults if f.name == "latency"), default=0.0)


def frozen_quotes(live: dict[str, Quote], faults: list[Fault]) -> dict[str, Quote]:
    """Live quotes, with each frozen coin replaced by its snapshot (the oldest freeze wins)."""
    quotes = dict(live)
    frozen: set[str] = set()
    for freeze in sorted((f for f in faults if f.name == "freeze" and f.snapshot is not None), key=lambda f: f.started_at):
        assert freeze.snapshot is not None
        coins = [freeze.params["coin"]] if "coin" in freeze.params else list(freeze.snapshot)
        for coin in coins:
            if coin in frozen or coin not in freeze.snapshot:
                continue
            frozen.add(coin)
            q = freeze.snapshot[coin]
            updated = live[coin].updated_at if freeze.params["keep_timestamps"] else q.updated_at
            quotes[coin] = Quote(q.price_usd, q.volume_usd, q.change_pct, updated)
    return quotes


def truncate(body: bytes) -> bytes:
    """Cut a JSON body roughly in half so it never parses (``malformed``)."""
    cut = body[: max(1, len(body) // 2)]
    while cut:
        try:
            json.loads(cut)
        except ValueError:
            return cut
        cut = cut[:-1]
    return b"{"


def drift(entry: dict[str, Any], currencies: list[str], mode: str) -> dict[str, Any]:
    """Apply one ``schema_drift`` mode to a coin's entry."""
    drifted: dict[str, Any] = {}
    for key, value in entry.items():
        if key in currencies:
            if mode == "rename":
                drifted[f"{key}_price"] = value
            else:
                drifted[key] = str(value)
        elif key == "last_updated_at" and mode == "retype" and isinstance(value, int):
            drifted[key] = datetime.fromtimestamp(value, UTC).isoformat()
        else:
            drifted[key] = value
    return drifted
