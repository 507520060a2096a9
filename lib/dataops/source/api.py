"""Client of the real CoinGecko API (the ``confluent`` profile's ``p.source``): :class:`CoinGeckoLayer`.

The price calls of :class:`~dataops.source.layer.SimulatorLayer` (``ping``, ``raw_price``,
``price``) against ``DATAOPS_COINGECKO_URL``, with the key CoinGecko asks for in the plan's
header (:mod:`dataops.coingecko`). A 429 is waited out as its ``Retry-After`` says, a bounded
number of times, then one line; a missing, wrong or wrong-plan key is one line naming
``DATAOPS_COINGECKO_API_KEY``. The simulator's control API (faults, served log) is not there.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

import pandas as pd
import requests
from pydantic import SecretStr

from dataops.coingecko import KEY_HEADERS, PLAN_HOSTS
from dataops.errors import ConfigError, DataOpsError, NotOfferedError, UnknownCoinError
from dataops.source.layer import SimulatorLayer

logger = logging.getLogger(__name__)

__all__ = ["KEY_SETTING", "CoinGeckoLayer", "retry_after_s"]

KEY_SETTING = "DATAOPS_COINGECKO_API_KEY"
_NOT_HERE = ("el perfil 'confluent' habla con la API real de CoinGecko, que no tiene {what}",
             "los fallos y el registro servido son del simulador: DATAOPS_PROFILE=local")  # fmt: skip


def retry_after_s(response: requests.Response) -> float | None:
    """The seconds a 429's ``Retry-After`` asks for (None when absent or not a number of seconds)."""
    raw = response.headers.get("Retry-After", "").strip()
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if value >= 0 else None


def _error_code(response: requests.Response) -> int | None:
    """CoinGecko's ``status.error_code`` (also under ``error``), if the body has one."""
    try:
        payload = response.json()
    except ValueError:
        return None
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        payload = payload["error"]
    status = payload.get("status") if isinstance(payload, dict) else None
    code = status.get("error_code") if isinstance(status, dict) else None
    return code if isinstance(code, int) else None


