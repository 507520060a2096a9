"""Unit tests of the CoinGecko simulator (pure ``handle()``) and its client."""

from __future__ import annotations

import hashlib
import itertools
import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from dataops.errors import DataOpsError, ServiceUnavailableError, UnknownCoinError, UnknownFaultError
from dataops.simulator import (
    CATALOG,
    DEFAULT_COINS,
    FAULTS,
    KNOWN_COINS,
    RATES,
    Simulator,
    main,
)
from dataops.source import PRICE_COLUMNS, SimulatorLayer
from tests.ports import free_port as _free_port

pytestmark = pytest.mark.unit

T0 = 1_700_000_000.0
ALL = "include_market_cap=true&include_24hr_vol=true&include_24hr_change=true&include_last_updated_at=true"


class FakeClock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sim(clock: FakeClock) -> Simulator:
    return Simulator(seed=42, refresh_s=1.0, clock=clock)


def call(sim: Simulator, path: str, query: str = "") -> tuple[int, dict[str, str], bytes]:
    return sim.handle("GET", path, query)


def price_raw(sim: Simulator, query: str) -> tuple[int, dict[str, str], bytes]:
    return call(sim, "/api/v3/simple/price", query)


def price(sim: Simulator, query: str = f"ids=bitcoin,cardano&vs_currencies=usd&{ALL}") -> dict[str, Any]:
    status, _, body = price_raw(sim, query)
    assert status == 200, body
    return json.loads(body)


def inject(sim: Simulator, name: str, duration_s: float = 30, **params: Any) -> tuple[int, dict[str, Any]]:
    status, _, body = sim.handle(
        "POST", "/_sim/faults", "", json.dumps({"name": name, "duration_s": duration_s, "params": params}).encode()
    )
    return status, json.loads(body)


# -- catalog and construction ----------------------------------------------


def test_catalog_defaults() -> None:
    assert DEFAULT_COINS == ("bitcoin", "ethereum", "binancecoin", "cardano", "solana")
    assert set(DEFAULT_COINS) < set(KNOWN_COINS)
    assert {"ripple", "dogecoin", "polkadot", "litecoin", "chainlink"} <= set(KNOWN_COINS)
    assert CATALOG["bitcoin"].supply == pytest.approx(19.8e6)


def test_unknown_coin_in_constructor_lists_known() -> None:
    with pytest.raises(UnknownCoinError) as err:
        Simulator(coins=["bitcoin", "notacoin"])
    assert "notacoin" in str(err.value)
    assert all(coin in str(err.value) for coin in KNOWN_COINS)


def test_custom_coin_selection(clock: FakeClock) -> None:
    custom = Simulator(coins=["ripple", "dogecoin"], clock=clock)
    body = price(custom, "ids=ripple,dogecoin,bitcoin&vs_currencies=usd")
    assert list(body) == ["ripple", "dogecoin"]
    assert 1.0 < body["ripple"]["usd"] < 5.0
    assert json.loads(call(custom, "/_sim/health")[2])["coins"] == ["ripple", "dogecoin"]


# -- /simple/price shape -----------------------------------------------------


def test_ping(sim: Simulator) -> None:
    status, headers, body = call(sim, "/api/v3/ping")
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"gecko_says": "(V3) To the Moon!"}


def test_minimal_price(sim: Simulator) -> None:
    status, headers, body = price_raw(sim, "ids=bitcoin&vs_currencies=usd")
    assert status == 200 and headers["Content-Type"] == "application/json"
    payload = json.loads(body)
    assert list(payload) == ["bitcoin"] and list(payload["bitcoin"]) == ["usd"]
    assert 50_000 < payload["bitcoin"]["usd"] < 150_000


