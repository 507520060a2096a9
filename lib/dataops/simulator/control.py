"""The simulator's control API under ``/_sim/``: health, faults, and pages of the served log.

:class:`ControlAPI` is one part of :class:`~dataops.simulator.server.Simulator` (which
inherits it): :meth:`~ControlAPI._control` answers ``/_sim/...`` under the simulator's
lock; :meth:`~ControlAPI._requests` answers ``GET /_sim/requests`` before the lock is
taken, the served log having its own locks.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from dataops.errors import BadRequestError
from dataops.simulator.faults import Fault, FaultState, parse_fault
from dataops.simulator.market import RATES, Market, Quote
from dataops.simulator.outcome import Outcome, json_outcome, not_allowed
from dataops.simulator.served import ServedLog
from dataops.simulator.strict import StrictRules

__all__ = ["CONTROL_PREFIX", "MAX_REQUESTS_LIMIT", "ControlAPI"]

CONTROL_PREFIX = "/_sim"
CONTROL_HEADER = "X-Dataops-Control-Token"  # the header a simulator started with a control token checks
MAX_REQUESTS_LIMIT = 100_000


class ControlAPI:
    """The ``/_sim/`` routes of the simulator: ``health``, ``faults`` (list, inject, clear one
    or all) and ``requests`` (a page of the served log)."""

    # The simulator's state, set by its __init__.
    coins: list[str]
    seed: int
    refresh_s: float
    started_at: float
    _market: Market
    _faults: FaultState
    _log: ServedLog
    strict: StrictRules | None

    def _quotes(self, faults: list[Fault]) -> dict[str, Quote]:
        """The quotes served now, frozen ones held (the simulator's)."""
        raise NotImplementedError

    # -- control API ------------------------------------------------------

    def _control(self, method: str, path: str, query: str, body: bytes, now: float) -> Outcome:
        parts = path.split("/")[2:]  # "/_sim/faults/x" -> ["faults", "x"]
        route = parts[0] if parts else ""
        if route == "health" and len(parts) == 1:
            return json_outcome(200, self._health()) if method == "GET" else not_allowed("GET")
        if route == "faults" and len(parts) == 1:
            if method == "GET":
                return json_outcome(200, [f.to_dict() for f in self._faults.active(now)])
            if method == "POST":
                return json_outcome(201, self._create_fault(body, now).to_dict())
            if method == "DELETE":
                return json_outcome(200, {"cleared": self._faults.clear(now)})
            return not_allowed("GET, POST, DELETE")
        if route == "faults" and len(parts) == 2:
            if method != "DELETE":
                return not_allowed("DELETE")
            if not self._faults.remove(parts[1], now):
                return json_outcome(404, {"error": f"no active fault with id {parts[1]!r}"})
            return json_outcome(200, {"cleared": 1})
        if route == "requests" and len(parts) == 1:
            return not_allowed("GET")  # GET is answered before the lock, in _process
        return json_outcome(404, {"error": f"unknown control path {path}"})

    def _health(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "coins": list(self.coins),
            "currencies": list(RATES),
            "seed": self.seed,
            "refresh_s": self.refresh_s,
            "started_at": self.started_at,
            "served": self._log.served,
            "last_seq": self._log.last_seq,
            "oldest_seq": self._log.oldest_seq,
            "strict": self.strict.describe() if self.strict is not None else None,
        }

    def _create_fault(self, body: bytes, now: float) -> Fault:
        name, duration, params = parse_fault(body, self.coins)
        self._market.advance(now)
        snapshot = self._quotes(self._faults.active(now)) if name == "freeze" else None
        return self._faults.add(name, params, now, duration, snapshot)

    # -- served log -------------------------------------------------------

    def _requests(self, query: str) -> Outcome:
        """A page of the served log; ``X-Oldest-Seq`` says where what is kept begins."""
        params = parse_qs(query)
        values: dict[str, int] = {}
        for name, default, low, high in (("since", 0, 0, None), ("limit", 10_000, 1, MAX_REQUESTS_LIMIT)):
            raw = params.get(name, [str(default)])[0].strip()
            try:
                value = int(raw)
            except ValueError:
                raise BadRequestError(f"{name} debe ser un entero, no {raw!r}") from None
            if value < low or (high is not None and value > high):
                bound = f"entre {low} y {high}" if high is not None else f">= {low}"
                raise BadRequestError(f"{name} debe ser {bound}, no {value}")
            values[name] = value
        oldest = self._log.oldest_seq
        return json_outcome(200, self._log.page(values["since"], values["limit"]), **{"X-Oldest-Seq": str(oldest)})
