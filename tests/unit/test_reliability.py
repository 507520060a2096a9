"""Served rows against the table: lost, repeated and changed rows are each found (no services)."""

from __future__ import annotations

import json

import pandas as pd

from dataops.config import load_settings
from dataops.reliability import compare, served_rows

SETTINGS = load_settings(env_file="/nonexistent")
QUERY = SETTINGS.price_url().split("?", 1)[1]


def served_log(polls: list[tuple[int, int, dict]]) -> pd.DataFrame:
    """(seq, status, body) entries of the connector's price polls, plus one request of another path."""
    rows = [{"seq": seq, "ts": pd.Timestamp(1_700_000_000 + 5 * seq, unit="s", tz="UTC"), "path": "/api/v3/simple/price",
             "query": QUERY, "status": status, "body": json.dumps(body)} for seq, status, body in polls]  # fmt: skip
    rows.append({"seq": 999, "ts": pd.Timestamp.now(tz="UTC"), "path": "/api/v3/ping", "query": "", "status": 200, "body": "{}"})
    return pd.DataFrame(rows)


def poll(tick: int, **prices: float) -> dict:
    return {coin: {"usd": price, "last_updated_at": tick} for coin, price in prices.items()}


SERVED = served_log([
    (1, 200, poll(100, bitcoin=1.0, ethereum=2.0)),
    (2, 200, poll(100, bitcoin=1.0, ethereum=2.0)),       # the same snapshot served again: one or two rows each
    (3, 503, {"error": "outage"}),                          # refused: no rows expected
    (4, 200, poll(105, bitcoin=1.5, ethereum=0.0)),         # a price of 0 is the DLQ's, not the table's
    (5, 200, poll(110, bitcoin=2.0, ethereum=3.0)),
])  # fmt: skip


def table(*rows: tuple[str, int, float]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["coin_id", "last_updated_at", "usd"])


def test_the_served_rows_are_the_good_coins_of_the_good_polls():
    rows = served_rows(SERVED, SETTINGS)
    assert list(zip(rows["seq"], rows["coin_id"], rows["last_updated_at"])) == [
        (1, "bitcoin", 100), (1, "ethereum", 100), (2, "bitcoin", 100), (2, "ethereum", 100), (4, "bitcoin", 105),
        (5, "bitcoin", 110), (5, "ethereum", 110)]  # fmt: skip


def test_an_exact_table_is_exact_and_older_rows_are_not_judged():
    exact = table(("bitcoin", 50, 9.0), ("bitcoin", 50, 9.0),  # before the window: not this run's
                  ("bitcoin", 100, 1.0), ("ethereum", 100, 2.0), ("bitcoin", 105, 1.5), ("bitcoin", 110, 2.0), ("ethereum", 110, 3.0))
    result = compare(served_rows(SERVED, SETTINGS), exact, SETTINGS)
    assert result.exact and result.expected == 5


def test_lost_repeated_and_changed_rows_are_each_reported():
    bad = table(("bitcoin", 100, 1.0), ("ethereum", 100, 2.0), ("ethereum", 100, 2.0), ("ethereum", 100, 2.0),  # 3 > 2 polls
                ("bitcoin", 105, 1.25),                                                 # changed price
                ("bitcoin", 110, 2.0))                                                  # ethereum@110 lost
    result = compare(served_rows(SERVED, SETTINGS), bad, SETTINGS)
    assert not result.exact
    assert list(zip(result.lost["coin_id"], result.lost["last_updated_at"], result.lost["seq"])) == [("ethereum", 110, 5)]
    assert result.repeated.to_dict("records") == [{"coin_id": "ethereum", "last_updated_at": 100, "copies": 3}]
    assert list(zip(result.changed["coin_id"], result.changed["price"], result.changed["price_table"])) == [("bitcoin", 1.5, 1.25)]


def test_a_snapshot_served_by_two_polls_may_be_in_twice_but_a_row_served_once_may_not():
    """Two polls within one tick of the API (two in a row after a laptop's sleep) are two records."""
    twice = table(("bitcoin", 100, 1.0), ("bitcoin", 100, 1.0), ("ethereum", 100, 2.0), ("ethereum", 100, 2.0),
                  ("bitcoin", 105, 1.5), ("bitcoin", 110, 2.0), ("ethereum", 110, 3.0))  # fmt: skip
    assert compare(served_rows(SERVED, SETTINGS), twice, SETTINGS).exact
    repeated = compare(served_rows(SERVED, SETTINGS), table(*twice.itertuples(index=False), ("bitcoin", 105, 1.5)), SETTINGS)
    assert repeated.repeated.to_dict("records") == [{"coin_id": "bitcoin", "last_updated_at": 105, "copies": 2}]