@pytest.mark.parametrize("cap,vol,change,updated", list(itertools.product([False, True], repeat=4)))
def test_include_flags_shape(sim: Simulator, cap: bool, vol: bool, change: bool, updated: bool) -> None:
    flags = {
        "include_market_cap": cap,
        "include_24hr_vol": vol,
        "include_24hr_change": change,
        "include_last_updated_at": updated,
    }
    query = "ids=bitcoin,ethereum&vs_currencies=usd,eur&" + "&".join(
        f"{k}={str(v).lower()}" for k, v in flags.items()
    )
    payload = price(sim, query)
    expected: list[str] = []
    for cur in ("usd", "eur"):
        expected.append(cur)
        expected += [f"{cur}_market_cap"] if cap else []
        expected += [f"{cur}_24h_vol"] if vol else []
        expected += [f"{cur}_24h_change"] if change else []
    expected += ["last_updated_at"] if updated else []
    assert list(payload) == ["bitcoin", "ethereum"]
    for entry in payload.values():
        assert list(entry) == expected


def test_flags_case_insensitive_and_default_false(sim: Simulator) -> None:
    payload = price(sim, "ids=bitcoin&vs_currencies=usd&include_market_cap=TRUE&include_24hr_vol=True"
                         "&include_24hr_change=yes")
    assert list(payload["bitcoin"]) == ["usd", "usd_market_cap", "usd_24h_vol"]


def test_currencies_fixed_rates_and_unknown_skipped(sim: Simulator) -> None:
    payload = price(sim, f"ids=bitcoin&vs_currencies=jpy,xyz,usd,eur,gbp&{ALL}")
    entry = payload["bitcoin"]
    assert [k for k in entry if "_" not in k] == ["jpy", "usd", "eur", "gbp"]
    assert not any(k.startswith("xyz") for k in entry)
    for cur in ("jpy", "eur", "gbp"):
        assert entry[cur] == pytest.approx(entry["usd"] * RATES[cur])
        assert entry[f"{cur}_market_cap"] == pytest.approx(entry["usd_market_cap"] * RATES[cur])
        assert entry[f"{cur}_24h_change"] == pytest.approx(entry["usd_24h_change"])
    assert price(sim, "ids=bitcoin&vs_currencies=xyz") == {"bitcoin": {}}


def test_market_cap_and_volume_are_realistic(sim: Simulator) -> None:
    payload = price(sim, f"ids={','.join(DEFAULT_COINS)}&vs_currencies=usd&{ALL}")
    for coin, entry in payload.items():
        assert entry["usd_market_cap"] == pytest.approx(entry["usd"] * CATALOG[coin].supply)
        assert 0.003 < entry["usd_24h_vol"] / entry["usd_market_cap"] < 0.3
        assert 0.7 < entry["usd"] / CATALOG[coin].price_usd < 1.4
        assert isinstance(entry["last_updated_at"], int)


def test_unknown_ids_absent_and_spaces_tolerated(sim: Simulator) -> None:
    assert list(price(sim, "ids=nope,%20bitcoin%20,%20solana&vs_currencies=usd")) == ["bitcoin", "solana"]
    assert price(sim, "ids=nope,dogecoin&vs_currencies=usd") == {}  # dogecoin is known but not served


@pytest.mark.parametrize(
    "query,missing",
    [("vs_currencies=usd", "ids"), ("ids=bitcoin", "vs_currencies"), ("ids=&vs_currencies=usd", "ids"), ("", "ids")],
)
def test_missing_parameters_are_400(sim: Simulator, query: str, missing: str) -> None:
    status, headers, body = price_raw(sim, query)
    assert status == 400 and headers["Content-Type"] == "application/json"
    assert missing in json.loads(body)["error"]


def test_precision(sim: Simulator) -> None:
    base = f"ids=bitcoin,cardano&vs_currencies=usd&{ALL}"
    raw = price(sim, base)
    assert price(sim, base + "&precision=full") == raw
    zero = price(sim, base + "&precision=0")
    for coin in raw:
        for key, value in zero[coin].items():
            assert isinstance(value, int)
            assert value == round(raw[coin][key])
    for digits in (2, 5, 18):
        rounded = price(sim, base + f"&precision={digits}")
        for coin in raw:
            for key in ("usd", "usd_market_cap", "usd_24h_vol", "usd_24h_change"):
                assert rounded[coin][key] == round(raw[coin][key], digits)
            assert rounded[coin]["last_updated_at"] == raw[coin]["last_updated_at"]


