"""The column-wise schema check gives each exploded row the verdict the row-by-row validator gives."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from dataops.contract import read_json
from dataops.config import DATA_DIR
from dataops.quality.checks import _json_row
from dataops.quality.schema import failing_rows, validate

pytestmark = pytest.mark.unit

SCHEMA = read_json(DATA_DIR / "schemas" / "exploded_row.json")
GOOD = {"coin_id": "bitcoin", "usd": 65000.0, "usd_market_cap": 1.3e12, "usd_24h_vol": 3e10, "usd_24h_change": -1.5,
        "last_updated_at": 1767225600, "event_time": "2026-01-01T00:00:00+00:00", "processed_at": "2026-01-01T00:00:02+00:00"}  # fmt: skip
POISONED = {
    "price 0": {"usd": 0.0},
    "negative price": {"usd": -3.0},
    "price as text": {"usd": "65000"},
    "price NaN (null where not allowed)": {"usd": math.nan},
    "infinite price": {"usd": math.inf},
    "negative market cap": {"usd_market_cap": -1.0},
    "null market cap (allowed)": {"usd_market_cap": None},
    "null change (allowed)": {"usd_24h_change": None},
    "coin id upper case": {"coin_id": "Bitcoin"},
    "coin id empty": {"coin_id": ""},
    "fractional last_updated_at": {"last_updated_at": 1767225600.5},
    "event time not a date": {"event_time": "ayer"},
    "null processed_at (allowed)": {"processed_at": None},
}


def rows(variants: dict[str, dict]) -> pd.DataFrame:
    return pd.DataFrame([GOOD] + [{**GOOD, **v} for v in variants.values()])


def row_by_row(frame: pd.DataFrame) -> list[bool]:
    return [bool(validate(_json_row(r), SCHEMA)) for r in frame.to_dict("records")]


def test_each_poisoned_row_gets_the_row_by_row_verdict():
    frame = rows(POISONED)
    assert failing_rows(frame, SCHEMA).tolist() == row_by_row(frame)
    assert sum(row_by_row(frame)) == 10  # the three "allowed" nulls and the good row pass


def test_typed_columns_take_the_fast_path_and_agree():
    frame = rows({k: v for k, v in POISONED.items() if "text" not in k})
    frame["event_time"] = pd.to_datetime(frame["event_time"], errors="coerce", utc=True)
    frame = frame.dropna(subset=["event_time"]).reset_index(drop=True)
    assert failing_rows(frame, SCHEMA).tolist() == row_by_row(frame)


def test_a_missing_or_extra_column_fails_every_row():
    assert failing_rows(rows({}).drop(columns="usd"), SCHEMA).all()
    assert failing_rows(rows({}).assign(surprise=1), SCHEMA).all()
    assert not failing_rows(rows({}).assign(poll=1), SCHEMA).any()  # bookkeeping columns are not data
