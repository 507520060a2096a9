"""Inputs of a suite run: raw polls parsed and exploded to one row per coin, rows normalised."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from dataops.quality.schema import _finite_integer, _finite_number, _short
from dataops.contract import RowContract, load_contract


def parse_poll(poll: Any) -> tuple[Any, str | None]:
    """Parse one poll (str, bytes, dict or Kafka ``Record``): ``(value, error)``; error is None when it parses."""
    if hasattr(poll, "value") and not isinstance(poll, (str, bytes, dict)):
        poll = poll.value
    if isinstance(poll, dict):
        return poll, None
    if poll is None:
        return None, "empty record (null value)"
    if isinstance(poll, bytes):
        poll = poll.decode("utf-8", "replace")
    if not isinstance(poll, str):
        return None, f"unsupported poll type {type(poll).__name__}"
    try:
        return json.loads(poll), None
    except json.JSONDecodeError as exc:
        return None, f"unparseable JSON ({exc.msg} at char {exc.pos}): {_short(poll)}"


def explode_polls(polls: Iterable[Any], contract: RowContract | None = None) -> pd.DataFrame:
    """Polls as exploded rows (one per coin per poll) plus ``poll`` (poll index) and
    ``poll_time`` (the Kafka timestamp of a ``Record``, else NaT).

    Unparseable polls and non-object coin entries are skipped (the ``schema`` check reports
    them); a field that is missing or not a number becomes null, so ``completeness`` sees
    renamed and retyped fields. ``event_time`` is derived from ``last_updated_at``.
    """
    contract = contract or load_contract()
    fields = contract.coin_fields
    integers = {c.name for c in contract.columns if c.json_type == "integer"}
    rows: list[dict[str, Any]] = []
    for index, poll in enumerate(polls):
        value, error = parse_poll(poll)
        if error or not isinstance(value, dict):
            continue
        stamp_ms = getattr(poll, "timestamp_ms", None)
        stamp = pd.Timestamp(stamp_ms, unit="ms", tz="UTC") if isinstance(stamp_ms, (int, float)) else pd.NaT
        for coin, entry in value.items():
            if not isinstance(entry, dict):
                continue
            row: dict[str, Any] = {"poll": index, "poll_time": stamp, "coin_id": str(coin)}
            for name in fields:
                item = entry.get(name)
                ok = (_finite_integer if name in integers else _finite_number)(None, item)
                row[name] = item if ok else None
            rows.append(row)
    frame = pd.DataFrame(rows, columns=["poll", "poll_time", "coin_id", *fields])
    frame["poll_time"] = pd.to_datetime(frame["poll_time"], utc=True)
    for name in fields:
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
    frame["last_updated_at"] = frame["last_updated_at"].astype("Int64")
    frame["event_time"] = pd.to_datetime(frame["last_updated_at"].astype("float64"), unit="s", utc=True)
    frame["processed_at"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
    return frame


@dataclass(frozen=True)
class TimedPoll:
    """A raw poll with its Kafka timestamp (what :func:`explode_polls` reads from a ``Record``)."""

    value: Any
    timestamp_ms: int


def _normalise_rows(rows: pd.DataFrame) -> pd.DataFrame:
    out = rows.copy()
    for name in ("event_time", "processed_at"):
        if name in out and not isinstance(out[name].dtype, pd.DatetimeTZDtype):
            try:
                out[name] = pd.to_datetime(out[name], utc=True)
            except (TypeError, ValueError):
                pass  # left as is: the schema check reports it
    return out