@pytest.mark.parametrize("bad", ["19", "-1", "abc", "", "2.5"])
def test_invalid_precision_is_400(sim: Simulator, bad: str) -> None:
    status, _, body = price_raw(sim, f"ids=bitcoin&vs_currencies=usd&precision={bad}")
    assert status == 400 and "precision" in json.loads(body)["error"]


def test_other_paths_are_404(sim: Simulator) -> None:
    for path in ("/api/v3/coins/list", "/nothing", "/_sim/nothing"):
        status, headers, body = call(sim, path)
        assert status == 404 and headers["Content-Type"] == "application/json"
        assert "error" in json.loads(body)


# -- market model ------------------------------------------------------------


def test_same_seed_same_clock_same_prices() -> None:
    clocks = [FakeClock(), FakeClock(), FakeClock()]
    sims = [Simulator(seed=s, clock=c) for s, c in zip((7, 7, 8), clocks, strict=True)]
    for step in (0, 1, 5, 600, 3600):
        for c in clocks:
            c.advance(step)
        bodies = [price_raw(s, f"ids=bitcoin,solana&vs_currencies=usd&{ALL}")[2] for s in sims]
        assert bodies[0] == bodies[1]
        assert bodies[0] != bodies[2]


def test_last_updated_at_advances_per_tick(sim: Simulator, clock: FakeClock) -> None:
    first = price(sim)["bitcoin"]
    assert first["last_updated_at"] == int(T0)
    clock.advance(0.5)
    assert price(sim)["bitcoin"] == first  # same tick: same price and timestamp
    clock.advance(0.5)
    second = price(sim)["bitcoin"]
    assert second["last_updated_at"] == int(T0) + 1
    assert second["usd"] != first["usd"]
    clock.advance(7.2)
    assert price(sim)["bitcoin"]["last_updated_at"] == int(T0) + 8


def test_walk_stays_in_a_sane_band(clock: FakeClock) -> None:
    slow = Simulator(refresh_s=600.0, clock=clock)  # 144 ticks a day
    query = f"ids={','.join(DEFAULT_COINS)}&vs_currencies=usd"
    for _ in range(200):  # 200 days, 28,800 ticks
        clock.advance(86_400)
        for coin, entry in price(slow, query).items():
            assert 0.6 < entry["usd"] / CATALOG[coin].price_usd < 1.7, (coin, entry)


def test_huge_catch_up_is_capped(sim: Simulator, clock: FakeClock) -> None:
    clock.advance(10 * 365 * 86_400)
    started = time.perf_counter()
    entry = price(sim)["bitcoin"]
    assert time.perf_counter() - started < 1.0
    assert entry["last_updated_at"] == int(clock.now)
    assert 0.6 < entry["usd"] / CATALOG["bitcoin"].price_usd < 1.7


def test_24h_change_against_one_day_earlier(clock: FakeClock) -> None:
    hourly = Simulator(refresh_s=3600.0, clock=clock)
    prices = []
    for hour in range(30):
        entry = price(hourly)["bitcoin"]
        if hour == 0:
            assert entry["usd_24h_change"] == 0.0
        if 0 < hour <= 24:  # less than a day of history: versus the first price
            assert entry["usd_24h_change"] == pytest.approx((entry["usd"] / prices[0] - 1) * 100)
        if hour > 24:
            assert entry["usd_24h_change"] == pytest.approx((entry["usd"] / prices[hour - 24] - 1) * 100)
        prices.append(entry["usd"])
        clock.advance(3600)


# -- faults ------------------------------------------------------------------


def test_fault_names() -> None:
    assert FAULTS == (
        "rate_limit", "outage", "latency", "malformed", "schema_drift", "freeze", "missing_coin", "spike",
    )  # fmt: skip


