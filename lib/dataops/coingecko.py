"""CoinGecko's documented key rules, in one place for the simulator, the settings and the clients.

Two plans, two hosts (https://docs.coingecko.com/docs/setting-up-your-api-key): the free demo
plan answers on ``api.coingecko.com`` and reads its key from the ``x-cg-demo-api-key`` header
(or the ``x_cg_demo_api_key`` query parameter); the paid plans answer on
``pro-api.coingecko.com`` and read ``x-cg-pro-api-key`` / ``x_cg_pro_api_key``. A base module:
the lean simulator imports it without the settings.
"""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = [
    "FREE_TIER_CALLS_PER_MIN",
    "KEY_HEADERS",
    "KEY_PARAMS",
    "PLAN_HOSTS",
    "PLANS",
    "calls_per_minute",
    "plan_for_url",
]

PLANS = ("demo", "pro")
KEY_HEADERS = {"demo": "x-cg-demo-api-key", "pro": "x-cg-pro-api-key"}
KEY_PARAMS = {"demo": "x_cg_demo_api_key", "pro": "x_cg_pro_api_key"}
PLAN_HOSTS = {"demo": "api.coingecko.com", "pro": "pro-api.coingecko.com"}
#: The free (demo) tier's per-minute limit the course plans for: CoinGecko documented "30
#: calls/min" for it for years (its newest table says 100); the stricter figure is the safe side.
FREE_TIER_CALLS_PER_MIN = 30


def plan_for_url(url: str) -> str:
    """``pro`` for a URL on CoinGecko's pro host, ``demo`` for any other."""
    host = (urlsplit(url).hostname or "").lower()
    return "pro" if host == PLAN_HOSTS["pro"] or host.startswith("pro-api.") else "demo"


def calls_per_minute(poll_interval_s: float, calls_per_poll: int = 1) -> float:
    """The calls a poller makes per minute: ``60 / poll_interval_s × calls_per_poll``."""
    return 60.0 / poll_interval_s * calls_per_poll