class CoinGeckoLayer(SimulatorLayer):
    """The real CoinGecko API, as the pipeline polls it.

    Args:
        api_url: The API's root, ``/api/v3`` included (``DATAOPS_COINGECKO_URL``).
        api_key: The key (``DATAOPS_COINGECKO_API_KEY``); None sends none.
        key_header: ``x-cg-demo-api-key`` or ``x-cg-pro-api-key``.
        coins: The coins ``price()`` asks for when given none.
        timeout: Seconds to wait for a connection and for each answer.
        retries: How many times a 429 is retried after its ``Retry-After``.
        max_wait_s: The longest ``Retry-After`` waited out; a longer one fails at once.
        sleep: How to wait (a fake one in tests).
    """

    component = "la API de CoinGecko"

    def __init__(self, api_url: str, api_key: SecretStr | None = None, key_header: str = KEY_HEADERS["demo"],
                 coins: list[str] | tuple[str, ...] = (), timeout: float = 10.0, retries: int = 3,
                 max_wait_s: float = 65.0, sleep: Callable[[float], None] = time.sleep) -> None:  # fmt: skip
        super().__init__(api_url, timeout=timeout, api_key=api_key, key_header=key_header)
        self.api_url = self.base_url  # the setting names the API's root itself
        self.default_coins = list(coins)
        self.retries, self.max_wait_s, self._sleep = retries, max_wait_s, sleep

    def __repr__(self) -> str:
        return f"CoinGeckoLayer({self.api_url!r}, header={self.key_header!r})"

    # -- the price API ------------------------------------------------------

    def _answered(self, send: Callable[[], requests.Response]) -> requests.Response:
        """Send; wait out a 429 as its ``Retry-After`` says, at most ``retries`` times; a key error is one line."""
        response = send()
        for attempt in range(1, self.retries + 1):
            if response.status_code != 429:
                break
            wait = retry_after_s(response)
            if wait is None or wait > self.max_wait_s:
                break
            logger.info("CoinGecko answered 429: waiting %.0f s (Retry-After), retry %d of %d", wait, attempt, self.retries)
            self._sleep(wait)
            response = send()
        if response.status_code == 429:
            wait = retry_after_s(response)
            asked = f", y pide esperar {wait:g} s más" if wait is not None else ""
            raise DataOpsError(
                f"CoinGecko sigue respondiendo 429 (límite de llamadas por minuto) tras {self.retries} reintento(s){asked}",
                "espera un minuto y vuelve a llamar; si el conector usa la misma clave, sube DATAOPS_POLL_INTERVAL_S",
            )
        if response.status_code in (401, 403) or _error_code(response) in (10002, 10010, 10011):
            self._key_error(response)
        return response

    def _key_error(self, response: requests.Response) -> NoReturn:
        code = _error_code(response)
        status = response.status_code
        if code == 10010:
            raise ConfigError(f"CoinGecko respondió {status} (10010): la clave va en {self.key_header} y {self.api_url} es la API demo",
                              f"con una clave pro pon DATAOPS_COINGECKO_URL=https://{PLAN_HOSTS['pro']}/api/v3; "
                              "con una demo, DATAOPS_COINGECKO_PLAN=demo")  # fmt: skip
        if code == 10011:
            raise ConfigError(f"CoinGecko respondió {status} (10011): la clave va en {self.key_header} y {self.api_url} es la API pro",
                              f"con una clave demo pon DATAOPS_COINGECKO_URL=https://{PLAN_HOSTS['demo']}/api/v3; "
                              "con una pro, DATAOPS_COINGECKO_PLAN=pro")  # fmt: skip
        if self._api_key is None:
            raise ConfigError(f"CoinGecko respondió {status}: pide una clave de API y {KEY_SETTING} no está definida",
                              f"añade {KEY_SETTING}=tu-clave a .env (mira .env.example); la demo es gratis en coingecko.com/en/api")  # fmt: skip
        raise ConfigError(f"CoinGecko respondió {status}: rechaza la clave de {KEY_SETTING}",
                          f"cópiala de nuevo del panel de desarrollador de CoinGecko a .env ({KEY_SETTING})")  # fmt: skip

    def _catalog(self, wanted: list[str], coins_given: bool, cur: str) -> list[str]:
        """Any coin id may be asked for (the real API knows thousands); none given: ``DATAOPS_COINS``."""
        wanted = wanted if coins_given else list(self.default_coins)
        if not wanted:
            raise UnknownCoinError("no hay monedas que pedir", "pasa `coins=[...]` o define DATAOPS_COINS")
        return wanted

    # -- the simulator's control API is not there ----------------------------

    def _absent(self, what: str) -> NoReturn:
        message, hint = _NOT_HERE
        raise NotOfferedError(message.format(what=what), hint)

    def health(self) -> dict[str, Any]:
        """Not on the real API: the simulator's health (raises :class:`ConfigError`)."""
        self._absent("/_sim/health")

    def coins(self) -> list[str]:
        """The coins ``price()`` asks for when given none (``DATAOPS_COINS``)."""
        return list(self.default_coins)

    def faults(self) -> pd.DataFrame:
        """Not on the real API (raises :class:`ConfigError`)."""
        self._absent("fallos inyectables")

    def inject_fault(self, name: str, duration_s: float = 30, **params: Any) -> dict[str, Any]:
        """Not on the real API (raises :class:`ConfigError`)."""
        self._absent("fallos inyectables")

    def clear_faults(self, fault_id: str | None = None) -> int:
        """Not on the real API (raises :class:`ConfigError`)."""
        self._absent("fallos inyectables")

    def served(self, since: int = 0, limit: int = 10_000) -> pd.DataFrame:
        """Not on the real API (raises :class:`ConfigError`)."""
        self._absent("registro de respuestas servidas")

    def last_seq(self) -> int:
        """Not on the real API (raises :class:`ConfigError`)."""
        self._absent("registro de respuestas servidas")

    def requests(self, last: int = 50) -> pd.DataFrame:
        """Not on the real API (raises :class:`ConfigError`)."""
        self._absent("registro de respuestas servidas")


if TYPE_CHECKING:
    from dataops.source.protocol import Source

    _CHECKED: type[Source] = CoinGeckoLayer