def test_rate_limit(sim: Simulator, clock: FakeClock) -> None:
    status, fault = inject(sim, "rate_limit")
    assert status == 201 and fault["name"] == "rate_limit" and fault["ends_at"] == T0 + 30
    status, headers, body = price_raw(sim, "ids=bitcoin&vs_currencies=usd")
    assert status == 429 and headers["Retry-After"] == "30"
    assert json.loads(body)["status"]["error_code"] == 429
    assert "Rate Limit" in json.loads(body)["status"]["error_message"]
    clock.advance(10.5)
    assert call(sim, "/api/v3/ping")[1]["Retry-After"] == "20"
    clock.advance(19.4)
    assert call(sim, "/api/v3/ping")[1]["Retry-After"] == "1"
    assert call(sim, "/_sim/health")[0] == 200  # control API unaffected
    clock.advance(0.2)
    assert call(sim, "/api/v3/ping")[0] == 200


def test_rate_limit_explicit_retry_after(sim: Simulator) -> None:
    inject(sim, "rate_limit", retry_after_s=7)
    assert call(sim, "/api/v3/ping")[1]["Retry-After"] == "7"


def test_outage(sim: Simulator) -> None:
    inject(sim, "outage")
    status, _, body = call(sim, "/api/v3/ping")
    assert status == 503 and json.loads(body)["status"]["error_code"] == 503
    sim.handle("DELETE", "/_sim/faults", "")
    inject(sim, "outage", status=502)
    assert price_raw(sim, "ids=bitcoin&vs_currencies=usd")[0] == 502
    assert inject(sim, "outage", status=404)[0] == 400


def test_latency_reported_not_slept(sim: Simulator) -> None:
    inject(sim, "latency")
    started = time.perf_counter()
    status, headers, body = price_raw(sim, "ids=bitcoin&vs_currencies=usd")
    assert time.perf_counter() - started < 1.0
    assert status == 200 and json.loads(body)["bitcoin"]["usd"] > 0
    assert float(headers["X-Sim-Delay"]) == 3.0
    entry = json.loads(call(sim, "/_sim/requests")[2])[-1]
    assert entry["latency_ms"] >= 3000 and entry["faults"] == ["latency"]
    assert entry["ts"] == pytest.approx(T0 + 3.0)
    inject(sim, "latency", delay_s=0.25)
    assert float(call(sim, "/api/v3/ping")[1]["X-Sim-Delay"]) == 3.0  # the largest active delay wins


def test_malformed(sim: Simulator) -> None:
    good = price_raw(sim, f"ids=bitcoin,ethereum&vs_currencies=usd&{ALL}")[2]
    inject(sim, "malformed")
    for path, query in (("/api/v3/simple/price", f"ids=bitcoin,ethereum&vs_currencies=usd&{ALL}"),
                        ("/api/v3/ping", ""), ("/api/v3/simple/price", "ids=nope&vs_currencies=usd")):
        status, _, body = call(sim, path, query)
        assert status == 200
        with pytest.raises(ValueError):
            json.loads(body)
    body = price_raw(sim, f"ids=bitcoin,ethereum&vs_currencies=usd&{ALL}")[2]
    assert good.startswith(body) and 0.3 < len(body) / len(good) <= 0.5
    assert price_raw(sim, "vs_currencies=usd")[0] == 400  # errors stay intact


def test_schema_drift_rename(sim: Simulator) -> None:
    inject(sim, "schema_drift")
    entry = price(sim, f"ids=bitcoin&vs_currencies=usd,eur&{ALL}")["bitcoin"]
    assert "usd" not in entry and "eur" not in entry
    assert list(entry)[:2] == ["usd_price", "usd_market_cap"]
    assert isinstance(entry["usd_price"], float) and isinstance(entry["last_updated_at"], int)
    assert "eur_price" in entry


