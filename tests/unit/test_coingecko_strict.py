"""CoinGecko's real rules: the simulator's strict mode, the key and Retry-After handling of the
real API's client (``p.source`` in the ``confluent`` profile), and the connector config's key header."""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Iterator
from typing import Any

import pytest

from dataops.automation.declaration import Connector
from dataops.automation.resources import connector_config
from dataops.coingecko import calls_per_minute, plan_for_url
from dataops.config import load_settings
from dataops.errors import ConfigError, DataOpsError
from dataops.simulator import Simulator, main
from dataops.simulator.cli import read_keys
from dataops.simulator.strict import StrictRules, without_keys
from dataops.source.api import CoinGeckoLayer

pytestmark = pytest.mark.unit

T0 = 1_700_000_000.0
KEY, OTHER = "CG-right-key", "CG-other-key"
PRICE = "/api/v3/simple/price"
QUERY = "ids=bitcoin,ethereum&vs_currencies=usd"


class FakeClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def strict_sim(clock: FakeClock, plan: str = "demo", calls_per_min: int = 30) -> Simulator:
    return Simulator(seed=7, clock=clock, strict=StrictRules(frozenset({KEY, OTHER}), plan=plan, calls_per_min=calls_per_min))


def error_of(body: bytes) -> tuple[int, str]:
    status = json.loads(body)["status"]
    return status["error_code"], status["error_message"]


