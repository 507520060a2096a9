"""The check runners, one per check type, and the registry :func:`run_suite` dispatches on.

Every runner takes ``(check, suite, raw, frame, now)`` and returns one :class:`CheckResult`;
``frozen_prices`` is built on :func:`frozen_runs`, which the monitor also calls directly.
"""

from __future__ import annotations

import json
import math
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from dataops.quality.polls import _normalise_rows, parse_poll
from dataops.quality.schema import failing_rows, validate
from dataops.contract import DEFAULT_CURRENCY
from dataops.quality.suite import SAMPLE_SIZE, Check, CheckResult, Suite

def _result(check: Check, passed: bool, failing: int, samples: list[str], detail: str = "") -> CheckResult:
    message = "" if passed else (f"{check.message} ({detail})" if detail else check.message)
    status = "passed" if passed else "failed"
    return CheckResult(check.name, check.dataset, check.type, status, passed, int(failing), " | ".join(samples[:SAMPLE_SIZE]), message)


def _rows_text(frame: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    cols = [c for c in columns if c in frame]
    return [", ".join(f"{c}={row[c]}" for c in cols) for _, row in frame.head(SAMPLE_SIZE).iterrows()]


def _check_schema(check: Check, suite: Suite, raw: list[Any] | None, frame: pd.DataFrame, now: pd.Timestamp) -> CheckResult:
    schema = suite.schemas.get(str(check.params.get("schema")))
    if schema is None:
        raise KeyError(f"el esquema {check.params.get('schema')!r} no está cargado")
    if raw is not None:
        key = json.dumps(schema, sort_keys=True)
        failing, samples = 0, []
        for i, poll in enumerate(raw):
            errors = _poll_errors(poll, schema, key)
            if errors:
                failing += 1
                samples.append(f"poll {i}: {errors[0]}" + (f" (+{len(errors) - 1})" if len(errors) > 1 else ""))
        return _result(check, failing == 0, failing, samples, f"{failing}/{len(raw)} registros inválidos")
    # rows: column by column; only the sample rows are validated one by one, for their messages
    bad = failing_rows(frame, schema)
    shown = frame[bad].head(SAMPLE_SIZE)
    samples = [f"row {i}: {(validate(_json_row(row), schema) or ['?'])[0]}" for i, row in zip(shown.index, shown.to_dict("records"))]
    failing = int(bad.sum())
    return _result(check, failing == 0, failing, samples, f"{failing}/{len(frame)} registros inválidos")


# The monitor judges the same polls of its window pass after pass: a poll's verdict is kept by
# its text (and the schema's), so each poll is parsed and validated once.
_VERDICTS: OrderedDict[tuple[str, str | bytes], list[str]] = OrderedDict()
_VERDICTS_MAX = 5_000


def _poll_errors(poll: Any, schema: Mapping[str, Any], schema_key: str) -> list[str]:
    raw = poll.value if hasattr(poll, "value") and not isinstance(poll, (str, bytes, dict)) else poll
    key = (schema_key, raw) if isinstance(raw, (str, bytes)) else None
    if key is not None and key in _VERDICTS:
        _VERDICTS.move_to_end(key)
        return _VERDICTS[key]
    value, error = parse_poll(raw)
    errors = [error] if error else validate(value, schema)
    if key is not None:
        _VERDICTS[key] = errors
        if len(_VERDICTS) > _VERDICTS_MAX:
            _VERDICTS.popitem(last=False)
    return errors


def _json_row(row: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key in ("poll", "poll_time"):
            continue
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            out[key] = None
        elif isinstance(value, pd.Timestamp | datetime):
            out[key] = value.isoformat()
        elif hasattr(value, "item"):  # numpy scalar
            out[key] = value.item()
        else:
            out[key] = value
    return out


def _check_freshness(check: Check, suite: Suite, raw: list[Any] | None, frame: pd.DataFrame, now: pd.Timestamp) -> CheckResult:
    name = str(check.params.get("field", "event_time"))
    max_age = float(check.params["max_age_s"])
    if name not in frame or frame[name].isna().all():
        return _result(check, False, len(frame), [], f"sin valores de {name}")
    col = frame[name]
    times = col if isinstance(col.dtype, pd.DatetimeTZDtype) else pd.to_datetime(col.astype("float64"), unit="s", utc=True)
    newest = times.max()
    age = (now - newest).total_seconds()
    if age <= max_age:
        return _result(check, True, 0, [])
    return _result(check, False, len(frame), [f"newest {name}={newest.isoformat()}"], f"antigüedad {age:.0f} s > {max_age:.0f} s")


def _check_value_ranges(check: Check, suite: Suite, raw: list[Any] | None, frame: pd.DataFrame, now: pd.Timestamp) -> CheckResult:
    name = str(check.params.get("field", suite.contract.price))
    ranges = {**suite.price_ranges, **{c: (float(r["min"]), float(r["max"])) for c, r in check.params.get("ranges", {}).items()}}
    if name not in frame or not len(frame):
        return _result(check, True, 0, [])
    present = frame[frame[name].notna()]
    codes, coins = pd.factorize(present["coin_id"])  # one lookup per coin, not per row; unknown coin: NaN
    low = np.array([ranges.get(c, (math.nan, math.nan))[0] for c in coins], dtype="float64")[codes]
    high = np.array([ranges.get(c, (math.nan, math.nan))[1] for c in coins], dtype="float64")[codes]
    values = present[name].astype("float64")
    bad = present[~((values >= low) & (values <= high))]  # unknown coins (no range) fail too
    samples = [
        f"{row.coin_id}={row[name]} fuera de {ranges.get(row.coin_id, 'sin rango')}" for _, row in bad.head(SAMPLE_SIZE).iterrows()
    ]
    return _result(check, bad.empty, len(bad), samples, f"{len(bad)}/{len(present)} precios fuera de rango")


def _check_completeness(check: Check, suite: Suite, raw: list[Any] | None, frame: pd.DataFrame, now: pd.Timestamp) -> CheckResult:
    fields = list(check.params.get("fields", suite.contract.names))
    min_pct = float(check.params.get("min_pct", 100))
    present = pd.DataFrame({f: frame[f].notna() if f in frame else False for f in fields}, index=frame.index)
    pct = 100.0 * float(present.to_numpy().mean()) if present.size else 100.0
    incomplete = frame[~present.all(axis=1)] if len(fields) else frame.iloc[0:0]
    samples = [
        f"{row.get('coin_id')}: falta {', '.join(f for f in fields if not present.loc[i, f])}"
        for i, row in incomplete.head(SAMPLE_SIZE).iterrows()
    ]
    details = [f"{pct:.1f}% de campos presentes (mínimo {min_pct:g}%)"]
    ok = pct >= min_pct
    failing = len(incomplete) if not ok else 0
    expected = check.params.get("expected_coins", False)
    coins = list(suite.expected_coins) if expected is True else list(expected or [])
    if coins:
        group = _poll_key(check, frame)
        missing: list[str] = []
        if group in frame:
            # Column-wise: expected coins seen per poll; only the polls shown are looked at one by one.
            seen = frame[frame["coin_id"].isin(coins)].groupby(group, sort=True)["coin_id"].nunique()
            seen = seen.reindex(pd.unique(frame[group]), fill_value=0).sort_index()
            short = seen[seen < len(set(coins))]
            for key in short.index[:SAMPLE_SIZE]:
                lost = sorted(set(coins) - set(frame.loc[frame[group] == key, "coin_id"]))
                missing.append(f"{group} {key}: falta {', '.join(lost)}")
            missing += [f"{group} {key}" for key in short.index[SAMPLE_SIZE:]]
        if missing:
            ok = False
            failing += len(missing)
            samples = missing + samples
            details.append(f"{len(missing)} poll(s) sin todas las monedas")
    return _result(check, ok, failing, samples, "; ".join(details))


def _poll_key(check: Check, frame: pd.DataFrame) -> str:
    """Column that identifies a poll: params.poll_key, else ``poll`` (raw polls), else ``event_time``."""
    return str(check.params.get("poll_key") or ("poll" if "poll" in frame else "event_time"))


def _check_duplicate(check: Check, suite: Suite, raw: list[Any] | None, frame: pd.DataFrame, now: pd.Timestamp) -> CheckResult:
    key = list(check.params.get("key", ["coin_id", "last_updated_at"]))
    absent = [k for k in key if k not in frame]
    if absent:
        return _result(check, False, len(frame), [], f"faltan columnas clave {', '.join(absent)}")
    dup = frame[frame.duplicated(subset=key, keep="first")]
    return _result(check, dup.empty, len(dup), _rows_text(dup, key), f"{len(dup)} filas duplicadas por {'+'.join(key)}")


FROZEN_COLUMNS: list[str] = ["coin_id", "price", "polls", "first", "last", "span_s", "reason", "ongoing"]


def frozen_runs(
    frame: pd.DataFrame,
    min_polls: int = 5,
    price_field: str = DEFAULT_CURRENCY,
    max_static_s: float | None = None,
    timestamp_advances: bool = False,
    order_by: str | None = None,
    time_field: str | None = None,
) -> pd.DataFrame:
    """Runs of a coin's price that stay identical for >= ``min_polls`` polls while something moves.

    Each coin's rows are taken in poll order (``order_by``; default ``poll`` for raw polls,
    else ``processed_at``, else ``event_time``). A run of identical prices is *frozen* when,
    during the run, another coin's price changes (``market_moves``); or its own
    ``last_updated_at`` advances and ``timestamp_advances`` is on; or the run lasts
    ``max_static_s`` of wall-clock time (``time_passes``: the whole market stood still,
    which a live market never does; the clock is ``time_field``, default ``poll_time``
    for raw polls read from Kafka, else ``processed_at``).

    Returns:
        One row per frozen run: ``coin_id, price, polls, first, last`` (order values),
        ``span_s`` (wall-clock, NaN without a clock), ``reason``, ``ongoing`` (the run
        reaches the coin's newest row: still frozen now).
    """
    empty = pd.DataFrame(columns=FROZEN_COLUMNS)
    order = order_by or next((c for c in ("poll", "processed_at", "event_time") if c in frame and frame[c].notna().any()), None)
    if not len(frame) or order is None or price_field not in frame or "coin_id" not in frame:
        return empty
    clock = time_field or next((c for c in ("poll_time", "processed_at") if c in frame and frame[c].notna().any()), None)
    data = frame.dropna(subset=[order, price_field]).sort_values([order], kind="stable")
    key = data[order]
    pos = (key.astype("int64") / 1e9 if isinstance(key.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(key)
           else pd.to_numeric(key, errors="coerce")).astype("float64")  # fmt: skip
    data = data.assign(_pos=pos.to_numpy())
    # Rows of one poll are written a few ms apart: a change counts for another coin's run only
    # when it is at least half a poll interval after the run's first poll.
    gaps = data.groupby("coin_id")["_pos"].diff().dropna()
    half_gap = 0.5 * float(gaps.median()) if len(gaps) else 0.0
    changes: dict[str, np.ndarray] = {}  # coin -> positions where its price changed vs its previous row
    for coin, rows in data.groupby("coin_id", sort=False):
        values = rows[price_field]
        changes[str(coin)] = rows.loc[values.ne(values.shift()) & values.shift().notna(), "_pos"].to_numpy()
    runs: list[dict[str, Any]] = []
    for coin, rows in data.groupby("coin_id", sort=True):
        values = rows[price_field].to_numpy()
        keys = rows[order]  # read lazily: a tz-aware column turned into an array is a slow object array
        positions = rows["_pos"].to_numpy()
        times = pd.to_datetime(rows[clock], utc=True, errors="coerce").dt.tz_localize(None).to_numpy() if clock else None
        stamps = rows["last_updated_at"].to_numpy() if timestamp_advances and "last_updated_at" in rows else None
        # Runs of identical prices, found column-wise; only the long ones are looked at one by one.
        breaks = np.ones(len(values), dtype=bool)
        breaks[1:] = values[1:] != values[:-1]
        starts = np.flatnonzero(breaks)
        ends = np.append(starts[1:], len(values))
        long_runs = (ends - starts) >= min_polls
        for start, i in zip(starts[long_runs].tolist(), ends[long_runs].tolist()):
            length = i - start
            first, last = keys.iloc[start], keys.iloc[i - 1]
            span = float((times[i - 1] - times[start]) / np.timedelta64(1, "s")) if times is not None else math.nan
            lo, hi = positions[start] + half_gap, positions[i - 1] + half_gap
            moved = any(((c > lo) & (c <= hi)).any() for other, c in changes.items() if other != str(coin))
            reason = ""
            if moved:
                reason = "market_moves"
            elif stamps is not None and len(set(pd.Series(stamps[start:i]).dropna())) > 1:
                reason = "timestamp_advances"
            elif max_static_s is not None and not math.isnan(span) and span >= max_static_s:
                reason = "time_passes"
            if reason:
                runs.append(
                    {"coin_id": str(coin), "price": values[start], "polls": length, "first": first, "last": last,
                     "span_s": span, "reason": reason, "ongoing": i == len(values)}
                )  # fmt: skip
    return pd.DataFrame(runs, columns=FROZEN_COLUMNS)


def runs_for_check(check: Check, rows: pd.DataFrame) -> pd.DataFrame:
    """:func:`frozen_runs` with the parameters of a ``frozen_prices`` check (rows normalised first)."""
    params = check.params
    return frozen_runs(
        _normalise_rows(rows),
        min_polls=int(params.get("min_polls", 5)),
        price_field=str(params.get("field", DEFAULT_CURRENCY)),
        max_static_s=float(params["max_static_s"]) if params.get("max_static_s") is not None else None,
        timestamp_advances=bool(params.get("timestamp_advances", False)),
        order_by=params.get("order_by"),
        time_field=params.get("time_field"),
    )


def _check_frozen(check: Check, suite: Suite, raw: list[Any] | None, frame: pd.DataFrame, now: pd.Timestamp) -> CheckResult:
    """A coin's price is identical for >= ``min_polls`` polls while the market moves (see :func:`frozen_runs`)."""
    runs = runs_for_check(check, frame)
    flagged = [
        f"{r.coin_id}={r.price} igual en {r.polls} polls" + (f" ({r.span_s:.0f} s)" if not math.isnan(r.span_s) else "")
        for r in runs.itertuples()
    ]
    return _result(check, runs.empty, int(runs["polls"].sum()) if len(runs) else 0, flagged, f"{len(flagged)} racha(s) de precio congelado")


_RUNNERS: dict[str, Callable[[Check, Suite, list[Any] | None, pd.DataFrame, pd.Timestamp], CheckResult]] = {
    "schema": _check_schema,
    "freshness": _check_freshness,
    "value_ranges": _check_value_ranges,
    "completeness": _check_completeness,
    "duplicate": _check_duplicate,
    "frozen_prices": _check_frozen,
}