def test_schema_drift_retype(sim: Simulator) -> None:
    plain = price(sim, f"ids=bitcoin&vs_currencies=usd&{ALL}")["bitcoin"]
    inject(sim, "schema_drift", mode="retype")
    entry = price(sim, f"ids=bitcoin&vs_currencies=usd&{ALL}")["bitcoin"]
    assert list(entry) == list(plain)
    assert isinstance(entry["usd"], str) and float(entry["usd"]) == plain["usd"]
    assert isinstance(entry["usd_market_cap"], float)
    stamp = datetime.fromisoformat(entry["last_updated_at"])
    assert stamp.timestamp() == plain["last_updated_at"] and stamp.utcoffset() is not None
    assert inject(sim, "schema_drift", mode="shuffle")[0] == 400


def test_freeze_then_resume_from_live_market(clock: FakeClock) -> None:
    twin_clock = FakeClock()
    frozen, twin = Simulator(clock=clock), Simulator(clock=twin_clock)
    query = f"ids=bitcoin,solana&vs_currencies=usd&{ALL}"
    clock.advance(3)
    twin_clock.advance(3)
    before = price_raw(frozen, query)[2]
    inject(frozen, "freeze", duration_s=10)
    for _ in range(9):
        clock.advance(1)
        twin_clock.advance(1)
        assert price_raw(frozen, query)[2] == before
    assert price_raw(twin, query)[2] != before
    clock.advance(1.5)
    twin_clock.advance(1.5)
    after = price_raw(frozen, query)[2]
    assert after != before
    assert after == price_raw(twin, query)[2]  # the walk kept moving underneath
    assert json.loads(after)["bitcoin"]["last_updated_at"] == int(clock.now)


def test_freeze_keep_timestamps(sim: Simulator, clock: FakeClock) -> None:
    before = price(sim)
    inject(sim, "freeze", keep_timestamps=True)
    clock.advance(5)
    during = price(sim)
    for coin in before:
        assert during[coin]["last_updated_at"] == before[coin]["last_updated_at"] + 5
        assert {k: v for k, v in during[coin].items() if k != "last_updated_at"} == {
            k: v for k, v in before[coin].items() if k != "last_updated_at"
        }


def test_freeze_one_coin_while_the_others_move(sim: Simulator, clock: FakeClock) -> None:
    before = price(sim)
    inject(sim, "freeze", coin="cardano")
    clock.advance(5)
    during = price(sim)
    assert during["cardano"] == before["cardano"]  # price and timestamp held
    assert during["bitcoin"] != before["bitcoin"]
    assert inject(sim, "freeze", coin="dogecoin")[0] == 400


def test_missing_coin(sim: Simulator) -> None:
    inject(sim, "missing_coin")
    assert "cardano" not in price(sim, f"ids={','.join(DEFAULT_COINS)}&vs_currencies=usd")
    inject(sim, "missing_coin", coin="bitcoin")
    assert list(price(sim, f"ids={','.join(DEFAULT_COINS)}&vs_currencies=usd")) == [
        "ethereum", "binancecoin", "solana",
    ]  # fmt: skip


@pytest.mark.parametrize("params,coin,factor", [({}, "bitcoin", 1.5), ({"coin": "solana", "factor": 3}, "solana", 3)])
def test_spike(clock: FakeClock, params: dict[str, Any], coin: str, factor: float) -> None:
    spiked, twin = Simulator(clock=clock), Simulator(clock=clock)
    inject(spiked, "spike", **params)
    query = f"ids=bitcoin,solana&vs_currencies=usd,eur&{ALL}"
    got, ref = price(spiked, query), price(twin, query)
    for key in ("usd", "usd_market_cap", "eur", "eur_market_cap"):
        assert got[coin][key] == pytest.approx(ref[coin][key] * factor)
    assert got[coin]["usd_24h_vol"] == ref[coin]["usd_24h_vol"]
    other = "solana" if coin == "bitcoin" else "bitcoin"
    assert got[other] == ref[other]


def test_spike_can_report_a_24h_change(clock: FakeClock) -> None:
    told, twin = Simulator(clock=clock), Simulator(clock=clock)
    inject(told, "spike", coin="ethereum", factor=0.8, change_24h=-20)
    query = f"ids=bitcoin,ethereum&vs_currencies=usd&{ALL}"
    got, ref = price(told, query), price(twin, query)
    assert got["ethereum"]["usd_24h_change"] == -20 and got["ethereum"]["usd"] == pytest.approx(ref["ethereum"]["usd"] * 0.8)
    assert got["bitcoin"] == ref["bitcoin"]
    status, body = inject(told, "spike", coin="ethereum", change_24h=-100)
    assert status == 400 and "change_24h debe ser > -100" in body["error"]