@pytest.fixture()
def settings_env(tmp_path, monkeypatch) -> Any:
    """``load_settings`` without a developer's ``.env`` or ``DATAOPS_*`` variables."""
    for var in [v for v in os.environ if v.startswith("DATAOPS_")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("DATAOPS_ENV_FILE", str(tmp_path / "absent.env"))
    monkeypatch.setenv("DATAOPS_STATE_DIR", str(tmp_path / "state"))
    return load_settings


# ---- the simulator's strict rules ----------------------------------------------------------


def test_without_strict_mode_anyone_is_answered() -> None:
    sim = Simulator(seed=7, clock=FakeClock())
    assert sim.handle("GET", PRICE, QUERY)[0] == 200
    assert json.loads(sim.handle("GET", "/_sim/health")[2])["strict"] is None


@pytest.mark.parametrize("headers, query, status, code, words", [
    ({}, "", 401, 10002, "API Key Missing"),
    ({"x-cg-demo-api-key": "CG-stolen"}, "", 401, 10002, "incorrect API key"),
    ({"x-cg-pro-api-key": KEY}, "", 401, 10010, "change your root URL from api.coingecko.com to pro-api"),
    ({"X-CG-DEMO-API-KEY": KEY}, "", 200, None, ""),
    ({}, f"&x_cg_demo_api_key={KEY}", 200, None, ""),
])  # fmt: skip
def test_demo_host_key_rules(headers: dict[str, str], query: str, status: int, code: int | None, words: str) -> None:
    sim = strict_sim(FakeClock())
    got, answer_headers, body = sim.handle("GET", PRICE, QUERY + query, headers=headers)
    assert got == status
    if code is None:
        assert set(json.loads(body)) == {"bitcoin", "ethereum"}
    else:
        assert error_of(body)[0] == code and words in error_of(body)[1]
        assert json.loads(body)["status"]["timestamp"].startswith("2023-11-14T22:13:20")
        assert answer_headers["Content-Type"] == "application/json"


def test_pro_host_refuses_a_demo_key_with_10011() -> None:
    sim = strict_sim(FakeClock(), plan="pro")
    status, _, body = sim.handle("GET", "/api/v3/ping", headers={"x-cg-demo-api-key": KEY})
    assert status == 401 and error_of(body)[0] == 10011 and "from pro-api.coingecko.com to api.coingecko.com" in error_of(body)[1]
    assert sim.handle("GET", "/api/v3/ping", headers={"x-cg-pro-api-key": KEY})[0] == 200


def test_rate_limit_per_key_with_retry_after_and_coingeckos_body() -> None:
    clock = FakeClock()
    sim = strict_sim(clock, calls_per_min=3)
    right = {"x-cg-demo-api-key": KEY}
    assert [sim.handle("GET", PRICE, QUERY, headers=right)[0] for _ in range(3)] == [200, 200, 200]
    clock.now += 20
    status, headers, body = sim.handle("GET", PRICE, QUERY, headers=right)
    assert status == 429 and headers["Retry-After"] == "40"
    assert error_of(body) == (429, "You've exceeded the Rate Limit. Please visit https://www.coingecko.com/en/api/pricing "
                                   "to subscribe to our API plans for higher rate limits.")  # fmt: skip
    assert sim.handle("GET", PRICE, QUERY, headers={"x-cg-demo-api-key": OTHER})[0] == 200  # a window per key
    clock.now += 39.5
    assert sim.handle("GET", PRICE, QUERY, headers=right)[1]["Retry-After"] == "1"
    clock.now += 0.5
    assert sim.handle("GET", PRICE, QUERY, headers=right)[0] == 200  # a new minute


def test_strict_mode_leaves_the_control_api_open_and_keeps_keys_out_of_the_log() -> None:
    sim = strict_sim(FakeClock())
    sim.handle("GET", PRICE, f"{QUERY}&x_cg_demo_api_key={KEY}")
    sim.handle("GET", PRICE, QUERY, headers={"x-cg-demo-api-key": "CG-stolen"})
    status, _, body = sim.handle("GET", "/_sim/requests")
    log = json.loads(body)
    assert status == 200 and [e["status"] for e in log] == [200, 401]
    assert KEY not in body.decode() and "CG-stolen" not in body.decode() and log[0]["query"] == QUERY
    health = json.loads(sim.handle("GET", "/_sim/health")[2])
    assert health["strict"] == {"plan": "demo", "header": "x-cg-demo-api-key", "calls_per_min": 30, "keys": 2}
    assert KEY not in json.dumps(health)


def test_without_keys_drops_only_the_key_parameters() -> None:
    assert without_keys(f"ids=a,b&x_cg_pro_api_key={KEY}&vs_currencies=usd") == "ids=a,b&vs_currencies=usd"
    assert without_keys(QUERY) == QUERY


def test_strict_rules_refuse_no_key_and_a_bad_plan() -> None:
    with pytest.raises(ValueError, match="al menos una clave"):
        StrictRules(frozenset())
    with pytest.raises(ValueError, match="demo o pro"):
        StrictRules(frozenset({KEY}), plan="enterprise")


def test_cli_strict_needs_keys_and_reads_them_from_a_file_or_the_environment(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.delenv("DATAOPS_SIMULATOR_API_KEYS", raising=False)
    with pytest.raises(SystemExit) as info:
        main(["--strict", "--port", "0"])
    assert info.value.code == 2 and "--strict necesita claves" in capsys.readouterr().err
    keys = tmp_path / "keys"
    keys.write_text(f"{KEY}\n\n {OTHER} \n")
    assert read_keys(str(keys)) == [KEY, OTHER]
    monkeypatch.setenv("DATAOPS_SIMULATOR_API_KEYS", f"{KEY},{OTHER}")
    assert read_keys(None) == [KEY, OTHER]


# ---- the real API's client ----------------------------------------------------------------


@pytest.fixture()
def served() -> Iterator[tuple[Simulator, FakeClock, str]]:
    clock = FakeClock()
    sim = strict_sim(clock, calls_per_min=2)
    server = sim.serve(port=0)
    try:
        yield sim, clock, f"http://127.0.0.1:{server.server_address[1]}/api/v3"
    finally:
        server.shutdown()
        server.server_close()


def client(url: str, key: str | None, clock: FakeClock, waits: list[float], header: str = "x-cg-demo-api-key",
           retries: int = 3, advance: bool = True) -> CoinGeckoLayer:  # fmt: skip
    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if advance:
            clock.now += seconds

    from pydantic import SecretStr

    return CoinGeckoLayer(url, api_key=SecretStr(key) if key else None, key_header=header,
                          coins=["bitcoin", "solana"], timeout=3.0, retries=retries, sleep=sleep)  # fmt: skip


def test_client_sends_the_key_and_waits_out_a_429(served) -> None:
    sim, clock, url = served
    waits: list[float] = []
    api = client(url, KEY, clock, waits)
    assert api.ping() == {"gecko_says": "(V3) To the Moon!"}
    assert list(api.price()["coin_id"]) == ["bitcoin", "solana"]  # the limit (2) is reached here
    clock.now += 15
    assert list(api.price("ethereum")["coin_id"]) == ["ethereum"]  # 429, Retry-After 45, then 200
    assert waits == [45.0]
    statuses = [e["status"] for e in json.loads(sim.handle("GET", "/_sim/requests")[2])]
    assert statuses == [200, 200, 429, 200]


def test_client_gives_up_after_its_retries_in_one_line(served) -> None:
    _, clock, url = served
    waits: list[float] = []
    api = client(url, KEY, clock, waits, retries=2, advance=False)  # the clock stands still: 429 again
    api.ping(), api.ping()
    with pytest.raises(DataOpsError, match="sigue respondiendo 429 .* tras 2 reintento") as info:
        api.price()
    assert waits == [60.0, 60.0] and "\n" not in str(info.value) and "POLL_INTERVAL_S" in str(info.value)


def test_client_does_not_wait_longer_than_its_cap(served) -> None:
    _, clock, url = served
    waits: list[float] = []
    api = client(url, KEY, clock, waits)
    api.max_wait_s = 30.0
    api.ping(), api.ping()
    with pytest.raises(DataOpsError, match="pide esperar 60 s"):
        api.ping()
    assert waits == []


@pytest.mark.parametrize("key, header, words", [
    (None, "x-cg-demo-api-key", "DATAOPS_COINGECKO_API_KEY no está definida"),
    ("CG-stolen", "x-cg-demo-api-key", "rechaza la clave de DATAOPS_COINGECKO_API_KEY"),
    (KEY, "x-cg-pro-api-key", "10010"),
])  # fmt: skip
def test_client_key_errors_are_one_line_naming_the_setting(served, key: str | None, header: str, words: str) -> None:
    _, clock, url = served
    with pytest.raises(ConfigError, match=words) as info:
        client(url, key, clock, [], header=header).price()
    assert "\n" not in str(info.value) and "CG-stolen" not in str(info.value)
    assert "DATAOPS_COINGECKO" in str(info.value)


# ---- the settings and the connector config ----------------------------------------------------


def test_the_key_header_follows_the_url_or_the_plan_setting(settings_env) -> None:
    cloud = dict(profile="confluent", kafka_bootstrap="b:9092", coingecko_api_key="CG-k")
    assert settings_env(**cloud).source_key_header == "x-cg-demo-api-key"
    assert settings_env(**cloud, coingecko_url="https://pro-api.coingecko.com/api/v3").source_key_header == "x-cg-pro-api-key"
    assert settings_env(**cloud, coingecko_plan="pro").source_key_header == "x-cg-pro-api-key"
    assert settings_env(simulator_strict=True, simulator_plan="pro").source_key_header == "x-cg-pro-api-key"
    assert plan_for_url("https://api.coingecko.com/api/v3") == "demo"


def test_connector_config_sends_the_key_in_the_plans_header(settings_env) -> None:
    s = settings_env(profile="confluent", kafka_bootstrap="b:9092", coingecko_api_key="CG-k",
                     coingecko_url="https://pro-api.coingecko.com/api/v3")  # fmt: skip
    spec = Connector(name="c", kind="http_source", url=s.price_url(), topic="t", poll_interval_s=s.poll_interval_s)
    config = connector_config(s, spec)
    assert config["http.api.key"] == "CG-k" and config["http.api.key.header"] == "x-cg-pro-api-key"
    assert config["http.url"].startswith("https://pro-api.coingecko.com/api/v3/simple/price?ids=")
    local = connector_config(settings_env(coingecko_api_key="CG-k"), spec)
    assert "http.api.key" not in local and "http.api.key.header" not in local  # the course's simulator needs none


def test_the_profiles_poll_interval_stays_under_the_free_tier(settings_env) -> None:
    s = settings_env(profile="confluent", kafka_bootstrap="b:9092", coingecko_api_key="CG-k")
    # one call per poll: 60 / 5 s × 1 = 12 calls a minute, under the free tier's 30
    assert s.polls_per_minute == calls_per_minute(s.poll_interval_s) == 12.0 <= s.coingecko_calls_per_min == 30
    s.check_rate_limit()
    fast = settings_env(profile="confluent", kafka_bootstrap="b:9092", poll_interval_s=1.5)
    with pytest.raises(ConfigError, match="POLL_INTERVAL_S=1.5 hace 40 llamadas por minuto.*POLL_INTERVAL_S=2 o más"):
        fast.check_rate_limit()
    spec = Connector(name="c", kind="http_source", url=fast.price_url(), topic="t", poll_interval_s=1.5)
    with pytest.raises(ConfigError, match="llamadas por minuto"):
        connector_config(fast, spec)


def test_the_stack_starts_a_strict_simulator_with_its_keys_in_a_private_file(settings_env) -> None:
    from dataops.source.engine import _simulator_cmd

    s = settings_env(simulator_strict=True, coingecko_api_key=KEY, simulator_calls_per_min=10)
    cmd = _simulator_cmd(s, s.paths)
    assert cmd[cmd.index("--calls-per-min") + 1] == "10" and cmd[cmd.index("--plan") + 1] == "demo"
    keys = cmd[cmd.index("--api-keys-file") + 1]
    assert KEY not in " ".join(cmd) and read_keys(keys) == [KEY]
    assert stat.S_IMODE(os.stat(keys).st_mode) == 0o600
    assert "--strict" not in _simulator_cmd(settings_env(), s.paths) and not os.path.exists(keys)
    with pytest.raises(ConfigError, match="SIMULATOR_STRICT=true y no hay ninguna clave"):
        _simulator_cmd(settings_env(simulator_strict=True), s.paths)


# ---- p.source in the confluent profile, against the strict simulator -----------------------------


def test_p_source_of_the_confluent_profile_against_the_strict_simulator(served, settings_env) -> None:
    import dataops

    sim, clock, url = served  # 2 calls a minute per key
    cloud = dict(profile="confluent", kafka_bootstrap="b:9092", coingecko_url=url, coins="bitcoin,ethereum")
    p = dataops.connect(**cloud, coingecko_api_key=KEY)
    waits: list[float] = []

    def sleep(seconds: float) -> None:  # the simulator's clock moves instead of the test waiting a minute
        waits.append(seconds)
        clock.now += seconds

    p.source._sleep = sleep  # type: ignore[attr-defined]
    frame = p.source.price()
    assert list(frame["coin_id"]) == ["bitcoin", "ethereum"] and (frame["price"] > 0).all()
    for _ in range(4):  # a burst: every other call meets the limit, waits its Retry-After and gets its prices
        assert len(p.source.price()) == 2
    assert waits == [60.0, 60.0]
    deadline = time.monotonic() + 10  # the request log is written after the answer is sent
    while len(statuses := [e["status"] for e in json.loads(sim.handle("GET", "/_sim/requests")[2])]) < 7 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert statuses == [200, 200, 429, 200, 200, 429, 200]

    wrong = dataops.connect(**cloud, coingecko_api_key="CG-stolen")
    with pytest.raises(ConfigError) as info:
        wrong.source.price()
    assert str(info.value) == ("CoinGecko respondió 401: rechaza la clave de DATAOPS_COINGECKO_API_KEY: cópiala de nuevo "
                               "del panel de desarrollador de CoinGecko a .env (DATAOPS_COINGECKO_API_KEY)")  # fmt: skip
    with pytest.raises(ConfigError, match="DATAOPS_COINGECKO_API_KEY no está definida"):
        dataops.connect(**cloud).source.ping()


def test_apply_environment_step_shows_the_arithmetic_and_refuses_a_fast_interval(settings_env) -> None:
    from dataops.automation.checks import environment

    cloud = dict(profile="confluent", kafka_bootstrap="b:9092", kafka_api_key="K", kafka_api_secret="S")
    row = [o for o in environment(settings_env(**cloud)) if o.name == "límite de CoinGecko"]
    assert len(row) == 1 and row[0].ok and "12 llamadas/min de 30 (60 / 5 s × 1 por sondeo)" in row[0].detail
    fast = [o for o in environment(settings_env(**cloud, poll_interval_s=1)) if o.name == "límite de CoinGecko"]
    assert not fast[0].ok and "POLL_INTERVAL_S=2" in fast[0].fix
    assert not [o for o in environment(settings_env()) if o.name == "límite de CoinGecko"]  # the course's simulator: no limit


def test_a_declared_http_check_of_the_prices_api_sends_the_key(served, settings_env) -> None:
    from types import SimpleNamespace

    from dataops.automation.checks import run_check
    from dataops.automation.declaration import Check

    sim, clock, url = served
    check = Check(name="api-precios-responde", kind="http", url=f"{url}/ping")
    cloud = dict(profile="confluent", kafka_bootstrap="b:9092", coingecko_url=url)
    assert run_check(SimpleNamespace(settings=settings_env(**cloud, coingecko_api_key=KEY)), check).ok
    refused = run_check(SimpleNamespace(settings=settings_env(**cloud)), check)
    assert not refused.ok and "HTTP 401" in refused.detail
