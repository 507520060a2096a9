"""Client of the CoinGecko simulator, as used by the notebooks: :class:`SimulatorLayer`.

Wraps the price API (``/api/v3``) and the control API (``/_sim``) and turns
answers into pandas DataFrames. Connection problems surface as one readable
:class:`~dataops.errors.ServiceUnavailableError`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import pandas as pd
import requests
from pydantic import SecretStr

from dataops.coingecko import KEY_HEADERS
from dataops.errors import (BadRequestError, ConfigError, DataOpsError, HTTPError, ServiceUnavailableError, UnknownCoinError,
                            UnknownFaultError)
from dataops.simulator.control import CONTROL_HEADER
from dataops.simulator.faults import FAULTS, check_fault, fault_params
from dataops.simulator.market import KNOWN_COINS
from dataops.simulator.server import API_PREFIX, PING_PATH, PRICE_PATH

logger = logging.getLogger(__name__)

__all__ = ["FAULT_COLUMNS", "PRICE_COLUMNS", "REQUEST_COLUMNS", "SERVED_COLUMNS", "SimulatorLayer"]

COMPONENT = "el simulador de CoinGecko"
PRICE_COLUMNS = ["coin_id", "price", "market_cap", "vol_24h", "change_24h_pct", "last_updated_at"]
SERVED_COLUMNS = ["seq", "ts", "path", "query", "status", "latency_ms", "digest", "faults", "body"]
FAULT_COLUMNS = ["id", "name", "params", "started_at", "ends_at"]
REQUEST_COLUMNS = ["seq", "ts", "path", "query", "status", "latency_ms", "faults"]


def _csv(values: list[str] | tuple[str, ...] | str) -> str:
    return values if isinstance(values, str) else ",".join(values)


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _error_message(response: requests.Response) -> str:
    """The server's error text (``error`` or CoinGecko's ``status.error_message``)."""
    try:
        payload = response.json()
    except ValueError:
        return response.text[:200] or f"HTTP {response.status_code}"
    if isinstance(payload, dict):
        error = payload.get("error")
        if isinstance(error, str):
            return error
        status = payload.get("status")
        if isinstance(status, dict) and status.get("error_message"):
            return str(status["error_message"])
    return response.text[:200]


def fault_usage(name: str) -> str:
    """What a fault takes, e.g. ``spike admite coin (str, por defecto bitcoin), factor (float, por defecto 1.5), …``."""
    params = [f"{key} ({kind.__name__}{'' if default is None else f', por defecto {default}'})"
              for key, (kind, default) in fault_params(name).items()]  # fmt: skip
    return f"{name} admite {', '.join(params) if params else 'ningún parámetro'}, y duration_s, un número de segundos > 0"


def check_fault_locally(name: str, duration_s: float, params: dict[str, Any]) -> None:
    """Refuse what the simulator would refuse, before any request: an unknown fault, parameter
    or coin, a value of the wrong type, NaN or Infinity (so the answer is the same when it is down)."""
    if not isinstance(name, str) or name not in FAULTS:
        raise UnknownFaultError(f"fallo desconocido {name!r}", f"elige entre {', '.join(FAULTS)}")
    try:
        check_fault({"name": name, "duration_s": duration_s, "params": params}, KNOWN_COINS)
    except BadRequestError as exc:
        if exc.kind == "unknown_coin":
            raise UnknownCoinError(f"fallo {name}: moneda desconocida {params.get('coin')!r}",
                                   f"elige entre {', '.join(KNOWN_COINS)}") from None  # fmt: skip
        raise DataOpsError(f"fallo {name} rechazado: {exc.message}", fault_usage(name)) from None


class SimulatorLayer:
    """Talk to a running simulator.

    Args:
        base_url: Root URL of the simulator (no ``/api/v3`` suffix).
        timeout: Seconds to wait for a connection and for each answer.
        api_key: Key sent to the price API in ``key_header`` (a strict simulator asks for one).
        key_header: ``x-cg-demo-api-key`` or ``x-cg-pro-api-key``.
        control_token: The token a simulator started with one asks for to change it (faults).
    """

    def __init__(self, base_url: str = "http://127.0.0.1:8090", timeout: float = 5.0,
                 api_key: SecretStr | None = None, key_header: str = KEY_HEADERS["demo"],
                 control_token: SecretStr | None = None) -> None:  # fmt: skip
        self.base_url = base_url.rstrip("/")
        self.api_url = f"{self.base_url}{API_PREFIX}"
        self.timeout = timeout
        self._session = requests.Session()
        self._api_key, self.key_header = api_key, key_header
        if control_token is not None:
            self._session.headers[CONTROL_HEADER] = control_token.get_secret_value()

    def __repr__(self) -> str:
        return f"SimulatorLayer({self.base_url!r})"

    def _request(
        self, method: str, path: str, params: str | dict[str, str] | None = None, json_body: Any = None
    ) -> requests.Response:
        try:
            response = self._session.request(method, f"{self.base_url}{path}", params=params, json=json_body, timeout=self.timeout)
        except (requests.ConnectionError, requests.Timeout):
            raise ServiceUnavailableError(COMPONENT, self.base_url) from None
        if response.status_code == 403 and path.startswith("/_sim/"):
            raise ConfigError(f"el simulador de {self.base_url} no acepta tu token de control: no es el tuyo",
                              "usa el de tu sesión (DATAOPS_SIMULATOR_PORT y DATAOPS_SIMULATOR_TOKEN)")  # fmt: skip
        return response

    def _api_get(self, tail: str, params: str | None = None) -> requests.Response:
        """GET ``api_url + tail`` with the key header, when there is a key."""
        headers = {self.key_header: self._api_key.get_secret_value()} if self._api_key is not None else {}
        try:
            return self._session.get(f"{self.api_url}{tail}", params=params, headers=headers, timeout=self.timeout)
        except (requests.ConnectionError, requests.Timeout):
            raise ServiceUnavailableError(self.component, self.api_url) from None

    component = COMPONENT

    def _answered(self, send: Callable[[], requests.Response]) -> requests.Response:
        """One call of the price API; the client of the real API retries a 429 here."""
        return send()

    def _catalog(self, wanted: list[str], coins_given: bool, cur: str) -> list[str]:
        """The coins to ask for, after refusing what the simulator does not serve (one ``health`` call)."""
        unknown = [c for c in wanted if c not in KNOWN_COINS]  # refused even when the simulator is down
        if unknown:
            raise UnknownCoinError(f"monedas desconocidas: {', '.join(map(repr, unknown))}", f"elige entre {', '.join(KNOWN_COINS)}")
        health = self.health()
        served: list[str] = health["coins"]
        if not coins_given:
            wanted = list(served)
        unknown = [c for c in wanted if c not in served]
        if unknown:
            raise UnknownCoinError(f"monedas que el simulador no sirve: {', '.join(unknown)}",
                                   f"elige entre las que sirve: {', '.join(served)}")
        currencies = health.get("currencies")
        if currencies and cur not in currencies:
            raise DataOpsError(f"moneda de cotización desconocida {cur!r}", f"elige entre {', '.join(currencies)}")
        return wanted

    def _control_json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._control(method, path, **kwargs).json()

    def _control(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        response = self._request(method, path, **kwargs)
        if response.status_code >= 400:
            raise HTTPError(COMPONENT, response.status_code, method, path, hint=_error_message(response))
        return response

    # -- price API ----------------------------------------------------------

    def ping(self) -> dict[str, Any]:
        """Call ``/api/v3/ping``.

        Returns:
            ``{"gecko_says": "(V3) To the Moon!"}`` when healthy.

        Raises:
            DataOpsError: The API answered with an error or a broken body (a fault).
        """
        response = self._answered(lambda: self._api_get(PING_PATH.removeprefix(API_PREFIX)))
        if response.status_code != 200:
            raise DataOpsError(f"el ping respondió {response.status_code}: {_error_message(response)}", "revisa los fallos activos con `faults()`")
        try:
            answer: dict[str, Any] = response.json()
        except ValueError:
            raise DataOpsError(f"el ping respondió con un cuerpo que no es JSON válido ({response.text[:80]})", "revisa los fallos activos con `faults()`") from None
        return answer

    def raw_price(
        self, ids: list[str] | str, vs_currencies: list[str] | str = "usd", **params: Any
    ) -> tuple[int, str]:
        """Call ``/api/v3/simple/price`` and return the answer untouched.

        Args:
            ids: Coin ids (list or comma-separated string).
            vs_currencies: Currencies (list or comma-separated string).
            **params: Other query parameters (``include_market_cap=True``, ``precision=2``...);
                booleans become ``"true"``/``"false"``.

        Returns:
            ``(status, body_text)``, whatever the status or the body validity.
        """
        response = self._price_response(ids, vs_currencies, **params)
        return response.status_code, response.text

    def _price_response(self, ids: list[str] | str, vs_currencies: list[str] | str, **params: Any) -> requests.Response:
        query = {"ids": _csv(ids), "vs_currencies": _csv(vs_currencies)}
        query.update({key: _query_value(value) for key, value in params.items()})
        # Keep commas readable in the served log, like the real connector sends them.
        return self._api_get(PRICE_PATH.removeprefix(API_PREFIX), params=urlencode(query, safe=","))

    def price(self, coins: list[str] | str | None = None, vs_currency: str = "usd") -> pd.DataFrame:
        """Current prices as a DataFrame, one row per coin.

        Args:
            coins: Coin ids (default: every coin the simulator serves).
            vs_currency: Quote currency.

        Returns:
            Columns ``coin_id, price, market_cap, vol_24h, change_24h_pct,
            last_updated_at`` (UTC timestamp). A coin missing from the answer
            (``missing_coin`` fault) has no row.

        Raises:
            UnknownCoinError: A coin is not served by the simulator.
            DataOpsError: Unknown currency, or the API answered an error, a broken
                body or an unexpected schema (see the active faults).
        """
        wanted = [] if coins is None else [c.strip().lower() for c in ([coins] if isinstance(coins, str) else coins)]
        wanted = [c for c in dict.fromkeys(wanted) if c]
        cur = vs_currency.strip().lower()
        wanted = self._catalog(wanted, coins is not None, cur)
        response = self._answered(lambda: self._price_response(
            wanted, cur, include_market_cap=True, include_24hr_vol=True, include_24hr_change=True,
            include_last_updated_at=True, precision="full"))  # fmt: skip
        status, text = response.status_code, response.text
        if status != 200:
            hint = "espera y reinténtalo" if status == 429 else "revisa los fallos activos con `faults()`"
            raise DataOpsError(f"simple/price respondió {status}: {text[:120]}", hint)
        try:
            payload = json.loads(text)
            if not isinstance(payload, dict):
                raise ValueError("no es un objeto")
        except ValueError:
            raise DataOpsError("simple/price respondió con un cuerpo que no es JSON válido",
                               "revisa los fallos activos con `faults()`") from None

        rows = []
        for coin in wanted:
            entry = payload.get(coin)
            if entry is None:
                logger.warning("%s is missing from the simple/price answer", coin)
                continue
            try:
                rows.append(
                    {
                        "coin_id": coin,
                        "price": float(entry[cur]),
                        "market_cap": float(entry[f"{cur}_market_cap"]),
                        "vol_24h": float(entry[f"{cur}_24h_vol"]),
                        "change_24h_pct": float(entry[f"{cur}_24h_change"]),
                        "last_updated_at": int(entry["last_updated_at"]),
                    }
                )
            except (KeyError, TypeError, ValueError):
                raise DataOpsError(f"esquema inesperado de simple/price para {coin}: {sorted(entry)}",
                                   "revisa los fallos activos con `faults()`") from None
        frame = pd.DataFrame(rows, columns=PRICE_COLUMNS)
        frame["last_updated_at"] = pd.to_datetime(frame["last_updated_at"], unit="s", utc=True)
        return frame

    def current_prices(self, coins: list[str] | str | None = None, vs_currency: str = "usd") -> pd.DataFrame:
        """Alias of :meth:`price`: the prices the simulator serves now, one row per coin."""
        return self.price(coins, vs_currency)

    # -- control API --------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """``/_sim/health``: status, served coins, seed, refresh_s, started_at, served count."""
        health: dict[str, Any] = self._control_json("GET", "/_sim/health")
        return health

    def coins(self) -> list[str]:
        """Coin ids the simulator serves."""
        return list(self.health()["coins"])

    def inject_fault(self, name: str, duration_s: float = 30, **params: Any) -> dict[str, Any]:
        """Activate a fault for ``duration_s`` seconds.

        Args:
            name: One of :data:`~dataops.simulator.faults.FAULTS`.
            duration_s: Lifetime of the fault.
            **params: Fault parameters (``coin="bitcoin"``, ``factor=2.0``, ``status=502``...).

        Returns:
            The created fault (``id, name, params, started_at, ends_at``).

        Raises:
            UnknownFaultError: Unknown fault name.
            UnknownCoinError: The fault names a coin that is not served.
            DataOpsError: Any other invalid parameter.
        """
        check_fault_locally(name, duration_s, params)
        body = {"name": name, "duration_s": duration_s, "params": params}
        response = self._request("POST", "/_sim/faults", json_body=body)
        if response.status_code == 201:
            fault: dict[str, Any] = response.json()
            return fault
        message = _error_message(response)
        kind = None
        try:
            kind = response.json().get("kind")
        except (ValueError, AttributeError):
            pass
        if kind == "unknown_fault":
            raise UnknownFaultError(message)
        if kind == "unknown_coin":
            raise UnknownCoinError(message)
        raise DataOpsError(f"fallo {name!r} rechazado ({response.status_code})", message)

    def clear_faults(self, fault_id: str | None = None) -> int:
        """Clear one fault (by id) or all of them.

        Returns:
            How many faults were cleared (0 when the id already expired).
        """
        path = "/_sim/faults" if fault_id is None else f"/_sim/faults/{fault_id}"
        response = self._request("DELETE", path)
        if response.status_code == 404 and fault_id is not None:
            logger.info("fault %s is not active (expired or cleared already)", fault_id)
            return 0
        if response.status_code >= 400:
            raise DataOpsError(f"falló la limpieza de fallos ({response.status_code}): {_error_message(response)}", "revisa `dataops status` y vuelve a intentarlo")
        return int(response.json().get("cleared", 0))

    def faults(self) -> pd.DataFrame:
        """Active faults: ``id, name, params, started_at, ends_at`` (UTC timestamps)."""
        frame = pd.DataFrame(self._control_json("GET", "/_sim/faults"), columns=FAULT_COLUMNS)
        for column in ("started_at", "ends_at"):
            frame[column] = pd.to_datetime(frame[column].astype("float64"), unit="s", utc=True)
        return frame

    def served(self, since: int = 0, limit: int = 10_000) -> pd.DataFrame:
        """The simulator's served log (ground truth), oldest first.

        Args:
            since: Only entries with ``seq > since``.
            limit: Maximum number of entries.

        Returns:
            Columns ``seq, ts`` (UTC timestamp), ``path, query, status, latency_ms,
            digest, faults, body``; ``attrs["oldest_seq"]``: the oldest entry the
            simulator still keeps (its log rotates). A ``since`` before it gets the
            entries from there on: the ones in between are no longer kept.
        """
        response = self._control("GET", "/_sim/requests", params={"since": str(since), "limit": str(limit)})
        frame = pd.DataFrame(response.json(), columns=SERVED_COLUMNS)
        frame["ts"] = pd.to_datetime(frame["ts"].astype("float64"), unit="s", utc=True)
        oldest = int(response.headers.get("X-Oldest-Seq", 1))
        frame.attrs["oldest_seq"] = oldest
        if since + 1 < oldest:
            logger.info("served log asked from seq %d, but it keeps seq %d on (older ones rotated away)", since + 1, oldest)
        return frame

    def last_seq(self) -> int:
        """The ``seq`` of the newest answer in the served log (0 when there is none), from the
        simulator's health: no page of the log (capped at ``limit`` entries) is read."""
        return int(self.health().get("last_seq", 0))

    def requests(self, last: int = 50) -> pd.DataFrame:
        """The ``last`` requests the simulator answered, newest first (a view of :meth:`served`).

        Returns:
            Columns ``seq, ts`` (UTC timestamp), ``path, query, status, latency_ms, faults``
            (names of the faults that shaped the answer).
        """
        if last < 1:
            raise DataOpsError(f"last debe ser >= 1, no {last}", "pide al menos una petición")
        frame = self.served(since=max(0, self.last_seq() - last))
        frame = frame.sort_values("seq", ascending=False).head(last).reset_index(drop=True)
        return frame[REQUEST_COLUMNS]


if TYPE_CHECKING:  # mypy checks the class against the protocol the Pipeline returns it as
    from dataops.source.protocol import Source

    _CHECKED: type[Source] = SimulatorLayer