def test_faults_combine(sim: Simulator) -> None:
    inject(sim, "missing_coin", coin="ethereum")
    inject(sim, "schema_drift")
    payload = price(sim, "ids=bitcoin,ethereum&vs_currencies=usd")
    assert payload == {"bitcoin": {"usd_price": payload["bitcoin"]["usd_price"]}}
    entry = json.loads(call(sim, "/_sim/requests")[2])[-1]
    assert entry["faults"] == ["missing_coin", "schema_drift"]


def test_faults_expire_with_the_clock(sim: Simulator, clock: FakeClock) -> None:
    status, fault = inject(sim, "outage", duration_s=5)
    assert status == 201 and fault["started_at"] == T0 and fault["ends_at"] == T0 + 5
    clock.advance(4.9)
    assert call(sim, "/api/v3/ping")[0] == 503
    assert [f["id"] for f in json.loads(call(sim, "/_sim/faults")[2])] == [fault["id"]]
    clock.advance(0.2)
    assert call(sim, "/api/v3/ping")[0] == 200
    assert json.loads(call(sim, "/_sim/faults")[2]) == []


def test_fault_listing_and_clearing(sim: Simulator) -> None:
    _, first = inject(sim, "outage")
    _, second = inject(sim, "spike", coin="ethereum", factor=2.0)
    listed = json.loads(call(sim, "/_sim/faults")[2])
    assert [set(f) for f in listed] == [{"id", "name", "params", "started_at", "ends_at"}] * 2
    assert listed[1]["params"] == {"coin": "ethereum", "factor": 2.0}
    assert listed[0]["params"] == {"status": 503}
    assert sim.handle("DELETE", f"/_sim/faults/{first['id']}", "")[0] == 200
    assert sim.handle("DELETE", f"/_sim/faults/{first['id']}", "")[0] == 404
    assert [f["id"] for f in json.loads(call(sim, "/_sim/faults")[2])] == [second["id"]]
    status, _, body = sim.handle("DELETE", "/_sim/faults", "")
    assert status == 200 and json.loads(body) == {"cleared": 1}
    assert json.loads(call(sim, "/_sim/faults")[2]) == []


def test_unknown_fault_is_400_listing_choices(sim: Simulator) -> None:
    status, body = inject(sim, "meteor")
    assert status == 400 and body["kind"] == "unknown_fault"
    assert all(name in body["error"] for name in FAULTS)


@pytest.mark.parametrize("name", ["missing_coin", "spike"])
@pytest.mark.parametrize("coin", ["notacoin", "dogecoin"])
def test_unknown_or_unserved_coin_is_400(sim: Simulator, name: str, coin: str) -> None:
    status, body = inject(sim, name, coin=coin)
    assert status == 400 and body["kind"] == "unknown_coin"
    assert all(c in body["error"] for c in DEFAULT_COINS)


@pytest.mark.parametrize(
    "payload",
    [
        {"name": "spike", "params": {"factor": "big"}},
        {"name": "spike", "params": {"coin": 3}},
        {"name": "freeze", "params": {"keep_timestamps": "yes"}},
        {"name": "latency", "params": {"delay_s": True}},
        {"name": "rate_limit", "params": {"retry_after_s": 1.5}},
        {"name": "outage", "params": {"status": "503"}},
        {"name": "outage", "params": {"colour": "red"}},
        {"name": "outage", "duration_s": "long"},
        {"name": "outage", "duration_s": 0},
        {"name": "outage", "params": [1]},
        {"name": "spike", "params": {"factor": -1}},
        {"name": "latency", "params": {"delay_s": -1}},
    ],
)
def test_wrong_fault_params_are_400(sim: Simulator, payload: dict[str, Any]) -> None:
    status, _, body = sim.handle("POST", "/_sim/faults", "", json.dumps(payload).encode())
    assert status == 400 and json.loads(body)["kind"] == "invalid_request"
    assert json.loads(call(sim, "/_sim/faults")[2]) == []


