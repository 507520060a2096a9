"""End-to-end accounting: what the API served against what the table holds, row by row.

The simulator's served log is the ground truth: every ``/simple/price`` answer the connector
got, with its body. :func:`served_rows` turns the good answers into the rows the pipeline
must materialise, and :func:`compare` says which are missing, repeated or changed in the
table, by ``(coin_id, last_updated_at)`` and the price itself.

Example::

    seq0 = p.source.last_seq()
    ...                                          # kills, faults, restarts
    served = served_rows(p.source.served(since=seq0), p.settings)
    result = compare(served, p.iceberg.read(columns=("coin_id", "last_updated_at", "usd")), p.settings)
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from urllib.parse import urlsplit

import pandas as pd

from dataops.config import Settings
from dataops.contract import contract_for

SERVED_ROW_COLUMNS = ["seq", "served_at", "coin_id", "last_updated_at", "price"]


def connector_polls(served: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """The entries of a served log that are the connector's price polls."""
    query = urlsplit(settings.price_url()).query
    return served[(served["path"] == "/api/v3/simple/price") & (served["query"] == query)]


def served_rows(served: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """One row per coin of every good (200, parseable, positive finite price) price poll the
    connector was served: the rows the table must hold, with these prices (a copy per poll at most)."""
    price = contract_for(settings).price
    rows = []
    polls = connector_polls(served, settings)
    for seq, ts, status, body in zip(polls["seq"], polls["ts"], polls["status"], polls["body"]):
        if status != 200:
            continue
        try:
            payload = json.loads(body)
        except (TypeError, ValueError):
            continue
        if not isinstance(payload, dict):
            continue
        for coin, entry in payload.items():
            value = entry.get(price) if isinstance(entry, dict) else None
            stamp = entry.get("last_updated_at") if isinstance(entry, dict) else None
            if isinstance(value, (int, float)) and math.isfinite(value) and value > 0 and isinstance(stamp, int):
                rows.append((int(seq), ts, coin, stamp, float(value)))
    return pd.DataFrame(rows, columns=SERVED_ROW_COLUMNS)


@dataclass(frozen=True)
class Accounting:
    """``lost``: served rows the table lacks; ``repeated``: table rows present more often than polls
    served them (:func:`compare`); ``changed``: rows whose price in the table differs from the served one."""

    expected: int
    lost: pd.DataFrame
    repeated: pd.DataFrame
    changed: pd.DataFrame

    @property
    def exact(self) -> bool:
        return self.lost.empty and self.repeated.empty and self.changed.empty


def compare(served: pd.DataFrame, table: pd.DataFrame, settings: Settings) -> Accounting:
    """The table's rows (``coin_id, last_updated_at, <price>``) against :func:`served_rows`.

    A row is lost when no copy of its ``(coin_id, last_updated_at)`` is in the table, repeated when
    the table has more copies of it than polls served it: two polls served within one tick of
    the API (two in a row after a laptop's sleep) are two records, each accepted once. The price
    of that: a poll re-sent within the same tick after an aborted transaction counts as served
    twice, so a bug that kept both copies would go unseen here (the served log cannot say which
    polls the connector accepted). Only table rows from the oldest served ``last_updated_at`` on
    are judged."""
    price = contract_for(settings).price
    expected = served.drop_duplicates(["coin_id", "last_updated_at"], keep="first")
    if expected.empty:
        empty = pd.DataFrame(columns=SERVED_ROW_COLUMNS)
        return Accounting(0, empty, empty, empty)
    rows = table.rename(columns={price: "price"})[["coin_id", "last_updated_at", "price"]].copy()
    rows["last_updated_at"] = rows["last_updated_at"].astype("int64")
    rows = rows[rows["last_updated_at"] >= int(expected["last_updated_at"].min())]
    counts = rows.groupby(["coin_id", "last_updated_at"]).size().rename("copies").reset_index()
    times = served.groupby(["coin_id", "last_updated_at"]).size().rename("served").reset_index()
    counts = counts.merge(times, on=["coin_id", "last_updated_at"], how="left").fillna({"served": 1})
    repeated = counts[counts["copies"] > counts["served"]].drop(columns="served")
    merged = expected.merge(rows.drop_duplicates(["coin_id", "last_updated_at"]), on=["coin_id", "last_updated_at"],
                            how="left", suffixes=("", "_table"), indicator=True)  # fmt: skip
    lost = merged[merged["_merge"] == "left_only"][SERVED_ROW_COLUMNS]
    found = merged[merged["_merge"] == "both"]
    changed = found[found["price"] != found["price_table"]]
    return Accounting(len(expected), lost.reset_index(drop=True), repeated.reset_index(drop=True),
                      changed[[*SERVED_ROW_COLUMNS, "price_table"]].reset_index(drop=True))  # fmt: skip