def test_invalid_json_fault_body_is_400(sim: Simulator) -> None:
    assert sim.handle("POST", "/_sim/faults", "", b"{not json")[0] == 400
    assert sim.handle("POST", "/_sim/faults", "", b"[]")[0] == 400


# -- served log --------------------------------------------------------------


def test_served_log_entries(sim: Simulator, clock: FakeClock) -> None:
    responses = [call(sim, "/api/v3/ping")]
    call(sim, "/_sim/health")
    sim.handle("GET", "/api/v3/simple/price?ids=bitcoin&vs_currencies=usd")  # query inside the path
    inject(sim, "rate_limit")
    clock.advance(2)
    responses.append(price_raw(sim, "ids=ethereum&vs_currencies=eur"))
    call(sim, "/api/v3/nowhere")
    log = json.loads(call(sim, "/_sim/requests")[2])
    assert [e["seq"] for e in log] == [1, 2, 3, 4]
    price_path = "/api/v3/simple/price"
    assert [e["path"] for e in log] == ["/api/v3/ping", price_path, price_path, "/api/v3/nowhere"]
    assert [e["status"] for e in log] == [200, 200, 429, 429]
    assert log[1]["query"] == "ids=bitcoin&vs_currencies=usd"
    assert log[0]["body"] is None and json.loads(log[1]["body"])["bitcoin"]["usd"] > 0
    assert log[0]["faults"] == [] and log[2]["faults"] == ["rate_limit"]
    assert log[0]["ts"] == T0 and log[2]["ts"] == T0 + 2
    assert log[0]["digest"] == hashlib.sha256(responses[0][2]).hexdigest()
    assert log[2]["digest"] == hashlib.sha256(responses[1][2]).hexdigest()
    assert log[2]["body"] == responses[1][2].decode()
    for entry in log:
        assert set(entry) == {"seq", "ts", "path", "query", "status", "latency_ms", "digest", "faults", "body"}
        assert entry["latency_ms"] >= 0
    assert json.loads(call(sim, "/_sim/health")[2])["served"] == 4
    assert json.loads(call(sim, "/_sim/health")[2])["last_seq"] == 4
    assert [e["seq"] for e in json.loads(call(sim, "/_sim/requests", "since=2")[2])] == [3, 4]
    assert [e["seq"] for e in json.loads(call(sim, "/_sim/requests", "since=1&limit=2")[2])] == [2, 3]
    assert call(sim, "/_sim/requests", "since=abc")[0] == 400
    assert call(sim, "/_sim/requests", "limit=0")[0] == 400


def test_last_seq_is_the_newest_entry_beyond_what_memory_keeps(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from dataops.simulator import served

    monkeypatch.setattr(served, "MAX_LOG_IN_MEMORY", 3)
    log = served.ServedLog(tmp_path / "served.jsonl")
    for _ in range(7):
        log.append(ts=T0, path="/api/v3/ping", query="", status=200, latency_ms=0.1, body=b"{}", faults=[], keep_body=False)
    assert log.last_seq == 7 and [e["seq"] for e in log.page(4, 10)] == [5, 6, 7]  # the oldest ones left memory
    assert [e["seq"] for e in log.page(0, 10)] == [1, 2, 3, 4, 5, 6, 7]  # and are read from the file
    assert served.ServedLog(tmp_path / "served.jsonl").last_seq == 7  # and it continues after a restart


def test_log_file_continues_across_restart(tmp_path: Path, clock: FakeClock) -> None:
    log_path = tmp_path / "sim" / "served.jsonl"
    first = Simulator(log_path=log_path, clock=clock)
    bodies = [price_raw(first, "ids=bitcoin&vs_currencies=usd")[2] for _ in range(3)]
    first.close()
    # A crash mid-line must not break the restart.
    with log_path.open("a") as fh:
        fh.write('{"seq": 99, "ts"')
    second = Simulator(log_path=log_path, clock=clock)
    call(second, "/api/v3/ping")
    second.close()
    lines = log_path.read_text().splitlines()
    entries = [json.loads(line) for line in lines if line.endswith("}")]
    assert [e["seq"] for e in entries] == [1, 2, 3, 4]
    assert [e["digest"] for e in entries[:3]] == [hashlib.sha256(b).hexdigest() for b in bodies]
    assert [e["seq"] for e in json.loads(call(second, "/_sim/requests")[2])] == [1, 2, 3, 4]  # the file survives
    third = Simulator(log_path=log_path, clock=clock)
    call(third, "/api/v3/ping")
    third.close()
    assert json.loads(log_path.read_text().splitlines()[-1])["seq"] == 5


def test_health(sim: Simulator) -> None:
    health = json.loads(call(sim, "/_sim/health")[2])
    assert health["status"] == "ok" and health["coins"] == list(DEFAULT_COINS)
    assert health["seed"] == 42 and health["refresh_s"] == 1.0
    assert health["started_at"] == T0 and health["served"] == 0


def test_cli_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    assert "--refresh-s" in capsys.readouterr().out


# -- over real HTTP ----------------------------------------------------------


def test_client_over_http() -> None:
    sim = Simulator(seed=1)
    server = sim.serve(port=0)
    try:
        client = SimulatorLayer(f"http://127.0.0.1:{server.server_address[1]}", timeout=2.0)
        assert client.ping() == {"gecko_says": "(V3) To the Moon!"}
        assert client.coins() == list(DEFAULT_COINS)

        frame = client.price()
        assert list(frame.columns) == PRICE_COLUMNS and list(frame["coin_id"]) == list(DEFAULT_COINS)
        assert str(frame["last_updated_at"].dt.tz) == "UTC"
        assert (frame["market_cap"] > frame["price"]).all()
        assert list(client.price("solana", vs_currency="eur")["coin_id"]) == ["solana"]
        with pytest.raises(UnknownCoinError, match="bitcoin"):
            client.price(["bitcoin", "dogecoin"])

        status, text = client.raw_price(["bitcoin", "ethereum"], include_market_cap=True, precision=2)
        assert status == 200 and list(json.loads(text)["ethereum"]) == ["usd", "usd_market_cap"]

        with pytest.raises(UnknownFaultError, match="rate_limit"):
            client.inject_fault("meteor")
        with pytest.raises(UnknownCoinError, match="cardano"):
            client.inject_fault("spike", coin="notacoin")
        with pytest.raises(DataOpsError, match="factor"):
            client.inject_fault("spike", factor="big")

        fault = client.inject_fault("latency", duration_s=5, delay_s=0.05)
        assert list(client.faults()["id"]) == [fault["id"]]
        started = time.perf_counter()
        client.ping()
        assert time.perf_counter() - started >= 0.05
        assert client.clear_faults(fault["id"]) == 1
        assert client.clear_faults(fault["id"]) == 0
        client.inject_fault("outage")
        with pytest.raises(DataOpsError, match="503"):
            client.price()
        assert client.clear_faults() == 1

        served = client.served()
        assert list(served["seq"]) == list(range(1, len(served) + 1))
        assert isinstance(served["ts"].dtype, pd.DatetimeTZDtype)
        latency_row = served[served["faults"].map(lambda f: "latency" in f)].iloc[0]
        assert latency_row["latency_ms"] >= 50
        assert list(client.served(since=2, limit=1)["seq"]) == [3]
    finally:
        server.shutdown()
        server.server_close()


def test_client_closed_port_is_service_unavailable() -> None:
    client = SimulatorLayer(f"http://127.0.0.1:{_free_port()}", timeout=1.0)
    with pytest.raises(ServiceUnavailableError) as err:
        client.price()
    assert err.value.__cause__ is None and err.value.__suppress_context__
    assert "el simulador de CoinGecko" in str(err.value) and "\n" not in str(err.value)
